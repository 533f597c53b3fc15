"""Scenes with lens distortion (OPENCV model): undistorted once into pinhole images, cached.

The effect on a reconstruction (pinhole vs undistorted vs distortion ignored) is measured by
``benchmarks/undistort.py``: three 3DGS runs are too slow for a unit test on a shared CPU."""

import dataclasses
import json
import shutil

import cv2
import numpy as np
import pytest

from lionlora.io.video import read_image, write_image
from lionlora.pipelines.gaussians.metrics import psnr
from lionlora.scenes import load_scene
from lionlora.scenes.undistort import distort_image

#: a wide-angle lens: barrel distortion of about 4 px at the corners of a 240x135 image
DIST = {"k1": -0.12, "k2": 0.02, "p1": 0.001, "p2": -0.001}


def smooth(image: np.ndarray) -> np.ndarray:
    """The embedded scene's images, blurred so that bilinear resampling is near exact (> 40 dB)."""
    return cv2.GaussianBlur(image, (0, 0), 1.5)


@pytest.fixture(scope="module")
def distorted(scene_dir, tmp_path_factory):
    """The embedded scene (images_4) as a lens with :data:`DIST` records it, and the pinhole original."""
    root = tmp_path_factory.mktemp("lens") / "distorted"
    (root / "images_4").mkdir(parents=True)
    pinhole = load_scene(scene_dir, downsample=4)
    lens = dataclasses.replace(pinhole.cameras.intrinsics, dist=tuple(DIST.values()))
    for p in pinhole.image_paths:
        write_image(root / "images_4" / p.name, distort_image(smooth(read_image(p)), lens))
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
    inner = (slice(8, -8), slice(8, -8))
    for i in (0, 7):
        original = smooth(pinhole.load_image(i))
        truth = cv2.warpAffine(original, M, (K.width, K.height), flags=cv2.WARP_INVERSE_MAP)
        fixed = psnr(scene.load_image(i)[seen] / 255.0, truth[seen] / 255.0)
        # the old behaviour: the recorded image taken for the pinhole view of the original camera
        ignored = psnr(
            read_image(root / "images_4" / scene.image_paths[i].name)[inner] / 255.0, original[inner] / 255.0
        )
        assert fixed > 35.0 and ignored < fixed - 8.0, (fixed, ignored)
    # inputs untouched; a second load reuses the cache
    assert sorted((p.name, p.stat().st_mtime_ns) for p in (root / "images_4").iterdir()) == before
    stamp = (root / "images_4_undistorted" / "undistort.json").stat().st_mtime_ns
    again = load_scene(root, downsample=4)
    assert again.cameras.intrinsics == K
    assert (root / "images_4_undistorted" / "undistort.json").stat().st_mtime_ns == stamp
    # asked not to undistort: distorted images, pinhole cameras, and a warning
    raw_scene = load_scene(root, downsample=4, undistort=False)
    assert raw_scene.image_paths[0].parent.name == "images_4" and "ignored" in raw_scene.warnings[-1]
