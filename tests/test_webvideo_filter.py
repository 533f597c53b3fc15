"""`lionlora filter` on the labelled set: decisions, broken files, clips, idempotent re-runs."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil

import numpy as np
import pytest

from lionlora.cli import main
from lionlora.errors import ConfigError
from lionlora.io.video import cover_frame, probe_video, read_video, write_video
from lionlora.pipelines.webvideo import FilterConfig, filter_videos
from lionlora.pipelines.webvideo.manifest import CACHE, COLUMNS, read_manifest
from lionlora.pipelines.webvideo.synthetic import make_video, write_labelled_set

FRAMES, HEIGHT, WIDTH, FPS = 49, 240, 360, 12.0
# the demo's settings: one 49-frame clip per labelled video, at the videos' own rate and size
OPTIONS = {"clip_frames": FRAMES, "fps": FPS, "height": HEIGHT, "width": WIDTH}
CFG = FilterConfig(**OPTIONS)


def snapshot(folder):
    """(relative path, size, mtime_ns, sha256) of every file under ``folder``."""
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            st = p.stat()
            out.append(
                (
                    p.relative_to(folder).as_posix(),
                    st.st_size,
                    st.st_mtime_ns,
                    hashlib.sha256(p.read_bytes()).hexdigest(),
                )
            )
    return out


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    root = tmp_path_factory.mktemp("webvideo")
    src = write_labelled_set(root / "in", frames=FRAMES, height=HEIGHT, width=WIDTH, fps=FPS, short=24, broken=True)
    (src / "notes.txt").write_text("not a video\n")
    (src / "old").mkdir()
    (src / "old" / "clip.flv").write_bytes(b"FLV\x01" + bytes(100))
    before = snapshot(src)
    args = ["filter", "--input", str(src), "--out", str(root / "out")]
    for key, value in OPTIONS.items():
        args += ["--set", f"{key}={value}"]
    assert main(args) == 0
    with open(src / "labels.csv", newline="") as f:
        labels = {r["video"]: r for r in csv.DictReader(f)}
    return src, root / "out", labels, before


def rows_by_video(out):
    return {r["video"]: r for r in read_manifest(out / "manifest.csv")}


def test_manifest_columns_and_one_row_per_input(labelled):
    src, out, labels, _ = labelled
    with open(out / "manifest.csv", newline="") as f:
        header = next(csv.reader(f))
    assert tuple(header) == COLUMNS
    assert {"video", "static_camera", "camera_motion", "motion", "keep", "reason"} <= set(header)
    rows = rows_by_video(out)
    # every labelled video and broken file, the unsupported .flv; not notes.txt / labels.csv
    assert set(rows) == set(labels) | {"old/clip.flv"}


def test_labelled_set_decisions(labelled):
    _, out, labels, _ = labelled
    rows = rows_by_video(out)
    for name, label in labels.items():
        row = rows[name]
        assert row["keep"] == label["keep"].lower(), (name, row["reason"])
        if label["what"] == "broken file" or name == "short.mp4":
            continue
        assert row["status"] == "ok"
        assert row["static_camera"] == label["static"].lower(), (name, row["camera_motion"])
        moving = float(row["object_motion"]) >= CFG.min_object_motion
        if label["static"] == "True":  # a moving camera moves every pixel: only its own test speaks
            assert moving == (label["moving"] == "True"), (name, row["object_motion"])
        assert row["object_motion_unit"] == "fraction of min(H, W) per frame"
        if row["keep"] == "true":
            assert row["reason"] == ""
            assert float(row["camera_motion"]) < CFG.max_camera_motion / 10  # a wide margin
        if label["static"] == "False":
            assert row["reason"].startswith("camera moves")
            assert float(row["camera_motion"]) > 2 * CFG.max_camera_motion
    for still in ("still.mp4", "still_noisy.mp4", "still_photo.mp4"):
        assert "too little motion" in rows[still]["reason"], still
    # small moving regions are kept although their mean flow is under the old 0.1 px/frame threshold
    for small in ("far_people.mp4", "one_object.mp4"):
        assert rows[small]["keep"] == "true" and float(rows[small]["motion"]) < 0.1, rows[small]
    assert rows["short.mp4"]["reason"] == "too short: 24 frames at 12 fps, a clip needs 49"


def test_clips_of_kept_videos(labelled):
    _, out, _, _ = labelled
    for name, row in rows_by_video(out).items():
        clips = [p for p in row["clips"].split(";") if p]
        if row["keep"] != "true":
            assert clips == []
            assert not (out / "clips" / name.replace(".mp4", "_mp4")).exists()
            continue
        assert clips == [f"clips/{name.replace('.mp4', '_mp4')}/clip_000.mp4"]
        info = probe_video(out / clips[0], count_frames=True)
        assert (info.frames, info.width, info.height) == (FRAMES, WIDTH, HEIGHT)
        assert info.fps == pytest.approx(FPS)
    # the clip holds the source frames (lossy H.264 twice: compare loosely)
    src = read_video(labelled[0] / "static_objects.mp4")
    clip = read_video(out / "clips/static_objects_mp4/clip_000.mp4")
    assert np.abs(src[:FRAMES].astype(int) - clip.astype(int)).mean() < 3


def test_broken_files_become_error_rows(labelled):
    _, out, _, _ = labelled
    rows = rows_by_video(out)
    expected = {
        "broken/empty.mp4": "non-empty video file",
        "broken/garbage.mkv": "readable video container",
        "broken/truncated.mp4": "readable video container",  # index lost with the tail
        "broken/truncated_faststart.mp4": "truncated file",  # opens, then the stream ends early
        "old/clip.flv": "field 'extension'",
    }
    for name, words in expected.items():
        row = rows[name]
        assert (row["status"], row["keep"], row["clips"]) == ("error", "false", ""), name
        assert words in row["reason"] and name.split("/")[-1] in row["reason"], row["reason"]
        assert row["static_camera"] == row["camera_motion"] == ""


def test_inputs_never_modified(labelled):
    src, _, _, before = labelled
    assert snapshot(src) == before


def test_rerun_does_no_work_and_gives_the_same_manifest(labelled, tmp_path):
    src0, out0, _, _ = labelled
    # copies keep modification times, so the copied output is the previous run of the copied input
    src, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(src0, src)
    shutil.copytree(out0, out)
    first = (out / "manifest.csv").read_bytes()
    clips_before = snapshot(out / "clips")
    again = filter_videos(src, out, CFG)
    assert (again.processed, again.reused) == (0, len(again.rows))
    assert (out / "manifest.csv").read_bytes() == first
    assert snapshot(out / "clips") == clips_before

    # a workflow engine may delete manifest.csv before re-running: the cache still has the rows
    (out / "manifest.csv").unlink()
    assert filter_videos(src, out, CFG).processed == 0
    assert (out / "manifest.csv").read_bytes() == first

    # a changed input, a lost clip and a vanished input: only those are redone
    st = (src / "still.mp4").stat()
    os.utime(src / "still.mp4", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    (out / "clips/static_objects_mp4/clip_000.mp4").unlink()
    shutil.rmtree(src / "broken")
    (src / "border_crossing.mp4").unlink()
    run = filter_videos(src, out, CFG)
    assert run.processed == 2
    rows = rows_by_video(out)
    assert "broken/empty.mp4" not in rows and "border_crossing.mp4" not in rows
    assert not (out / "clips/border_crossing_mp4").exists()
    assert (out / "clips/static_objects_mp4/clip_000.mp4").is_file()
    assert rows["still.mp4"]["mtime_ns"] == str(st.st_mtime_ns + 10**9)
    assert (out / CACHE).read_bytes() == (out / "manifest.csv").read_bytes()


def test_output_inside_input_and_resampling(tmp_path):
    src = tmp_path / "videos"
    # 24 fps source, clips at 12 fps: every other frame; 30 frames -> 15 at 12 fps -> two 7-frame clips
    write_video(src / "a" / "cam.mp4", make_video("static_objects", 30, 96, 160, seed=3), fps=24)
    cfg = FilterConfig(clip_frames=7, fps=12, height=64, width=64, grid_size=12, max_clips=0)
    out = src / "curated"  # inside the input: never taken as input
    s1 = filter_videos(src, out, cfg)
    row = s1.rows[0]
    assert [r["video"] for r in s1.rows] == ["a/cam.mp4"]
    assert (row["frames"], row["fps"], row["width"], row["height"]) == ("30", "24", "160", "96")
    assert row["keep"] == "true", row["reason"]
    assert row["clips"] == "clips/a/cam_mp4/clip_000.mp4;clips/a/cam_mp4/clip_001.mp4"
    second = read_video(out / "clips/a/cam_mp4/clip_001.mp4")
    assert second.shape == (7, 64, 64, 3)  # resized to cover 64x64 and centre-cropped
    # clip frame 7 is source frame 14: it matches that frame (and its own sensor noise) best
    source = read_video(src / "a" / "cam.mp4")
    err = [np.abs(cover_frame(source[i], 64, 64).astype(int) - second[0]).mean() for i in range(len(source))]
    assert int(np.argmin(err)) == 14, err
    s2 = filter_videos(src, out, cfg)
    assert [r["video"] for r in s2.rows] == ["a/cam.mp4"] and s2.processed == 0
    # another threshold changes the config fingerprint: the video is redone
    s3 = filter_videos(src, out, cfg.replace(min_object_motion=1.0))
    assert s3.processed == 1 and s3.rows[0]["keep"] == "false" and s3.rows[0]["clips"] == ""
    assert not (out / "clips").exists() or not any((out / "clips").rglob("*.mp4"))


def test_parallel_workers_give_the_same_rows(labelled, tmp_path):
    src0, out0, _, _ = labelled
    src = tmp_path / "in"
    src.mkdir()
    for name in ("still.mp4", "pan.mp4", "broken/empty.mp4"):
        (src / name).parent.mkdir(exist_ok=True)
        shutil.copy2(src0 / name, src / name)
    s = filter_videos(src, tmp_path / "out", CFG.replace(workers=2))
    assert s.processed == 3
    ref = rows_by_video(out0)
    for row in s.rows:
        expected = dict(ref[row["video"]])
        if row["status"] == "error":  # the message names the file, which lies elsewhere here
            expected["reason"] = expected["reason"].replace(str(src0), str(src))
        assert row == expected


def test_cli_errors(tmp_path, capsys):
    assert main(["filter", "--input", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 1
    assert "none" in capsys.readouterr().err
    assert main(["filter", "--input", str(tmp_path), "--out", str(tmp_path / "o"), "--border", "0.9"]) == 1
    assert "border" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="min_points"):
        filter_videos(tmp_path, tmp_path / "o", FilterConfig(grid_size=3, border=0.01))


def test_demo_workflow_plans_the_stage(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    snakemake = os.path.join(os.path.dirname(sys.executable), "snakemake")
    out = subprocess.run(
        [snakemake, "-n", "--cores", "2", "--config", f"results={tmp_path}/r"], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0, out.stderr + out.stdout
    assert "webvideo_demo_videos" in out.stdout and "webvideo_filter" in out.stdout
    assert f"{tmp_path}/r/webvideos/manifest.csv" in out.stdout
