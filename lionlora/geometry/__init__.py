"""Shared geometry: rigid and similarity transforms, cameras, and convention conversions.

The one camera convention used inside the toolkit
-------------------------------------------------
* Poses are **camera-to-world** matrices named ``c2w``: ``[..., 4, 4]`` float64, in the
  **OpenCV** camera frame: x right, y down, z forward (the camera looks along +z).
* Points are mapped by ``p_world = c2w[:3, :3] @ p_cam + c2w[:3, 3]``; the camera centre is
  ``c2w[:3, 3]``.
* Intrinsics are pinhole ``fx, fy, cx, cy`` in pixels for an image of ``width x height``, with
  the pixel-edge origin used by COLMAP and nerfstudio (the centre of pixel (0, 0) is (0.5, 0.5)).
* The world frame is the frame of the scene's SfM points (for DL3DV: COLMAP's world, with
  nerfstudio's ``applied_transform`` undone).

Everything else (OpenGL/nerfstudio ``transform_matrix``, COLMAP world-to-camera with w-x-y-z
quaternions, gsplat view matrices) is converted at the edges by :mod:`lionlora.geometry.convert`.
"""

from lionlora.geometry.camera import Intrinsics, Trajectory, look_at
from lionlora.geometry.se3 import (
    Sim3,
    check_rigid,
    compose,
    interpolate_poses,
    make_pose,
    relative_to_first,
    rotation_angle,
    se3_inverse,
    umeyama,
    umeyama_batched,
)

__all__ = [
    "Intrinsics",
    "Trajectory",
    "look_at",
    "Sim3",
    "check_rigid",
    "compose",
    "interpolate_poses",
    "make_pose",
    "relative_to_first",
    "rotation_angle",
    "se3_inverse",
    "umeyama",
    "umeyama_batched",
]
