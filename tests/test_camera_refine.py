"""Sub-pixel keypoint refinement along tracks (lionlora.eval.camera.refine): tracks of the match
graph, the reference of each track, known sub-pixel shifts recovered, and rejected moves kept."""

import numpy as np
import pytest

from lionlora.errors import ConfigError
from lionlora.eval.camera.config import CameraEvalConfig
from lionlora.eval.camera.refine import Tracks, match_tracks, reference_jobs, refine_keypoints

pycolmap = pytest.importorskip("pycolmap")

H, W = 120, 160
# true displacement of frames 1 and 2 from frame 0, in pixels (sub-pixel, exact by construction)
SHIFTS = {0: (0.0, 0.0), 1: (0.37, -0.21), 2: (-0.62, 0.48)}


def texture(dx: float, dy: float, seed: int = 3) -> np.ndarray:
    """A smooth random texture (a sum of sinusoids) moved by (dx, dy): exact, no resampling."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    img = np.full((H, W), 128.0)
    for _ in range(24):
        w = rng.uniform(0.08, 0.5, 2) * rng.choice([-1, 1], 2)
        img += rng.uniform(6, 14) * np.sin(w[0] * (x - dx) + w[1] * (y - dy) + rng.uniform(0, 2 * np.pi))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def test_match_tracks_joins_chains_and_skips_unmatched():
    # image 1: keypoints 0..2, image 2: 0..1, image 3: 0..2; 1:0-2:1-3:2 is one track, 1:2-3:0 another
    matches = {(1, 2): np.array([[0, 1]]), (2, 3): np.array([[1, 2]]), (1, 3): np.array([[2, 0]])}
    t = match_tracks({1: 3, 2: 2, 3: 3}, matches)
    obs = sorted(zip(t.image.tolist(), t.keypoint.tolist(), t.track.tolist()))
    assert [(i, k) for i, k, _ in obs] == [(1, 0), (1, 2), (2, 1), (3, 0), (3, 2)]
    label = {(i, k): tr for i, k, tr in obs}
    assert label[(1, 0)] == label[(2, 1)] == label[(3, 2)]
    assert label[(1, 2)] == label[(3, 0)] != label[(1, 0)]


def test_reference_is_the_middle_frame_and_ambiguous_tracks_are_skipped():
    # track 0 over frames 0, 1, 2 (images 10, 11, 12): reference in image 11
    # track 1 seen twice in image 10: skipped
    tracks = Tracks(
        image=np.array([12, 10, 11, 10, 10, 11]),
        keypoint=np.array([5, 3, 4, 7, 8, 9]),
        track=np.array([0, 0, 0, 1, 1, 1]),
    )
    jobs, used = reference_jobs(tracks, {10: 0, 11: 1, 12: 2})
    assert used == 1
    assert {k: v.tolist() for k, v in jobs.items()} == {(11, 10): [[4, 3]], (11, 12): [[4, 5]]}


def _database(tmp_path, frames, keypoints, matches):
    """A COLMAP database of ``frames`` (one shared camera) with the given keypoints and inlier matches."""
    import cv2

    from lionlora.scenes.features import reader_options

    images = tmp_path / "images"
    images.mkdir()
    names = [f"frame_{i:05d}.png" for i in range(len(frames))]
    for name, frame in zip(names, frames):
        cv2.imwrite(str(images / name), frame)
    db_path = tmp_path / "database.db"
    pycolmap.Database.open(db_path).close()
    pycolmap.import_images(db_path, images, pycolmap.CameraMode.SINGLE, names, reader_options(pycolmap))
    db = pycolmap.Database.open(db_path)
    ids = {im.name: im.image_id for im in db.read_all_images()}
    for name, kp in zip(names, keypoints):
        db.write_keypoints(ids[name], np.asarray(kp, np.float32))
    for (a, b), m in matches.items():
        g = pycolmap.TwoViewGeometry()
        g.config = pycolmap.TwoViewGeometryConfiguration.CALIBRATED
        g.inlier_matches = np.asarray(m, np.uint32)
        db.write_two_view_geometry(ids[names[a]], ids[names[b]], g)
    db.close()
    return db_path, names, ids


def test_known_subpixel_shifts_are_recovered(tmp_path):
    rng = np.random.default_rng(0)
    frames = [texture(*SHIFTS[f]) for f in range(3)]
    grid = np.stack(np.meshgrid(np.arange(25, W - 25, 15), np.arange(25, H - 25, 15)), -1).reshape(-1, 2)
    n = len(grid)
    true = {f: grid + np.array(SHIFTS[f]) for f in SHIFTS}  # OpenCV pixel coordinates
    noisy = {f: true[f] + (rng.uniform(-0.4, 0.4, (n, 2)) if f else 0) for f in SHIFTS}
    noisy[2][0] += (6.0, 0.0)  # a wrong match 6 px off: beyond max_shift, kept where it was
    keypoints = [np.c_[noisy[f] + 0.5, np.zeros((n, 4))] for f in range(3)]  # COLMAP: +0.5, 6 columns
    idx = np.arange(n)
    matches = {(0, 1): np.c_[idx, idx], (1, 2): np.c_[idx, idx]}
    db_path, names, ids = _database(tmp_path, frames, keypoints, matches)

    stats = refine_keypoints(pycolmap, db_path, dict(zip(names, frames)), 11, 2.0, 0.2)

    db = pycolmap.Database.open(db_path)
    out = {f: db.read_keypoints(ids[names[f]]) for f in range(3)}
    db.close()
    assert stats.tracks == n and stats.observations == 2 * n
    assert stats.refined == 2 * n - 1  # all but the wrong match
    # frame 1 is every track's middle frame: the reference, unchanged
    np.testing.assert_array_equal(out[1], keypoints[1].astype(np.float32))
    # the others land on the reference's neighbourhood: frame 1's (noisy) point + the true shift
    for f in (0, 2):
        want = noisy[1] + np.array(SHIFTS[f]) - np.array(SHIFTS[1])
        err = np.linalg.norm(out[f][1:, :2] - 0.5 - want[1:], axis=1)
        before = np.linalg.norm(noisy[f][1:] - want[1:], axis=1)
        assert np.median(err) < 0.03 and err.max() < 0.1, (f, np.median(err), err.max())
        assert np.median(before) > 0.2
    assert out[2][0, 0] - 0.5 == pytest.approx(noisy[2][0, 0], abs=1e-4)
    np.testing.assert_array_equal(out[0][:, 2:], keypoints[0][:, 2:].astype(np.float32))  # shapes untouched
    assert 0.2 < stats.median_shift < 0.6


def test_refinement_options_are_checked():
    for field, bad in (
        ("refine_window", 4),
        ("refine_window", 10),
        ("refine_max_shift", 0),
        ("refine_max_fb_error", -1),
    ):
        with pytest.raises(ConfigError, match=field):
            CameraEvalConfig(**{field: bad})
