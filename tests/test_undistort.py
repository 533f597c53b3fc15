"""Scenes with lens distortion (OPENCV model): undistorted once into pinhole images, cached."""

import dataclasses
import json
import shutil

import cv2
import numpy as np
import pytest

from lionlora.io.video import read_image, write_image
from lionlora.pipelines.gaussians import DensifyConfig, ReconstructConfig, reconstruct
from lionlora.pipelines.gaussians.metrics import psnr
from lionlora.scenes import load_scene
from tests.torch_threads import one_torch_thread  # noqa: F401 (autouse fixture)

#: a wide-angle lens: barrel distortion of about 4 px at the corners of a 240x135 image
DIST = {"k1": -0.12, "k2": 0.02, "p1": 0.001, "p2": -0.001}


def distort(image: np.ndarray, K: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """What a lens with ``dist`` (k1, k2, p1, p2) records of the pinhole ``image`` (camera matrix ``K``):
    each recorded pixel looks up the pinhole pixel whose distorted position it is (fixed-point inverse
    of OpenCV's distortion model)."""
    h, w = image.shape[:2]
    k1, k2, p1, p2 = dist
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    xd, yd = (u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]
    x, y = xd.copy(), yd.copy()
    for _ in range(50):
        r2 = x * x + y * y
        radial = 1 + k1 * r2 + k2 * r2 * r2
        x = (xd - (2 * p1 * x * y + p2 * (r2 + 2 * x * x))) / radial
        y = (yd - (p1 * (r2 + 2 * y * y) + 2 * p2 * x * y)) / radial
    map_x, map_y = (x * K[0, 0] + K[0, 2]).astype(np.float32), (y * K[1, 1] + K[1, 2]).astype(np.float32)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="module")
def distorted(scene_dir, tmp_path_factory):
    """The embedded scene (images_4) as a lens with :data:`DIST` records it, and the pinhole original."""
    root = tmp_path_factory.mktemp("lens") / "distorted"
    (root / "images_4").mkdir(parents=True)
    pinhole = load_scene(scene_dir, downsample=4)
    K, dist = pinhole.cameras.intrinsics.K, np.array(list(DIST.values()))
    for p in pinhole.image_paths:
        write_image(root / "images_4" / p.name, distort(read_image(p), K, dist))
    meta = json.loads((scene_dir / "transforms.json").read_text())
    meta.update(DIST, camera_model="OPENCV")
    (root / "transforms.json").write_text(json.dumps(meta))
    shutil.copytree(scene_dir / "colmap", root / "colmap")
    return root, pinhole


def test_undistorted_images_are_the_pinhole_views(distorted):
    root, pinhole = distorted
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (root / "images_4").iterdir())
    scene = load_scene(root, downsample=4)
    K0, K = pinhole.cameras.intrinsics, scene.cameras.intrinsics
    assert not K.has_distortion and (K.width, K.height) == (K0.width, K0.height)
    assert K.fx < K0.fx  # barrel distortion: the pinhole view holding every recorded pixel is wider
    assert all(p.parent.name == "images_4_undistorted" for p in scene.image_paths)
    assert scene.cameras.names[0].startswith("images_4_undistorted/")
    assert not [w for w in scene.warnings if "distortion" in w]
    # the exact pinhole view at the new intrinsics: the original resampled by K0 K^-1, where the
    # original saw the scene (the new view is wider: its corners were never recorded)
    M = (K0.K @ np.linalg.inv(K.K))[:2]
    seen = cv2.warpAffine(np.ones((K0.height, K0.width), np.uint8), M, (K.width, K.height), flags=cv2.WARP_INVERSE_MAP)
    seen = cv2.erode(seen, np.ones((5, 5), np.uint8)).astype(bool)
    assert seen.mean() > 0.8
    for i in (0, 7):
        truth = cv2.warpAffine(pinhole.load_image(i), M, (K.width, K.height), flags=cv2.WARP_INVERSE_MAP)
        got = scene.load_image(i)[seen] / 255.0
        raw = read_image(root / "images_4" / scene.image_paths[i].name)[seen] / 255.0
        assert psnr(got, truth[seen] / 255.0) > 33.0
        assert psnr(raw, truth[seen] / 255.0) < psnr(got, truth[seen] / 255.0) - 8.0
    # inputs untouched; a second load reuses the cache
    assert sorted((p.name, p.stat().st_mtime_ns) for p in (root / "images_4").iterdir()) == before
    stamp = (root / "images_4_undistorted" / "undistort.json").stat().st_mtime_ns
    again = load_scene(root, downsample=4)
    assert again.cameras.intrinsics == K
    assert (root / "images_4_undistorted" / "undistort.json").stat().st_mtime_ns == stamp
    # asked not to undistort: distorted images, pinhole cameras, and a warning
    raw_scene = load_scene(root, downsample=4, undistort=False)
    assert raw_scene.image_paths[0].parent.name == "images_4" and "ignored" in raw_scene.warnings[-1]


def _config() -> ReconstructConfig:
    return ReconstructConfig(
        engine="torch",
        steps=40,
        downsample=4,
        sh_degree=0,
        lr_means=8e-4,
        densify=DensifyConfig(refine_start_iter=10, refine_every=10, refine_stop_iter=30, reset_every=0),
    )


def test_distorted_capture_reconstructs_like_the_pinhole_one(distorted, scene_dir, tmp_path):
    """Held-out PSNR: undistorting recovers the pinhole scene's quality (within 0.5 dB); training on
    distorted images with pinhole cameras (the distortion ignored) loses more."""
    root, _ = distorted
    ignored = tmp_path / "ignored"
    shutil.copytree(root / "images_4", ignored / "images_4")
    shutil.copytree(root / "colmap", ignored / "colmap")
    meta = json.loads((root / "transforms.json").read_text())
    meta.update(dict.fromkeys(DIST, 0.0))
    (ignored / "transforms.json").write_text(json.dumps(meta))

    cfg = _config()
    ref = reconstruct(scene_dir, tmp_path / "pinhole", cfg)["psnr"]
    fixed = reconstruct(root, tmp_path / "undistorted", dataclasses.replace(cfg))["psnr"]
    lost = reconstruct(ignored, tmp_path / "ignored_out", cfg)["psnr"]
    print(f"held-out PSNR: pinhole {ref:.2f}, undistorted {fixed:.2f}, distortion ignored {lost:.2f} dB")
    assert abs(fixed - ref) < 0.5
    assert lost < ref - 0.5 and lost < fixed
