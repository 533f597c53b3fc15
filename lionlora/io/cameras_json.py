"""The project's camera file, ``cameras.json``, in the nerfstudio ``transforms.json`` layout.

Layout written::

    {
      "camera_model": "PINHOLE",           # "OPENCV" when distortion is non-zero
      "w": 720, "h": 480,                  # image size in pixels
      "fl_x": 600.0, "fl_y": 600.0,        # focal lengths in pixels
      "cx": 360.0, "cy": 240.0,            # principal point (pixel-edge origin)
      "k1": 0, "k2": 0, "p1": 0, "p2": 0,  # only with OPENCV
      "frames": [
        {"transform_matrix": [[...4x4...]],  # OpenGL camera-to-world (x right, y up, z back)
         "file_path": "images/frame_00001.png"}   # optional
      ],
      "lionlora": {...}                    # optional metadata of the stage that wrote it
    }

Read: the same, plus what nerfstudio and instant-ngp files contain: ``applied_transform``
(undone, so poses land in the SfM world), ``camera_angle_x``/``camera_angle_y`` instead of focal
lengths, and per-frame intrinsics that repeat the shared ones. Frames keep the file's order.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from lionlora.checks import is_finite_number
from lionlora.errors import CameraError
from lionlora.geometry.camera import Intrinsics, Trajectory
from lionlora.geometry.convert import opencv_to_opengl, opengl_to_opencv, undo_applied_transform
from lionlora.geometry.se3 import check_rigid
from lionlora.io.files import read_json, write_json

_INTRINSIC_KEYS = ("fl_x", "fl_y", "cx", "cy", "w", "h")
_DIST_KEYS = ("k1", "k2", "p1", "p2")


def _number(data: dict, key: str, source: Path, where: str) -> float:
    value = data[key]
    if not is_finite_number(value):
        raise CameraError(source, f"{where}{key}", "a finite number", got=value)
    return float(value)


def _intrinsics(data: dict, source: Path, image_size: tuple[int, int] | None) -> Intrinsics:
    if "w" in data and "h" in data:
        w, h = int(_number(data, "w", source, "")), int(_number(data, "h", source, ""))
    elif image_size is not None:
        w, h = image_size
    else:
        raise CameraError(source, "w/h", "the image size as 'w' and 'h'", got="missing")
    if "fl_x" in data:
        fx = _number(data, "fl_x", source, "")
        fy = _number(data, "fl_y", source, "") if "fl_y" in data else fx
    elif "camera_angle_x" in data:
        fx = 0.5 * w / math.tan(0.5 * _number(data, "camera_angle_x", source, ""))
        fy = 0.5 * h / math.tan(0.5 * _number(data, "camera_angle_y", source, "")) if "camera_angle_y" in data else fx
    else:
        raise CameraError(source, "fl_x", "focal lengths 'fl_x'/'fl_y' or 'camera_angle_x'", got="missing")
    cx = _number(data, "cx", source, "") if "cx" in data else w / 2.0
    cy = _number(data, "cy", source, "") if "cy" in data else h / 2.0
    dist = tuple(_number(data, k, source, "") if k in data else 0.0 for k in _DIST_KEYS)
    try:
        return Intrinsics(fx, fy, cx, cy, w, h, dist)
    except CameraError as exc:
        raise CameraError(source, exc.field, exc.expected, exc.got) from None


def read_cameras(path: str | Path, image_size: tuple[int, int] | None = None) -> Trajectory:
    """Read a ``cameras.json`` / nerfstudio / instant-ngp ``transforms.json``.

    Args:
        path: the JSON file.
        image_size: ``(width, height)`` used when the file does not store ``w``/``h``.
    Returns:
        A :class:`Trajectory` in the internal convention; ``names`` holds the frames'
        ``file_path`` when every frame has one.
    Raises:
        CameraError: missing or invalid fields, non-rigid or NaN matrices, no frames.
    """
    path = Path(path)
    data = read_json(path, "a cameras.json / transforms.json file")
    if not isinstance(data, dict):
        raise CameraError(path, "", "a JSON object", got=type(data).__name__)
    frames = data.get("frames")
    if not isinstance(frames, list) or not frames:
        raise CameraError(path, "frames", "a non-empty list of frames", got=frames if frames is None else len(frames))
    intr = _intrinsics(data, path, image_size)
    mats = []
    for i, fr in enumerate(frames):
        if not isinstance(fr, dict) or "transform_matrix" not in fr:
            raise CameraError(path, f"frames[{i}].transform_matrix", "a 4x4 matrix", got="missing")
        try:
            M = np.asarray(fr["transform_matrix"], dtype=np.float64)
        except (TypeError, ValueError):
            raise CameraError(
                path, f"frames[{i}].transform_matrix", "a 4x4 numeric matrix", got=fr["transform_matrix"]
            ) from None
        mats.append(check_rigid(M, str(path), f"frames[{i}].transform_matrix"))
        for key in _INTRINSIC_KEYS:
            if key in fr and key in data and not math.isclose(float(fr[key]), float(data[key]), rel_tol=1e-6):
                raise CameraError(
                    path,
                    f"frames[{i}].{key}",
                    f"the shared value {data[key]} (per-frame intrinsics are not supported)",
                    got=fr[key],
                )
    c2w = opengl_to_opencv(np.stack(mats))
    if "applied_transform" in data:
        A = np.asarray(data["applied_transform"], dtype=np.float64)
        if A.shape not in ((3, 4), (4, 4)) or not np.all(np.isfinite(A)):
            raise CameraError(path, "applied_transform", "a finite 3x4 matrix", got=f"shape {A.shape}")
        c2w = undo_applied_transform(c2w, A)
    names = [fr.get("file_path") for fr in frames]
    metadata = data.get("lionlora", {}) if isinstance(data.get("lionlora", {}), dict) else {}
    return Trajectory(
        c2w=c2w, intrinsics=intr, names=names if all(isinstance(n, str) for n in names) else None, metadata=metadata
    )


def cameras_to_dict(traj: Trajectory, metadata: dict[str, Any] | None = None) -> dict:
    """The JSON object written by :func:`write_cameras`."""
    K = traj.intrinsics
    out: dict[str, Any] = {
        "camera_model": "OPENCV" if K.has_distortion else "PINHOLE",
        "w": int(K.width),
        "h": int(K.height),
        "fl_x": float(K.fx),
        "fl_y": float(K.fy),
        "cx": float(K.cx),
        "cy": float(K.cy),
    }
    if K.has_distortion:
        out.update({k: float(v) for k, v in zip(_DIST_KEYS, K.dist)})
    gl = opencv_to_opengl(traj.c2w)
    frames = []
    for i in range(len(traj)):
        fr: dict[str, Any] = {"transform_matrix": gl[i].tolist()}
        if traj.names is not None:
            fr["file_path"] = traj.names[i]
        frames.append(fr)
    out["frames"] = frames
    meta = {**traj.metadata, **(metadata or {})}
    if meta:
        out["lionlora"] = meta
    return out


def write_cameras(path: str | Path, traj: Trajectory, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``traj`` as a project ``cameras.json`` (atomically)."""
    return write_json(path, cameras_to_dict(traj, metadata))
