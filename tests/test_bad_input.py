"""Bad input (issue 14, item 3): every case is a named one-line error (exit 1) that leaves no output.

Each case drives the real command line (``lionlora.cli.main``, in-process; in a subprocess where
the check is about what reaches the terminal) and checks the exit status, that stderr holds one
``lionlora COMMAND: error: ...`` line naming the problem and no traceback, and that none of the
command's outputs exists afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lionlora.cli import main
from lionlora.geometry import Intrinsics
from lionlora.io.cameras_json import write_cameras
from lionlora.io.video import write_image, write_video
from lionlora.pipelines.trajectories import primitive_trajectory

UNWRITABLE = Path("/proc/lionlora-test/out")  # mkdir under /proc fails even for root


def camera_clip(folder: Path, frames: int = 17, video_frames: int | None = None, size=(24, 32)) -> Path:
    """A clip folder: ``frames`` cameras of 32x24 pixels (landscape) and a noise video of ``size`` (h, w)."""
    traj = primitive_trajectory("orbit_left", np.eye(4), Intrinsics.from_fov(60, 32, 24), frames, 2.0)
    rng = np.random.default_rng(0)
    video = rng.integers(0, 255, (video_frames or frames, *size, 3), dtype=np.uint8)
    write_video(folder / "clip.mp4", video, fps=8)
    write_cameras(folder / "cameras.json", traj)
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_model_dir) -> dict[str, Path]:
    """Small good and bad inputs shared by the cases (created once; never modified)."""
    import torch
    from diffusers import CogVideoXTransformer3DModel

    from lionlora.lora.config import AdapterConfig
    from lionlora.lora.io import save_adapter
    from lionlora.lora.lion import LionLoRA
    from lionlora.pipelines.gaussians.ply import property_names
    from lionlora.pipelines.synth import SynthConfig, synth_scene

    root = tmp_path_factory.mktemp("bad_input")
    lion = LionLoRA(CogVideoXTransformer3DModel.from_pretrained(tiny_model_dir / "transformer"))
    for name in ("pan", "tilt", "nan"):
        lion.add_adapter(AdapterConfig(name=name, rank=2, s_min=0.25, fourier_freqs=2))
        for p in lion.adapter_parameters(name).values():
            p.data = torch.full(p.shape, 0.01)
    next(iter(lion.adapter_parameters("nan").values())).data[0, 0] = float("nan")
    for name in ("pan", "tilt", "nan"):
        save_adapter(lion, name, root / "lora" / name)
    y, x = np.mgrid[0:32, 0:48]
    write_image(root / "first.png", np.stack([x * 5, y * 7, x + y], axis=-1).astype(np.uint8))
    camera_clip(root / "clips" / "good")
    camera_clip(root / "clips" / "portrait", size=(32, 24))  # video 24 wide, 32 high; cameras 32x24
    camera_clip(root / "clips" / "count", frames=17, video_frames=21)
    (root / "empty.csv").write_bytes(b"")
    (root / "a_file").write_text("not a folder\n")
    (root / "a_folder").mkdir()
    header = ["ply", "format binary_little_endian 1.0", "element vertex 0"]
    header += [f"property float {p}" for p in property_names(0)] + ["end_header"]
    (root / "empty.ply").write_bytes(("\n".join(header) + "\n").encode())
    pd.DataFrame({"video": ["a.mp4", "b.mp4"], "scale": [0.5, 1.5]}).to_csv(root / "motion_s.csv", index=False)
    scene = synth_scene(
        root / "scene", SynthConfig(frames=3, width=160, height=96, points=200, boxes=1, downsamples=[2])
    )
    return {"root": root, "model": tiny_model_dir, "lora": root / "lora", "image": root / "first.png", "scene": scene}


def run_main(capsys, *argv: str) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def _batch(i, *videos):
    """``generate --video ...`` for each list of KEY=VALUE fields (image and prompt shared)."""
    argv = ["-q", "generate", "--model", i["model"], "--image", i["image"], "--prompt", "x", "--steps", "1"]
    return argv + [a for fields in videos for a in ("--video", *fields)]


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    lines = [line for line in err.strip().splitlines() if line.startswith("lionlora ")]
    assert code == 1, err
    assert "Traceback" not in err, err
    assert len(lines) == 1 and ": error: " in lines[0], err
    for word in words:
        assert word in lines[0], (word, lines[0])


def _gen(i, *extra, out="gen/clip.mp4", lora="pan=lora/pan:0.5"):
    return [
        "-q",
        "generate",
        "--model",
        i["model"],
        "--image",
        i["image"],
        "--prompt",
        "x",
        "--lora",
        lora.replace("lora/", f"{i['lora']}/"),
        "--steps",
        "1",
        "--out",
        i["tmp"] / out,
        *extra,
    ]


# id -> (argv builder, words the error line must hold, outputs that must not exist)
CASES = {
    # silent wrong results before
    "adapter_with_nan_weight": (lambda i: _gen(i, lora="nan=lora/nan:0.5"), ["nan", "finite weights"], ["gen"]),
    "portrait_video_landscape_cameras": (
        lambda i: [
            "eval",
            "camera",
            "--video",
            i["root"] / "clips/portrait/clip.mp4",
            "--gt",
            i["root"] / "clips/portrait/cameras.json",
            "--out",
            i["tmp"] / "cam/r.json",
        ],
        ["w/h", "24x32", "32x24"],
        ["cam"],
    ),
    "pairs_portrait_clip": (
        lambda i: [
            "pairs",
            "--out",
            i["tmp"] / "p",
            "--clips",
            i["root"] / "clips/portrait",
            "--camera-frames",
            "17",
            "--sample-frames",
            "5",
        ],
        ["w/h", "portrait"],
        ["p"],
    ),
    "pairs_camera_count": (
        lambda i: [
            "pairs",
            "--out",
            i["tmp"] / "p",
            "--clips",
            i["root"] / "clips/count",
            "--camera-frames",
            "17",
            "--sample-frames",
            "5",
        ],
        ["one camera per frame", "(21)", "got 17"],
        ["p"],
    ),
    "vanilla_fusion_and_adapter_scale": (
        lambda i: _gen(i, "--vanilla-fusion", "--adapter-scale"),
        ["one baseline at a time"],
        ["gen"],
    ),
    "generate_height_0": (lambda i: _gen(i, "--height", "0"), ["height", "native"], ["gen"]),
    "generate_width_0": (lambda i: _gen(i, "--width", "0"), ["width", "native"], ["gen"]),
    "train_frames_0": (
        lambda i: (
            ["train", "--model", i["model"], "--manifest", "m.csv", "--lora", "pan", "--out", i["tmp"] / "t"]
            + ["--frames", "0"]
        ),
        ["frames", "native"],
        ["t"],
    ),
    "analyze_one_adapter": (
        lambda i: (
            ["analyze", "--model", i["model"], "--lora", f"pan={i['lora']}/pan"]
            + ["--image", i["image"], "--out", i["tmp"] / "a"]
        ),
        ["at least two adapters"],
        ["a"],
    ),
    "analyze_same_name_twice": (
        lambda i: (
            ["analyze", "--model", i["model"], "--lora", f"pan={i['lora']}/pan", "--lora", f"pan={i['lora']}/pan"]
            + ["--image", i["image"], "--out", i["tmp"] / "a"]
        ),
        ["each adapter once", "pan"],
        ["a"],
    ),
    "trajectory_fov_180": (
        lambda i: (
            ["trajectory", "--primitive", "pan_left", "--frames", "9", "--median-depth", "2"]
            + ["--fov-x", "180", "--out", i["tmp"] / "t.json"]
        ),
        ["fov_x", "(0, 180)"],
        ["t.json"],
    ),
    "trajectory_fov_0": (
        lambda i: (
            ["trajectory", "--primitive", "pan_left", "--frames", "9", "--median-depth", "2"]
            + ["--fov-x", "0", "--out", i["tmp"] / "t.json"]
        ),
        ["fov_x"],
        ["t.json"],
    ),
    "render_crf_99": (
        lambda i: (
            ["render", "--splat", "x.ply", "--scene", "s", "--primitive", "pan_left", "--crf", "99"]
            + ["--out", i["tmp"] / "r"]
        ),
        ["crf", "[0, 51]", "99"],
        ["r"],
    ),
    "eval_motion_s_above_1": (
        lambda i: ["eval", "motion", "--manifest", i["root"] / "motion_s.csv", "--out", i["tmp"] / "m/r.json"],
        ["scale (row 2)", "(0, 1]", "1.5"],
        ["m"],
    ),
    "eval_camera_min_registered_above_frames": (
        lambda i: (
            ["eval", "camera", "--video", i["root"] / "clips/good/clip.mp4"]
            + [
                "--gt",
                i["root"] / "clips/good/cameras.json",
                "--min-registered",
                "18",
                "--out",
                i["tmp"] / "cam/r.json",
            ]
        ),
        ["min_registered", "17 frames", "18"],
        ["cam"],
    ),
    # tracebacks before
    "unwritable_trajectory": (
        lambda i: (
            ["trajectory", "--primitive", "pan_left", "--frames", "9", "--median-depth", "2"]
            + ["--out", UNWRITABLE / "t.json"]
        ),
        [str(UNWRITABLE / "t.json"), "cannot write"],
        [],
    ),
    "unwritable_scene_synth": (
        lambda i: ["scene", "synth", "--frames", "3", "--out", UNWRITABLE],
        [str(UNWRITABLE), "cannot write"],
        [],
    ),
    "unwritable_demo_model": (lambda i: ["demo-model", "--out", UNWRITABLE], [str(UNWRITABLE)], []),
    "unwritable_i3d_init": (lambda i: ["eval", "i3d-init", "--out", UNWRITABLE / "i3d.pt"], [str(UNWRITABLE)], []),
    "file_as_parent_folder": (
        lambda i: ["eval", "i3d-init", "--out", i["root"] / "a_file/i3d.pt"],
        ["a_file is a file, not a folder"],
        [],
    ),
    "folder_where_file_expected": (
        lambda i: (
            ["trajectory", "--primitive", "pan_left", "--frames", "9", "--median-depth", "2"]
            + ["--out", i["root"] / "a_folder"]
        ),
        ["a_folder", "existing folder is in the way"],
        [],
    ),
    "file_where_folder_expected": (
        lambda i: ["scene", "synth", "--frames", "3", "--out", i["root"] / "a_file"],
        ["a_file", "existing file is in the way"],
        [],
    ),
    "pairs_empty_webvideo_csv": (
        lambda i: ["pairs", "--out", i["tmp"] / "p", "--webvideos", i["root"] / "empty.csv"],
        ["empty.csv", "empty file"],
        ["p"],
    ),
    "train_empty_manifest": (
        lambda i: (
            ["train", "--model", "no-model", "--manifest", i["root"] / "empty.csv", "--lora", "pan"]
            + ["--out", i["tmp"] / "t"]
        ),
        ["empty.csv", "empty file"],
        ["t"],
    ),
    "ply_without_vertices": (
        lambda i: (
            ["render", "--splat", i["root"] / "empty.ply", "--scene", i["scene"]]
            + ["--primitive", "pan_left", "--out", i["tmp"] / "r"]
        ),
        ["empty.ply", "at least one Gaussian"],
        ["r"],
    ),
    "weight_nan": (lambda i: _gen(i, "--weight", "pan=nan"), ["--weight", "pan", "finite"], ["gen"]),
    # inputs before the model: the model folder does not exist, the input error comes first
    "generate_missing_image": (
        lambda i: (
            ["generate", "--model", i["tmp"] / "no-model", "--image", i["tmp"] / "none.png", "--prompt", "x"]
            + ["--out", i["tmp"] / "gen/clip.mp4"]
        ),
        ["none.png"],
        ["gen"],
    ),
    "generate_without_image": (
        lambda i: ["generate", "--model", i["model"], "--prompt", "x", "--out", i["tmp"] / "gen/clip.mp4"],
        ["--image", "(or --video)"],
        ["gen"],
    ),
    "video_with_out": (lambda i: _gen(i, "--video", f"out={i['tmp']}/gen/b.mp4"), ["--video", "--out"], ["gen"]),
    "video_unknown_key": (
        lambda i: _batch(i, [f"out={i['tmp']}/gen/a.mp4", "colour=red"]),
        ["--video", "colour=red", "KEY=VALUE"],
        ["gen"],
    ),
    "video_without_out": (lambda i: _batch(i, [f"image={i['image']}"]), ["--video", "out"], ["gen"]),
    "video_same_out_twice": (
        lambda i: _batch(i, [f"out={i['tmp']}/gen/a.mp4"], [f"out={i['tmp']}/gen/a.mp4"]),
        ["--video", "a different output for every video"],
        ["gen"],
    ),
    "video_cameras_twice_in_one_folder": (
        lambda i: _batch(
            i,
            [f"out={i['tmp']}/gen/a.mp4", f"cameras={i['root']}/clips/good/cameras.json"],
            [f"out={i['tmp']}/gen/b.mp4", f"cameras={i['root']}/clips/good/cameras.json"],
        ),
        ["--video", "a folder of its own for each video with cameras"],
        ["gen"],
    ),
    # every video's inputs are read before the first is generated: nothing of the first is written
    "video_second_image_missing": (
        lambda i: _batch(i, [f"out={i['tmp']}/gen/a.mp4"], [f"out={i['tmp']}/gen/b.mp4", f"image={i['tmp']}/none.png"]),
        ["none.png"],
        ["gen"],
    ),
    "video_one_name_two_files": (
        lambda i: _batch(
            i,
            [f"out={i['tmp']}/gen/a.mp4", f"lora=pan={i['lora']}/pan:0.5"],
            [f"out={i['tmp']}/gen/b.mp4", f"lora=pan={i['tmp']}/other:0.5"],
        ),
        ["--video", "pan", "one adapter file per NAME"],
        ["gen"],
    ),
    "train_missing_manifest": (
        lambda i: (
            ["train", "--model", i["tmp"] / "no-model", "--manifest", i["tmp"] / "none.csv", "--lora", "pan"]
            + ["--out", i["tmp"] / "t"]
        ),
        ["none.csv", "pairs manifest"],
        ["t"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_named_line_and_no_output(case, inputs, tmp_path, capsys):
    argv, words, outputs = CASES[case]
    code, err = run_main(capsys, *argv({**inputs, "tmp": tmp_path}))
    assert_one_line_error(code, err, *words)
    for name in outputs:
        assert not (tmp_path / name).exists(), name


def test_generate_reads_cameras_before_writing_the_clip(inputs, tmp_path, capsys):
    """A bad --cameras used to fail after clip.mp4 was written: now nothing is written."""
    (tmp_path / "cams.json").write_text("{not json")
    code, err = run_main(capsys, *_gen({**inputs, "tmp": tmp_path}, "--cameras", tmp_path / "cams.json"))
    assert_one_line_error(code, err, "cams.json", "JSON")
    assert not (tmp_path / "gen").exists()


def test_eval_camera_with_a_folder_as_out_leaves_no_cameras(inputs, tmp_path, capsys):
    out = tmp_path / "r.json"
    out.mkdir()
    clip = inputs["root"] / "clips/good"
    code, err = run_main(
        capsys, "eval", "camera", "--video", clip / "clip.mp4", "--gt", clip / "cameras.json", "--out", out
    )
    assert_one_line_error(code, err, "r.json", "existing folder is in the way")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"] and not any(out.iterdir())


def test_eval_fvd_with_a_folder_as_out_leaves_no_features(tmp_path):
    from lionlora.errors import OutputError
    from lionlora.eval.quality.config import FvdConfig
    from lionlora.eval.quality.fvd import compute_fvd

    out = tmp_path / "fvd.json"
    out.mkdir()
    with pytest.raises(OutputError, match="existing folder is in the way"):
        compute_fvd(tmp_path / "real", tmp_path / "fake", FvdConfig(i3d=tmp_path / "none.pt"), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fvd.json"]


def test_linearity_that_cannot_be_fitted_writes_nothing(tmp_path, capsys):
    """Three videos at one S: no correlation. The per-video CSV used to be written before the error."""
    traj = primitive_trajectory("dolly_in", np.eye(4), Intrinsics.from_fov(60, 32, 24), 5, 2.0)
    for k in range(3):
        write_cameras(tmp_path / f"c{k}.json", traj)
    pd.DataFrame({"camera": [f"c{k}.json" for k in range(3)], "scale": [0.5] * 3}).to_csv(
        tmp_path / "m.csv", index=False
    )
    rng = np.random.default_rng(0)
    for k in range(3):
        write_video(tmp_path / f"v{k}.mp4", rng.integers(0, 255, (4, 16, 16, 3), dtype=np.uint8), fps=8)
    pd.DataFrame({"video": [f"v{k}.mp4" for k in range(3)], "scale": [0.5] * 3}).to_csv(tmp_path / "v.csv", index=False)
    for command, manifest in (("camera-linearity", "m.csv"), ("motion", "v.csv")):
        code, err = run_main(capsys, "eval", command, "--manifest", tmp_path / manifest, "--out", tmp_path / "o/r.json")
        assert_one_line_error(code, err, "two distinct scale values")
        assert not (tmp_path / "o").exists(), command


def _leaf_commands():
    """``(words, parser)`` of every command of the CLI."""
    from lionlora.cli import _leaf_parsers, build_parser

    root = build_parser()
    return [(leaf.prog.split()[1:], leaf) for leaf in _leaf_parsers(root)]


def _required_argv(parser) -> list[str]:
    """The smallest argv the parser accepts: a dummy value for every required option and group."""
    argv = []
    for action in parser._actions:
        if action.dest == "out" or not (action.required or not action.option_strings):
            continue
        value = str(action.choices[0]) if action.choices else "1"
        argv += [action.option_strings[0], value] if action.option_strings else [value]
    for group in parser._mutually_exclusive_groups:
        if group.required:
            argv += [group._group_actions[0].option_strings[0], "1"]
    return argv


def test_every_command_with_an_unwritable_out_gives_one_line(inputs, capsys):
    """All commands (the battery found 17 of 17 with a traceback): OUT below a file, where no
    folder can be made, is one line naming OUT, exit 1, before any input is read. (OUT below
    /proc, which only the write itself finds out, is in CASES for commands with good inputs.)"""
    checked = 0
    bad = inputs["root"] / "a_file" / "x"
    for words, parser in _leaf_commands():
        if not any(a.dest in ("out", "cfg_out") for a in parser._actions):
            continue
        assert parser.get_default("out_kind") in ("file", "folder"), f"{words}: set_defaults(out_kind=...) missing"
        code, err = run_main(capsys, *words, *_required_argv(parser), "--out", bad)
        assert_one_line_error(code, err, str(bad), "a_file is a file, not a folder")
        checked += 1
    assert checked >= 17


def test_verbosity_options_after_the_subcommand(tmp_path, capsys):
    from lionlora.cli import build_parser

    for argv in (["-q", "scene", "check", "--scene", "s"], ["scene", "check", "--scene", "s", "-q"]):
        args = build_parser().parse_args(argv)
        assert (args.quiet, args.verbose) == (True, False)
    args = build_parser().parse_args(["eval", "poses", "--pred", "a", "--gt", "b", "--out", "c", "--verbose"])
    assert (args.quiet, args.verbose) == (False, True)
    out = tmp_path / "t.json"
    argv = ["trajectory", "--primitive", "pan_left", "--frames", "3", "--median-depth", "1", "--out", out, "-q"]
    assert run_main(capsys, *argv)[0] == 0 and out.is_file()


def _quiet_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}  # conftest sets it


def test_quiet_silences_generate_progress_bars(tiny_model_dir, monkeypatch):
    """diffusers passes its own ``disable`` to tqdm, so TQDM_DISABLE (what -q sets) alone left
    generate's sampling bar on; the loaded pipeline now follows it."""
    from lionlora.apps.model import load_pipeline

    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert load_pipeline(tiny_model_dir, device="cpu")._progress_bar_config.get("disable") is True
    monkeypatch.delenv("TQDM_DISABLE")
    assert not getattr(load_pipeline(tiny_model_dir, device="cpu"), "_progress_bar_config", {}).get("disable")


def test_quiet_silences_pycolmap(tmp_path):
    """SfM that fails on noise logs glog errors ('E2026...') and, over 2 trials, shows a progress bar;
    -q keeps stderr empty (the row has the reason)."""
    clip = camera_clip(tmp_path / "clip", frames=5, size=(48, 64))
    traj = primitive_trajectory("orbit_left", np.eye(4), Intrinsics.from_fov(60, 64, 48), 5, 2.0)
    write_cameras(clip / "cameras.json", traj)
    argv = ["eval", "camera", "--video", clip / "clip.mp4", "--gt", clip / "cameras.json", "--trials", "2"]
    argv = [sys.executable, "-m", "lionlora", *map(str, argv), "--out", str(tmp_path / "r.json")]
    loud = subprocess.run(argv, capture_output=True, text=True, env=_quiet_env())
    quiet = subprocess.run([*argv, "-q"], capture_output=True, text=True, env=_quiet_env())
    assert loud.returncode == quiet.returncode == 0
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "failed"
    assert any(line.startswith(("E2", "W2", "I2")) for line in loud.stderr.splitlines()), loud.stderr
    assert "SfM trials" in loud.stderr, loud.stderr
    assert quiet.stderr == "", quiet.stderr


def test_usage_errors_exit_2(capsys):
    """Usage errors (unknown option, missing argument) keep argparse's status 2; bad input is 1."""
    with pytest.raises(SystemExit) as exc:
        main(["trajectory", "--primitive", "pan_left"])
    assert exc.value.code == 2
    assert "required" in capsys.readouterr().err
