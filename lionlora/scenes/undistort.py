"""Undistort a scene's images once into a pinhole image folder cached beside them.

DL3DV's ``transforms.json`` uses the OPENCV camera model (``k1, k2, p1, p2``). 3DGS and the clip
renderer assume pinhole cameras, so images with lens distortion are remapped, as gsplat's COLMAP
parser and nerfstudio do, with OpenCV: ``getOptimalNewCameraMatrix`` (``alpha=0``: every output pixel
sees the scene, the image keeps its size) gives the new pinhole intrinsics and
``initUndistortRectifyMap`` + ``remap`` the images. The result goes to ``images_N_undistorted/``
beside ``images_N/``, written atomically, with ``undistort.json`` recording the source intrinsics,
the distortion and the new intrinsics; a later load reuses it when these match.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from lionlora.geometry.camera import Intrinsics
from lionlora.io.files import atomic_dir, read_json, write_json
from lionlora.io.video import read_image, write_image

log = logging.getLogger(__name__)

MARKER = "undistort.json"


def pinhole_intrinsics(K: Intrinsics) -> Intrinsics:
    """The undistorted pinhole camera of ``K`` (same image size, no invalid pixels)."""
    new, _ = cv2.getOptimalNewCameraMatrix(K.K, np.asarray(K.dist, np.float64), (K.width, K.height), 0)
    return Intrinsics(
        float(new[0, 0]), float(new[1, 1]), float(new[0, 2]), float(new[1, 2]), K.width, K.height, (0.0,) * 4
    )


def undistort_image(image: np.ndarray, K: Intrinsics, new: Intrinsics) -> np.ndarray:
    """``image`` ``[H, W, 3]`` seen by ``K`` (with distortion) as the pinhole camera ``new`` sees it."""
    map_x, map_y = cv2.initUndistortRectifyMap(
        K.K, np.asarray(K.dist, np.float64), None, new.K, (new.width, new.height), cv2.CV_32FC1
    )
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def distort_image(image: np.ndarray, K: Intrinsics, iterations: int = 50) -> np.ndarray:
    """What a lens ``K`` (with ``K.dist``) records of the scene whose pinhole image at ``K`` (without
    distortion) is ``image``: each recorded pixel looks up the pinhole point it images (OpenCV's
    distortion model inverted by fixed-point iteration). For simulating captures and for tests."""
    h, w = image.shape[:2]
    k1, k2, p1, p2 = K.dist
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    xd, yd = (u - K.cx) / K.fx, (v - K.cy) / K.fy
    x, y = xd.copy(), yd.copy()
    for _ in range(iterations):
        r2 = x * x + y * y
        radial = 1 + k1 * r2 + k2 * r2 * r2
        x = (xd - (2 * p1 * x * y + p2 * (r2 + 2 * x * x))) / radial
        y = (yd - (p1 * (r2 + 2 * y * y) + 2 * p2 * x * y)) / radial
    map_x, map_y = (x * K.fx + K.cx).astype(np.float32), (y * K.fy + K.cy).astype(np.float32)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _record(K: Intrinsics, new: Intrinsics, names: list[str]) -> dict:
    def cam(k: Intrinsics) -> dict:
        return {"fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy, "w": k.width, "h": k.height, "dist": list(k.dist)}

    return {"source": cam(K), "pinhole": cam(new), "images": names}


def undistorted_folder(folder: Path) -> Path:
    """Where the undistorted copy of an image folder goes: ``images_N_undistorted`` beside it."""
    return folder.with_name(folder.name + "_undistorted")


def undistort_folder(paths: list[Path], K: Intrinsics) -> tuple[list[Path], Intrinsics]:
    """Undistorted copies of ``paths`` (one folder, cameras ``K``) and their pinhole intrinsics.

    Reuses the cached folder when its ``undistort.json`` records the same cameras and images.
    """
    new = pinhole_intrinsics(K)
    out = undistorted_folder(paths[0].parent)
    names = [p.name for p in paths]
    record = _record(K, new, names)
    marker = out / MARKER
    if marker.is_file() and read_json(marker, "an undistortion record") == record:
        return [out / n for n in names], new
    with atomic_dir(out, MARKER) as tmp:
        for p in tqdm(paths, desc=f"undistorting {paths[0].parent.name}", unit="image", leave=False):
            write_image(tmp / p.name, undistort_image(read_image(p), K, new))
        write_json(tmp / MARKER, record)
    log.info("undistorted %d images into %s (fx %.1f -> %.1f)", len(paths), out, K.fx, new.fx)
    return [out / n for n in names], new


def undistort_scene(scene):
    """The scene with its images undistorted (cached) and pinhole intrinsics; unchanged without distortion."""
    K = scene.cameras.intrinsics
    if not K.has_distortion:
        return scene
    paths, new = undistort_folder(scene.image_paths, K)
    cams = replace(scene.cameras, intrinsics=new, names=[str(p.relative_to(scene.root)) for p in paths])
    return replace(scene, cameras=cams, image_paths=paths)
