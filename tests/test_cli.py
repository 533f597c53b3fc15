import subprocess
import sys

from lionlora.cli import COMMAND_MODULES, build_parser, main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lionlora", *args], capture_output=True, text=True, cwd=cwd)


def test_help_lists_every_subcommand():
    out = run_cli("--help")
    assert out.returncode == 0
    names = list(build_parser()._subparsers._group_actions[0].choices)
    assert len(names) >= len(COMMAND_MODULES)
    for name in names:
        assert name in out.stdout
        sub = run_cli(name, "--help")
        assert sub.returncode == 0, sub.stderr


def test_project_error_is_one_line_and_exit_1(tmp_path):
    out = run_cli("scene", "check", "--scene", str(tmp_path / "nowhere"))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "nowhere" in lines[0] and "transforms.json" in lines[0]
    assert "Traceback" not in out.stderr


def test_config_error_from_cli(tmp_path, capsys):
    assert main(["scene", "synth", "--out", str(tmp_path / "s"), "--set", "frames=1"]) == 1
    err = capsys.readouterr().err
    assert "frames" in err and "at least 3" in err
    assert main(["scene", "synth", "--out", str(tmp_path / "s"), "--set", "colour=red"]) == 1
    assert "unknown option" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_scene_check_prints_summary(scene_dir, capsys):
    assert main(["scene", "check", "--scene", str(scene_dir), "--downsample", "4"]) == 0
    out = capsys.readouterr().out
    assert "images_4 240x135" in out
