"""Trackers (KLT known answers, the CoTracker adapter), the static-camera statistic, clip planning."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest
import torch
from skimage import data

from lionlora.cli import main
from lionlora.errors import ConfigError, DependencyError, InputError
from lionlora.io.video import VideoInfo, cover_frame
from lionlora.pipelines.webvideo import CoTrackerConfig, FilterConfig, KltConfig, KltTracker, Tracks, make_tracker
from lionlora.pipelines.webvideo.clips import plan_clips, resampled_frames, source_index
from lionlora.pipelines.webvideo.static import border_points, camera_motion, grid_points
from lionlora.pipelines.webvideo.tracking import CoTrackerTracker, cotracker_inputs, cotracker_outputs


def shifted(shifts, h=120, w=180, image="astronaut"):
    """A photograph seen through a window moved by sub-pixel ``shifts`` [T, 2] (x, y): content
    moves by ``-shift``."""
    img = getattr(data, image)()
    out = []
    for sx, sy in shifts:
        M = np.float32([[1, 0, 150 + sx], [0, 1, 150 + sy]])
        out.append(cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP))
    return np.stack(out)


def test_klt_recovers_a_known_translation():
    shifts = np.stack([np.arange(10) * 0.7, np.arange(10) * -0.4], 1)
    frames = shifted(shifts)
    queries = border_points(120, 180, 12, 0.25)
    tracks = KltTracker()(frames, queries)
    assert tracks.xy.shape == (10, len(queries), 2) and tracks.visible.shape == (10, len(queries))
    vis = tracks.visible[-1]
    assert vis.mean() > 0.7  # points in the photograph's flat regions are dropped
    err = np.linalg.norm(tracks.xy[:, vis] - (queries[vis] - shifts[:, None, :]), axis=2).max(axis=0)
    # a few points whose LK window crosses the image edge see new content coming in and drift
    assert np.median(err) < 0.15 and np.percentile(err, 75) < 0.5


def test_klt_loses_points_that_leave_the_image_or_lie_in_flat_regions():
    frames = shifted(np.stack([np.arange(8) * 4.0, np.zeros(8)], 1))  # content moves 4 px/frame left
    queries = np.float32([[3, 60], [60, 30]])
    tracks = KltTracker()(frames, queries)
    assert tracks.visible[0].all() and tracks.visible[:, 1].all()
    assert not tracks.visible[1:, 0].any()  # x = 3 - 4t leaves the image at once
    assert np.allclose(tracks.xy[:, 1, 0], 60 - 4 * np.arange(8), atol=0.05)
    flat = np.full((5, 64, 64, 3), 128, np.uint8)
    lost = KltTracker()(flat, np.float32([[32, 32]]))
    assert not lost.visible[1:].any()  # nothing to track on a blank wall: not "static"


def test_tracker_inputs_are_checked():
    with pytest.raises(InputError, match="uint8 RGB"):
        KltTracker()(np.zeros((3, 8, 8), np.uint8), np.zeros((1, 2), np.float32))
    with pytest.raises(InputError, match=r"\[N, 2\]"):
        KltTracker()(np.zeros((3, 8, 8, 3), np.uint8), np.zeros((1, 3), np.float32))
    with pytest.raises(ConfigError, match="window"):
        KltConfig(window=8)


def test_border_band_geometry():
    pts = grid_points(100, 200, 10)
    assert len(pts) == 100 and pts[:, 0].min() == pytest.approx(9.5) and pts[:, 1].max() == pytest.approx(94.5)
    band = border_points(100, 200, 10, 0.2)  # a 20 px band
    x, y = band[:, 0] + 0.5, band[:, 1] + 0.5
    assert (np.minimum.reduce([x, 200 - x, y, 100 - y]) < 20).all()
    # rows at 5 and 15 px from the top and bottom edges (4 x 10), columns at 10 px from the sides (2 x 6)
    assert len(band) == 4 * 10 + 2 * 6
    assert len(border_points(100, 200, 10, 0.5)) == 100


def synthetic_tracks(n=40, t=6, drift=(0.0, 0.0)):
    rng = np.random.default_rng(0)
    start = rng.uniform(0, 100, (n, 2)).astype(np.float32)
    xy = start[None] + np.arange(t)[:, None, None] * np.float32(drift)
    return Tracks(xy.astype(np.float32), np.ones((t, n), bool))


def test_camera_motion_known_answer_and_median():
    tr = synthetic_tracks(drift=(3.0, 4.0))  # 5 px per frame: 25 px at the last frame
    cm = camera_motion(tr, 100, 200, min_points=8)
    assert cm.motion == pytest.approx(25 / 100) and not cm.lost and cm.points == 40
    still = synthetic_tracks()
    still.xy[:, :15] += np.arange(6)[:, None, None] * 10.0  # 15 of 40 points dragged by an object
    assert camera_motion(still, 100, 200, 8).motion == 0.0
    still.xy[:, :25] += np.arange(6)[:, None, None] * 1.0  # a majority moves: the camera moved
    assert camera_motion(still, 100, 200, 8).motion == pytest.approx(5 * np.sqrt(2) / 100)


def test_camera_motion_counts_only_points_that_stayed_visible():
    tr = synthetic_tracks(n=20)
    tr.xy[3:, :8] += 50.0  # points hidden by an object and found again elsewhere
    tr.visible[2, :8] = False
    cm = camera_motion(tr, 100, 100, min_points=5)
    assert cm.motion == 0.0 and cm.min_visible == 12 and not cm.lost
    tr.visible[4:, :16] = False
    cm = camera_motion(tr, 100, 100, min_points=5)
    assert cm.lost and cm.min_visible == 4
    with pytest.raises(InputError):
        camera_motion(Tracks(np.zeros((3, 0, 2), np.float32), np.zeros((3, 0), bool)), 10, 10, 1)


def test_resampling_and_clip_plan():
    for n in range(40):
        for fs, f in [(30, 24), (24, 30), (29.97, 24), (12, 12), (60, 8)]:
            brute = sum(source_index(k, fs, f) <= n - 1 for k in range(200))
            assert resampled_frames(n, fs, f) == brute
    assert [source_index(k, 24, 12) for k in range(4)] == [0, 2, 4, 6]
    cfg = FilterConfig(clip_frames=49, fps=12)
    assert plan_clips(VideoInfo("v", 300, 24.0, 640, 480), cfg).clips == 3  # 150 frames at 12 fps
    assert plan_clips(VideoInfo("v", 96, 24.0, 640, 480), cfg).clips == 0  # 48 < 49: too short
    assert plan_clips(VideoInfo("v", 10**5, 24.0, 640, 480), cfg).clips == cfg.max_clips
    frame = np.zeros((100, 300, 3), np.uint8)
    frame[:, 100:200] = 255  # the centre third
    out = cover_frame(frame, 50, 50)  # cover: 50 x 150, then crop the centre 50 x 50
    assert out.shape == (50, 50, 3) and out.min() == 255


def test_config_checks_and_fingerprint():
    with pytest.raises(ConfigError, match="height"):
        FilterConfig(height=481)
    with pytest.raises(ConfigError, match="border"):
        FilterConfig(border=0)
    base = FilterConfig()
    assert base.fingerprint() == FilterConfig(workers=4).fingerprint()
    assert base.fingerprint() != FilterConfig(max_camera_motion=0.02).fingerprint()
    assert base.fingerprint() != FilterConfig(klt=KltConfig(window=15)).fingerprint()


# --- CoTracker adapter: the conversions run here; the model itself needs the package --------------


def test_cotracker_input_layout():
    frames = np.random.default_rng(0).integers(0, 256, (5, 12, 16, 3), dtype=np.uint8)
    queries = np.float32([[1.5, 2.0], [15.0, 11.0]])
    video, q = cotracker_inputs(frames, queries)
    assert video.shape == (1, 5, 3, 12, 16) and video.dtype == torch.float32
    assert torch.equal(video[0, 2, 1], torch.from_numpy(frames[2, :, :, 1]).float())  # [B, T, C, H, W], 0..255
    assert q.shape == (1, 2, 3) and q[0, :, 0].tolist() == [0, 0]  # (t, x, y), all from frame 0
    assert q[0, :, 1:].numpy().tolist() == queries.tolist()


def test_cotracker_output_conversion():
    xy = torch.rand(1, 5, 2, 2) * 10
    vis = torch.tensor([[[True, False]] * 5])
    tr = cotracker_outputs(xy, vis, 5, 2)
    assert np.allclose(tr.xy, xy[0].numpy()) and tr.visible[:, 0].all() and not tr.visible[:, 1].any()
    scores = torch.full((1, 5, 2, 1), 0.8)
    scores[0, 3, 1, 0] = 0.2
    tr = cotracker_outputs(xy, scores, 5, 2)  # scores with a trailing axis: thresholded at 0.5
    assert tr.visible.sum() == 9 and not tr.visible[3, 1]
    with pytest.raises(InputError, match="cotracker"):
        cotracker_outputs(xy, vis, 6, 2)


def test_cotracker_missing_checkpoint_or_package_says_how_to_install(tmp_path, monkeypatch):
    with pytest.raises(DependencyError, match="checkpoint.*not on PyPI"):
        make_tracker(FilterConfig(tracker="cotracker"))
    ckpt = tmp_path / "scaled_offline.pth"
    ckpt.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "cotracker", None)  # as if not installed, even where it is
    monkeypatch.setitem(sys.modules, "cotracker.predictor", None)
    with pytest.raises(DependencyError, match="'cotracker' package.*pip install git\\+https"):
        CoTrackerTracker(CoTrackerConfig(checkpoint=ckpt))


def test_cli_cotracker_unavailable_is_one_line(tmp_path, capsys):
    from lionlora.io.video import write_video
    from lionlora.pipelines.webvideo.synthetic import make_video

    write_video(tmp_path / "in" / "v.mp4", make_video("still", 8, 64, 64), fps=8)
    code = main(
        [
            "filter",
            "--input",
            str(tmp_path / "in"),
            "--out",
            str(tmp_path / "out"),
            "--tracker",
            "cotracker",
            "--clip-frames",
            "8",
            "--fps",
            "8",
            "--height",
            "64",
            "--width",
            "64",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "pip install" in err[0]


def test_cotracker_real_model_round_trip(tmp_path):
    """Needs the official package; builds CoTracker3 with random weights, saves and reloads them."""
    predictor_mod = pytest.importorskip("cotracker.predictor", reason="the cotracker package is not installed")
    model = predictor_mod.CoTrackerPredictor(checkpoint=None, offline=True, v2=False, window_len=60)
    ckpt = tmp_path / "random.pth"
    torch.save(model.model.state_dict(), ckpt)
    tracker = make_tracker(FilterConfig(tracker="cotracker", cotracker=CoTrackerConfig(checkpoint=ckpt, device="cpu")))
    frames = shifted(np.zeros((8, 2)), h=96, w=128)
    queries = border_points(96, 128, 8, 0.2)
    tracks = tracker(frames, queries)
    assert tracks.xy.shape == (8, len(queries), 2) and tracks.visible.shape == (8, len(queries))
    assert np.allclose(tracks.xy[0], queries, atol=1e-3)  # the predictor returns queries at their frame
