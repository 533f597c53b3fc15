import os
import subprocess
import sys

from lionlora.cli import COMMAND_MODULES, build_parser, main


def run_cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "lionlora", *args], capture_output=True, text=True, cwd=cwd, env=env)


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


def test_quiet_disables_progress_bars(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}  # conftest sets it
    args = [
        "scene",
        "synth",
        "--frames",
        "3",
        "--width",
        "160",
        "--height",
        "96",
        "--set",
        "downsamples=[2]",
        "--points",
        "200",
        "--boxes",
        "1",
    ]
    loud = run_cli(*args, "--out", str(tmp_path / "loud"), env=env)
    assert loud.returncode == 0 and "%|" in loud.stderr  # progress bar shown by default
    out = run_cli("-q", *args, "--out", str(tmp_path / "s"), env=env)
    assert out.returncode == 0, out.stderr
    assert "%|" not in out.stderr
    # outputs get the usual permissions, not mkstemp's 0600
    mode = (tmp_path / "s" / "transforms.json").stat().st_mode & 0o777
    assert mode & 0o044 == 0o044
