"""The benchmark (issue 11): the portable suite, its RealEstate10K cameras, and scoring folders of videos."""

from __future__ import annotations

import csv
import io
import shutil

import numpy as np
import pytest

from lionlora.benchmark.manifest import COLUMNS, SuiteManifest
from lionlora.benchmark.run import FLOOR, parse_videos
from lionlora.benchmark.scoring import PER_VIDEO_COLUMNS
from lionlora.benchmark.suite import SuiteConfig, build_suite, check_suite
from lionlora.cli import main
from lionlora.errors import ConfigError, InputError
from lionlora.geometry import Intrinsics, Trajectory, interpolate_poses, look_at, make_pose
from lionlora.io.cameras_json import read_cameras, write_cameras
from lionlora.io.files import read_json
from lionlora.io.re10k import re10k_lines, read_re10k, write_re10k
from lionlora.io.video import cover_frame, read_image, write_image, write_video
from lionlora.scaling import spread_indices

FRAMES, WIDTH, HEIGHT = 20, 360, 240  # the sizes of tests/test_camera_eval.py: every frame registers
SAMPLE = "room__truck_right"
DOWN = np.array([0.0, 1.0, 0.0])


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """The render stage's layout with one 20-frame 360x240 truck clip of the embedded room."""
    from lionlora.pipelines.synth import build_room, render_view

    root = tmp_path_factory.mktemp("clips")
    K = Intrinsics.from_fov(68.0, WIDTH, HEIGHT)
    c2w = interpolate_poses(
        look_at([-0.9, -0.3, -1.0], [0.4, 0.2, 6.0], DOWN),
        look_at([0.9, -0.4, -0.5], [-0.4, 0.2, 6.0], DOWN),
        np.linspace(0, 1, FRAMES),
    )
    room = build_room(0)
    frames = np.stack([render_view(room, c, K, supersample=1)[0] for c in c2w])
    write_video(root / "room" / "truck_right" / "clip.mp4", frames, fps=8)
    write_cameras(root / "room" / "truck_right" / "cameras.json", Trajectory(c2w, K), {"primitive": "truck_right"})
    return root


@pytest.fixture(scope="module")
def suite(clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("suite") / "suite"
    assert (
        main(
            ["-q", "benchmark", "suite", "--clips", str(clips), "--out", str(out)]
            + ["--frames", str(FRAMES), "--height", str(HEIGHT), "--width", str(WIDTH)]
        )
        == 0
    )
    return out


# -- the suite ------------------------------------------------------------------------------------


def test_suite_layout_is_deterministic(suite, clips, tmp_path):
    manifest = SuiteManifest.read(suite / "manifest.csv")
    assert (suite / "manifest.csv").read_text().splitlines()[0] == ",".join(COLUMNS)
    [s] = manifest.samples
    assert (s.sample, s.scene, s.primitive, s.frames, s.height, s.width) == (
        SAMPLE,
        "room",
        "truck_right",
        20,
        240,
        360,
    )
    assert (suite / "scenes.txt").read_text() == "room\n"
    assert "truck right" in (suite / s.prompt).read_text()
    gt = read_cameras(suite / s.cameras)
    assert len(gt) == FRAMES and gt.metadata["primitive"] == "truck_right"
    again = build_suite(clips, tmp_path / "again", SuiteConfig(frames=FRAMES, height=HEIGHT, width=WIDTH))
    assert again.samples == manifest.samples
    files = sorted(p.relative_to(suite) for p in suite.rglob("*") if p.is_file() and "noise_floor" not in p.parts)
    assert files == sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file())
    for rel in files:
        assert (suite / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel


def test_suite_frames_follow_the_s1_rule(clips, tmp_path):
    """10 of 20 frames: spread over the whole clip, first and last kept (lionlora.scaling)."""
    build_suite(clips, tmp_path / "s", SuiteConfig(frames=10, height=120, width=180))
    gt = read_cameras(tmp_path / "s" / "samples" / SAMPLE / "cameras.json")
    src = read_cameras(clips / "room" / "truck_right" / "cameras.json")
    assert gt.metadata["source_frames"] == spread_indices(20, 10) == [0, 2, 4, 6, 8, 11, 13, 15, 17, 19]
    np.testing.assert_allclose(gt.c2w, src.c2w[spread_indices(20, 10)])
    assert (gt.intrinsics.width, gt.intrinsics.height) == (180, 120)
    np.testing.assert_allclose(gt.intrinsics.fx, src.intrinsics.fx / 2)


def test_re10k_round_trips_to_cameras_json(suite):
    gt = read_cameras(suite / "samples" / SAMPLE / "cameras.json")
    traj, stamps = read_re10k(suite / "samples" / SAMPLE / "cameras_re10k.txt", WIDTH, HEIGHT)
    np.testing.assert_allclose(traj.c2w, gt.c2w, atol=1e-12)
    K, G = traj.intrinsics, gt.intrinsics
    np.testing.assert_allclose([K.fx, K.fy, K.cx, K.cy], [G.fx, G.fy, G.cx, G.cy], rtol=1e-12)
    assert stamps == [i * 125000 for i in range(FRAMES)]  # 8 fps, microseconds
    assert (suite / "samples" / SAMPLE / "cameras_re10k.txt").read_text().splitlines()[0] == f"lionlora://{SAMPLE}"


def test_re10k_hand_made_two_frames(tmp_path):
    """Frame 0 at the origin; frame 1 at x = 1, turned 90 degrees about y (looking along +x... -x in w2c)."""
    Ry = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    c2w = np.stack([np.eye(4), make_pose(Ry, [1.0, 0.0, 0.0])])
    traj = Trajectory(c2w, Intrinsics(100.0, 100.0, 50.0, 40.0, 100, 80))
    assert re10k_lines(traj, [0, 125000]) == [
        "0 1.0 1.25 0.5 0.5 0 0 1.0 0.0 0.0 0.0 0.0 1.0 0.0 0.0 0.0 0.0 1.0 0.0",
        "125000 1.0 1.25 0.5 0.5 0 0 0.0 0.0 -1.0 0.0 0.0 1.0 0.0 0.0 1.0 0.0 0.0 -1.0",
    ]
    write_re10k(tmp_path / "c.txt", traj, "https://example.invalid/video", [0, 125000])
    back, stamps = read_re10k(tmp_path / "c.txt", 100, 80)
    np.testing.assert_array_equal(back.c2w, c2w)
    assert stamps == [0, 125000] and back.intrinsics == traj.intrinsics


def test_re10k_bad_line_is_named(tmp_path):
    (tmp_path / "c.txt").write_text("url\n0 1 1 0.5 0.5 0 0 1 0 0 0\n")
    with pytest.raises(InputError, match=r"c\.txt: field 'line 2': expected 19 finite numbers"):
        read_re10k(tmp_path / "c.txt", 10, 10)


def test_suite_missing_or_extra_file_is_refused(suite, tmp_path):
    extra = tmp_path / "extra"
    shutil.copytree(suite, extra, ignore=shutil.ignore_patterns("noise_floor"))
    (extra / "samples" / SAMPLE / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"notes\.txt: expected only the suite's own files"):
        check_suite(extra)
    missing = tmp_path / "missing"
    shutil.copytree(suite, missing, ignore=shutil.ignore_patterns("noise_floor"))
    (missing / "samples" / SAMPLE / "image.png").unlink()
    with pytest.raises(InputError, match=rf"manifest\.csv: field 'sample {SAMPLE}: image'"):
        check_suite(missing)
    (missing / "reference" / SAMPLE / "00003.png").unlink()
    shutil.copy(suite / "samples" / SAMPLE / "image.png", missing / "samples" / SAMPLE / "image.png")
    with pytest.raises(InputError, match=r"00003\.png: expected a file of the suite"):
        check_suite(missing)
    out = tmp_path / "out"
    assert (
        main(["-q", "benchmark", "run", "--suite", str(missing), "--videos", f"a={tmp_path}", "--out", str(out)]) == 1
    )
    assert not out.exists()  # nothing written after a failure


def test_videos_names_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="each NAME once"):
        parse_videos([f"a={tmp_path}", f"a={tmp_path}"])
    with pytest.raises(ConfigError, match="noise-floor"):
        parse_videos([f"{FLOOR}={tmp_path}"])
    with pytest.raises(InputError, match="no such folder"):
        parse_videos([f"a={tmp_path / 'nope'}"])


# -- scoring ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(suite, tmp_path_factory):
    """One run: the suite's own clips, a time-reversed copy, a 16-frame subsample, a method without
    videos and a corrupt video, on 2 processes."""
    root = tmp_path_factory.mktemp("videos")
    ref = sorted((suite / "reference" / SAMPLE).iterdir())
    for name, picks in (("reversed", ref[::-1]), ("sub16", [ref[i] for i in spread_indices(FRAMES, 16)])):
        (root / name / SAMPLE).mkdir(parents=True)
        for k, src in enumerate(picks):
            shutil.copy(src, root / name / SAMPLE / f"{k:05d}.png")
    (root / "small" / SAMPLE).mkdir(parents=True)
    for src in ref:  # another size than the suite's (3/4): scored, and recorded
        write_image(root / "small" / SAMPLE / src.name, cover_frame(read_image(src), 180, 270))
    (root / "nothing").mkdir()
    (root / "corrupt").mkdir()
    (root / "corrupt" / f"{SAMPLE}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    out = tmp_path_factory.mktemp("run") / "out"
    videos = [f"own={suite / 'reference'}"] + [
        f"{n}={root / n}" for n in ("reversed", "sub16", "small", "nothing", "corrupt")
    ]
    args = ["-q", "benchmark", "run", "--suite", str(suite), "--out", str(out), "--jobs", "2"]
    assert main(args + sum((["--videos", v] for v in videos), [])) == 0
    return out, args, videos


def _per_video(out):
    with open(out / "per_video.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == PER_VIDEO_COLUMNS
        return {r["method"]: r for r in reader}


def _summary(out):
    rows = csv.DictReader(io.StringIO((out / "camera_metrics.csv").read_text()))
    return {(r["method"], r["split"]): r for r in rows}


def test_own_clips_equal_the_noise_floor(run, suite):
    out, _, _ = run
    rows = _per_video(out)
    assert rows[FLOOR]["status"] == "ok" and rows[FLOOR]["registered"] == str(FRAMES)
    for key in ("rot_err", "trans_err", "cam_mc", "ate", "registered", "n_frames"):
        assert rows["own"][key] == rows[FLOOR][key], key
    assert float(rows[FLOOR]["rot_err"]) < 0.05  # the floor of tests/test_camera_eval.py
    assert (suite / "noise_floor" / SAMPLE / "camera.json").is_file()  # cached in the suite
    summary = _summary(out)
    assert summary[(FLOOR, "basic")]["noise_floor"] == "True"
    assert summary[("own", "basic")]["rot_err_mean"] == summary[(FLOOR, "basic")]["rot_err_mean"]
    assert f"| ours | {FLOOR} (noise floor) | 1 | 1/1 (100%) |" in (out / "camera_tables.md").read_text()


def test_time_reversed_copy_scores_worse(run):
    rows = _per_video(run[0])
    assert rows["reversed"]["status"] == "ok"
    for key in ("rot_err", "trans_err", "cam_mc"):
        assert float(rows["reversed"][key]) > 10 * float(rows["own"][key]), key


def test_subsample_is_scored_against_resampled_ground_truth(run, suite):
    out = run[0]
    rows = _per_video(out)
    assert rows["sub16"]["status"] == "ok" and rows["sub16"]["n_frames"] == "16"
    assert "scored against 16 of the 20 ground-truth frames" in rows["sub16"]["reason"]
    folder = out / "results" / "sub16" / SAMPLE
    gt = read_cameras(folder / "gt_cameras.json")
    np.testing.assert_allclose(
        gt.c2w, read_cameras(suite / "samples" / SAMPLE / "cameras.json").c2w[spread_indices(20, 16)]
    )
    assert read_json(folder / "camera.json")["benchmark"]["gt_frames"] == spread_indices(20, 16)
    assert float(rows["sub16"]["rot_err"]) < 0.05


def test_video_of_another_size_is_scored_and_recorded(run):
    row = _per_video(run[0])["small"]
    assert row["status"] == "ok" and row["n_frames"] == "20"
    assert row["reason"] == "video 270x180, suite 360x240: intrinsics rescaled"
    assert float(row["rot_err"]) < 0.05


def test_missing_and_corrupt_videos_are_failures(run):
    out = run[0]
    rows = _per_video(out)
    assert rows["nothing"]["status"] == "missing" and rows["nothing"]["rot_err"] == ""
    assert rows["corrupt"]["status"] == "failed" and rows["corrupt"]["reason"].startswith("VideoError:")
    summary = _summary(out)
    for method in ("nothing", "corrupt"):
        assert (summary[(method, "all")]["videos"], summary[(method, "all")]["ok"]) == ("1", "0")
        assert float(summary[(method, "all")]["success_rate"]) == 0.0
        # counted with the paper's no-control penalty (CogVideoX, Table 1), not dropped
        assert float(summary[(method, "basic")]["rot_err_failures_counted"]) == pytest.approx(4.974)
    assert (out / "figures" / "primitives.png").is_file() and (out / "figures" / "paths" / f"{SAMPLE}.png").is_file()


def test_rerun_with_one_more_method_reuses_the_cache(run, tmp_path):
    out, args, videos = run
    before = (out / "results" / "own" / SAMPLE / "camera.json").stat().st_mtime_ns
    (tmp_path / "late").mkdir()
    more = videos + [f"late={tmp_path / 'late'}"]
    assert main(args + ["--no-figures"] + sum((["--videos", v] for v in more), [])) == 0
    rec = read_json(out / "benchmark_run.json")
    assert rec["timing"]["videos_scored"] == 0 and rec["timing"]["videos_cached"] == 6
    assert (out / "results" / "own" / SAMPLE / "camera.json").stat().st_mtime_ns == before
    assert _per_video(out)["late"]["status"] == "missing"


# -- training-scene flags ---------------------------------------------------------------------------


def _adapter_trained_on(folder, scenes):
    """A LiON-LoRA adapter on a one-block CogVideoX transformer, saved with its training scenes."""
    from diffusers import CogVideoXTransformer3DModel

    from lionlora.lora.config import AdapterConfig
    from lionlora.lora.io import save_adapter
    from lionlora.lora.lion import LionLoRA

    model = CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=8,
        in_channels=8,
        out_channels=4,
        time_embed_dim=16,
        text_embed_dim=16,
        num_layers=1,
        sample_width=8,
        sample_height=8,
        sample_frames=9,
        patch_size=2,
        max_text_seq_length=4,
    )
    lion = LionLoRA(model)
    lion.add_adapter(AdapterConfig(name="truck_right", rank=2, fourier_freqs=2))
    return save_adapter(lion, "truck_right", folder, extra={"training": {"scenes": scenes}})


def test_samples_of_training_scenes_are_flagged(suite, tmp_path, caplog):
    """An adapter that trained on the suite's scene flags its method (‡, footnote, count, record);
    a deleted adapter is unknown with a warning; a declared training_scenes.txt flags too; a
    folder that says nothing flags nothing."""
    import json

    adapter = _adapter_trained_on(tmp_path / "truck_right", ["room", "attic"])
    gen, decl, other = (tmp_path / n for n in ("gen", "decl", "other"))
    for folder in (gen, decl, other):
        folder.mkdir()
    loras = {
        "truck_right": {"path": str(adapter), "scale": 1.0, "format": "lionlora"},
        "gone": {"path": str(tmp_path / "deleted"), "scale": 1.0, "format": "lionlora"},
        "dimx": {"path": str(tmp_path / "dimx.safetensors"), "scale": 1.0, "format": "diffusers"},
    }
    (gen / "benchmark_generate.json").write_text(json.dumps({"suite": str(suite), "loras": loras}))
    (decl / "training_scenes.txt").write_text("elsewhere\nroom\n")
    out = tmp_path / "out"
    args = ["-q", "benchmark", "run", "--suite", str(suite), "--out", str(out), "--no-figures"]
    assert main(args + ["--videos", f"gen={gen}", "--videos", f"decl={decl}", "--videos", f"other={other}"]) == 0
    summary = _summary(out)
    assert summary[("gen", "all")]["trained_scene_videos"] == "1"
    assert summary[("decl", "basic")]["trained_scene_videos"] == "1"
    assert summary[("other", "all")]["trained_scene_videos"] == "0"
    assert summary[(FLOOR, "all")]["trained_scene_videos"] == "0"
    md = (out / "camera_tables.md").read_text()
    assert "| ours | gen ‡ |" in md and "| ours | other |" in md
    assert "`gen`: 1 of 1 videos, scenes room (trained truck\\_right)" in md
    assert "`decl`: 1 of 1 videos, scenes room (trained training\\_scenes.txt)" in md
    assert "adapter gone unknown" in caplog.text
    rec = read_json(out / "benchmark_run.json")["training_scenes"]
    assert rec["suite_scenes"] == ["room"]
    assert rec["methods"]["gen"]["flags"] == {"room": ["truck_right"]}
    adapters = rec["methods"]["gen"]["adapters"]
    assert adapters["truck_right"]["scenes"] == ["attic", "room"]
    assert adapters["gone"]["scenes"] is None and "no such file" in adapters["gone"]["reason"]
    assert adapters["dimx"]["scenes"] is None and "diffusers" in adapters["dimx"]["reason"]
    assert rec["methods"]["other"] == {"adapters": None, "flags": {}}


def test_bad_generate_record_is_refused_before_writing(suite, tmp_path, capsys):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "benchmark_generate.json").write_text('{"loras": ["truck_right"]}')
    out = tmp_path / "out"
    assert (
        main(["-q", "benchmark", "run", "--suite", str(suite), "--videos", f"v={tmp_path / 'v'}"] + ["--out", str(out)])
        == 1
    )
    assert "benchmark_generate.json: field 'loras': expected an object" in capsys.readouterr().err
    assert not out.exists()
