"""Training pairs: frame indices for S, range checks, and the manifest of contract 1."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lionlora.cli import main
from lionlora.config import load_config
from lionlora.errors import ConfigError
from lionlora.geometry import Intrinsics
from lionlora.io.cameras_json import read_cameras, write_cameras
from lionlora.io.video import write_video
from lionlora.pipelines.pairs import PairsConfig, build_pairs, even_scales, sample_indices
from lionlora.pipelines.trajectories import primitive_trajectory


def test_indices_for_the_paper_settings():
    # S = 49/600: 49 consecutive frames; S = 1: 49 frames spread over all 600
    assert sample_indices(49 / 600, 600, 49) == list(range(49))
    full = sample_indices(1.0, 600, 49)
    assert full[0] == 0 and full[-1] == 599 and len(full) == 49
    assert np.abs(np.array(full) - np.linspace(0, 599, 49)).max() <= 0.5  # evenly spaced, rounded
    half = sample_indices(0.5, 600, 49)  # first 300 frames
    assert half[-1] == 299 and half == sorted(set(half))
    assert sample_indices(49 / 240, 240, 49) == list(range(49))
    assert sample_indices(1.0, 240, 49)[-1] == 239
    # the span grows linearly with S
    spans = [sample_indices(s, 600, 49)[-1] + 1 for s in (0.25, 0.5, 0.75, 1.0)]
    assert spans == [150, 300, 450, 600]


def test_one_sampling_rule_for_pairs_training_and_generation(tmp_path):
    from lionlora.apps.data import subsample
    from lionlora.apps.generate import write_gt_cameras
    from lionlora.scaling import spread_indices

    assert spread_indices(6, 3) == [0, 3, 5]  # half up (round-half-even would give 2)
    # a 49-frame training pair subsampled to the model's 9 frames is the 9-frame sample of that S
    for scale in (0.3113, 0.5, 0.6021, 1.0):
        assert subsample(sample_indices(scale, 600, 49), 9) == sample_indices(scale, 600, 9)
    # the GT cameras beside a generated video are the cameras of those frames
    K = Intrinsics(100.0, 100.0, 48.0, 32.0, 96, 64)
    traj = primitive_trajectory("pan_left", np.eye(4), K, 600, 2.0)
    write_cameras(tmp_path / "clip" / "cameras.json", traj)
    out = tmp_path / "gen" / "video.mp4"
    out.parent.mkdir()
    written = read_cameras(write_gt_cameras(tmp_path / "clip" / "cameras.json", out, 0.3113, 49, 64, 96, {}))
    np.testing.assert_allclose(written.c2w, traj.c2w[sample_indices(0.3113, 600, 49)], atol=1e-12)
    assert written.metadata["source_frames"] == sample_indices(0.3113, 600, 49)
    with pytest.raises(ConfigError, match="scale"):
        write_gt_cameras(tmp_path / "clip" / "cameras.json", out, 0.05, 49, 64, 96, {})


@pytest.mark.parametrize("scale,frames", [(0.05, 600), (1.01, 600), (0.2, 240), (float("nan"), 600)])
def test_scale_out_of_range_is_an_error(scale, frames):
    with pytest.raises(ConfigError, match=r"S in \[49/"):
        sample_indices(scale, frames, 49)


def test_config_checks_scales_and_cogvideox_frames(tmp_path):
    cfg = PairsConfig()
    assert cfg.camera_scales == even_scales(5, 49, 600) and cfg.camera_scales[0] == 49 / 600
    assert cfg.motion_scales[0] == 49 / 240 and cfg.motion_scales[-1] == 1.0
    with pytest.raises(ConfigError, match="motion_scales"):
        PairsConfig(motion_scales=[0.1])  # fine for 600-frame camera clips, too small for 240-frame motion clips
    with pytest.raises(ConfigError, match="sample_frames"):
        PairsConfig(sample_frames=48)
    (tmp_path / "p.yaml").write_text("camera_scales: [0.5, 2.0]\n")
    with pytest.raises(ConfigError, match=r"p.yaml: field 'camera_scales\[1\]'"):
        load_config(PairsConfig, tmp_path / "p.yaml")


def make_camera_clip(folder, primitive, frames=17):
    K = Intrinsics.from_fov(60, 32, 24)
    traj = primitive_trajectory(primitive, np.eye(4), K, frames, 2.0)
    rng = np.random.default_rng(0)
    write_video(folder / "clip.mp4", rng.integers(0, 255, (frames, 24, 32, 3), dtype=np.uint8), fps=8)
    write_cameras(folder / "cameras.json", traj)
    return traj


def test_manifest_of_camera_and_motion_clips(tmp_path):
    clips = tmp_path / "clips" / "embedded"
    traj = make_camera_clip(clips / "orbit_left", "orbit_left")
    make_camera_clip(clips / "dolly_in", "dolly_in")
    make_camera_clip(clips / "pan_up", "pan_up", frames=9)  # too short: recorded in skipped.csv
    web = tmp_path / "webvideos"
    rng = np.random.default_rng(1)
    write_video(web / "clips" / "a_0.mp4", rng.integers(0, 255, (21, 24, 32, 3), dtype=np.uint8))
    write_video(web / "clips" / "a_1.mp4", rng.integers(0, 255, (21, 24, 32, 3), dtype=np.uint8))
    write_video(web / "clips" / "b_0.mp4", rng.integers(0, 255, (8, 24, 32, 3), dtype=np.uint8))
    pd.DataFrame(
        [
            {
                "video": "a.mp4",
                "static_camera": True,
                "keep": True,
                "reason": "",
                "clips": "clips/a_0.mp4;clips/a_1.mp4",
                "prompt": "a dog runs",
            },
            {
                "video": "b.mp4",
                "static_camera": True,
                "keep": True,
                "reason": "",
                "clips": "clips/b_0.mp4",
                "prompt": "",
            },
            {
                "video": "c.mp4",
                "static_camera": False,
                "keep": False,
                "reason": "moving camera",
                "clips": "",
                "prompt": "",
            },
        ]
    ).to_csv(web / "manifest.csv", index=False)
    cfg = PairsConfig(
        sample_frames=5,
        camera_frames=17,
        motion_frames=21,
        camera_scales=[5 / 17, 1.0],
        motion_scales=[0.5, 1.0],
        camera_prompt="camera moves",
    )
    out = tmp_path / "pairs"
    table = build_pairs(out, [tmp_path / "clips"], web / "manifest.csv", cfg)

    manifest = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    assert list(manifest.columns) == ["clip", "kind", "lora", "scale", "frames", "cameras", "prompt"]
    assert len(manifest) == len(table) == 2 * 2 + 2 * 2
    cam = manifest[manifest.kind == "camera"]
    assert sorted(set(cam.lora)) == ["dolly_in", "orbit_left"] and set(cam.prompt) == {"camera moves"}
    orbit = cam[cam.lora == "orbit_left"].sort_values("scale")
    assert [json.loads(f) for f in orbit.frames] == [[0, 1, 2, 3, 4], [0, 4, 8, 12, 16]]
    for _, row in orbit.iterrows():
        assert (out / row["clip"]).resolve() == (clips / "orbit_left" / "clip.mp4").resolve()
        sub = read_cameras(out / row["cameras"])
        assert np.allclose(sub.c2w, traj.c2w[json.loads(row["frames"])])  # GT cameras of exactly those frames
        assert sub.metadata["primitive"] == "orbit_left" and sub.metadata["scale"] == row["scale"]
    motion = manifest[manifest.kind == "motion"]
    assert set(motion.lora) == {"motion"} and set(motion.cameras) == {""} and set(motion.prompt) == {"a dog runs"}
    assert sorted({(out / c).resolve().name for c in motion["clip"]}) == ["a_0.mp4", "a_1.mp4"]
    assert json.loads(motion[motion.scale == 0.5].frames.iloc[0]) == [
        0,
        3,
        5,
        8,
        10,
    ]  # 11 frames: 0, 2.5, 5, 7.5, 10 rounded half up
    skipped = pd.read_csv(out / "skipped.csv")
    assert sorted(skipped.kind) == ["camera", "motion"]
    assert all("fewer than" in r for r in skipped.reason)
    assert (out / "pairs_config.json").is_file()


def test_pairs_cli(tmp_path, capsys):
    make_camera_clip(tmp_path / "clip", "pan_left")
    out = tmp_path / "pairs"
    assert (
        main(
            [
                "pairs",
                "--out",
                str(out),
                "--clips",
                str(tmp_path / "clip"),
                "--sample-frames",
                "5",
                "--camera-frames",
                "17",
                "--set",
                "camera_scales=[0.5]",
            ]
        )
        == 0
    )
    manifest = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    assert list(manifest.lora) == ["pan_left"] and json.loads(manifest.frames[0]) == [0, 2, 4, 6, 8]
    assert (
        main(
            [
                "pairs",
                "--out",
                str(out),
                "--clips",
                str(tmp_path / "clip"),
                "--sample-frames",
                "5",
                "--camera-frames",
                "17",
                "--set",
                "camera_scales=[0.1]",
            ]
        )
        == 1
    )
    assert "S in [5/17" in capsys.readouterr().err
    # a workflow deletes its declared output (the manifest) before a re-run: the folder is still ours
    (out / "manifest.csv").unlink()
    assert (
        main(
            [
                "pairs",
                "--out",
                str(out),
                "--clips",
                str(tmp_path / "clip"),
                "--sample-frames",
                "5",
                "--camera-frames",
                "17",
                "--set",
                "camera_scales=[1.0]",
            ]
        )
        == 0
    )
    assert json.loads(pd.read_csv(out / "manifest.csv").frames[0]) == [0, 4, 8, 12, 16]


def test_camera_pairs_take_their_scenes_caption_or_the_template(tmp_path):
    for scene in ("kitchen", "garden"):
        make_camera_clip(tmp_path / "clips" / scene / "pan_left", "pan_left")
    (tmp_path / "captions.csv").write_text('scene,prompt\nkitchen,"a kitchen, morning light"\nattic,an attic\n')
    cfg = PairsConfig(
        sample_frames=5, camera_frames=17, camera_scales=[1.0], camera_prompt="a video of {scene}",
        captions=tmp_path / "captions.csv",
    )  # fmt: skip
    build_pairs(tmp_path / "pairs", [tmp_path / "clips"], None, cfg)
    manifest = pd.read_csv(tmp_path / "pairs" / "manifest.csv", keep_default_na=False)
    prompts = {Path(c).parent.parent.name: p for c, p in zip(manifest["clip"], manifest["prompt"])}
    assert prompts == {"kitchen": "a kitchen, morning light", "garden": "a video of garden"}


def test_captions_file_errors_name_the_row(tmp_path):
    from lionlora.errors import InputError
    from lionlora.scenes import read_captions, scene_prompt

    bad = tmp_path / "c.csv"
    bad.write_text("scene,text\na,b\n")
    with pytest.raises(InputError, match="prompt.*the columns scene,prompt"):
        read_captions(bad)
    bad.write_text("scene,prompt\na,one\nb,two\na,three\n")
    with pytest.raises(InputError, match="row 4: prompt.*'a' is listed twice"):
        read_captions(bad)
    bad.write_text("scene,prompt\na,one\na,one\n")
    assert read_captions(bad) == {"a": "one"}
    with pytest.raises(ConfigError, match="only placeholder is"):
        scene_prompt("a", "a {room}")
