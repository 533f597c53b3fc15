"""Conversions between the internal convention and the formats met at the edges.

Internal: OpenCV camera-to-world (see :mod:`lionlora.geometry`). Formats handled here:

* **OpenGL / nerfstudio / instant-ngp** camera-to-world (x right, y up, z backward):
  ``c2w_gl = c2w_cv @ diag(1, -1, -1, 1)`` (the same matrix converts back).
* **nerfstudio ``applied_transform``** (3x4): ``ns-process-data`` stores poses in a world
  ``A @ world_colmap``; we undo it so cameras and SfM points share COLMAP's world.
* **COLMAP**: world-to-camera ``cam_from_world`` with rotation quaternion in w-x-y-z order.
* **gsplat**: ``viewmats`` are world-to-camera 4x4 matrices in the OpenCV camera frame.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from lionlora.geometry.se3 import make_pose, se3_inverse

#: Flips the camera's y and z axes: OpenCV <-> OpenGL camera frames (its own inverse).
CV_GL_FLIP = np.diag([1.0, -1.0, -1.0, 1.0])

#: nerfstudio's default ``applied_transform`` from ``ns-process-data`` (COLMAP -> json world).
NERFSTUDIO_COLMAP_APPLIED_TRANSFORM = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 0.0]])


def opengl_to_opencv(c2w_gl: np.ndarray) -> np.ndarray:
    """OpenGL camera-to-world ``[..., 4, 4]`` -> OpenCV camera-to-world."""
    return np.asarray(c2w_gl, dtype=np.float64) @ CV_GL_FLIP


def opencv_to_opengl(c2w_cv: np.ndarray) -> np.ndarray:
    """OpenCV camera-to-world ``[..., 4, 4]`` -> OpenGL camera-to-world."""
    return np.asarray(c2w_cv, dtype=np.float64) @ CV_GL_FLIP


def homogeneous(T: np.ndarray) -> np.ndarray:
    """Complete a ``[3, 4]`` transform to ``[4, 4]`` (``[4, 4]`` passes through)."""
    T = np.asarray(T, dtype=np.float64)
    if T.shape == (4, 4):
        return T
    out = np.eye(4)
    out[:3, :] = T
    return out


def undo_applied_transform(c2w: np.ndarray, applied_transform: np.ndarray) -> np.ndarray:
    """Map poses ``[..., 4, 4]`` stored in ``A @ world`` back to ``world``: ``inv(A) @ c2w``.

    ``A`` may include a uniform scale; it is inverted exactly (not as a rigid transform).
    """
    A = homogeneous(applied_transform)
    out = np.linalg.inv(A) @ np.asarray(c2w, dtype=np.float64)
    # re-orthonormalise away a uniform scale folded into A: the rotation block gets scaled by 1/s
    scale = np.cbrt(np.linalg.det(out[..., :3, :3]))[..., None, None]
    out[..., :3, :3] = out[..., :3, :3] / scale
    return out


def apply_transform(c2w: np.ndarray, applied_transform: np.ndarray) -> np.ndarray:
    """Inverse of :func:`undo_applied_transform` for rigid ``A``: ``A @ c2w``."""
    return homogeneous(applied_transform) @ np.asarray(c2w, dtype=np.float64)


def quat_wxyz_to_matrix(q_wxyz: np.ndarray) -> np.ndarray:
    """Unit quaternions ``[..., 4]`` in w-x-y-z order -> rotation matrices ``[..., 3, 3]``."""
    q = np.asarray(q_wxyz, dtype=np.float64)
    return Rotation.from_quat(np.concatenate([q[..., 1:], q[..., :1]], -1)).as_matrix()


def matrix_to_quat_wxyz(R: np.ndarray) -> np.ndarray:
    """Rotation matrices ``[..., 3, 3]`` -> unit quaternions w-x-y-z with w >= 0."""
    q = Rotation.from_matrix(np.asarray(R, dtype=np.float64)).as_quat()  # x y z w
    q = np.concatenate([q[..., 3:], q[..., :3]], -1)
    return np.where(q[..., :1] < 0, -q, q)


def colmap_to_c2w(q_wxyz: np.ndarray, t: np.ndarray) -> np.ndarray:
    """COLMAP ``cam_from_world`` (quaternion w-x-y-z, translation) -> OpenCV c2w ``[..., 4, 4]``."""
    return se3_inverse(make_pose(quat_wxyz_to_matrix(q_wxyz), t))


def c2w_to_colmap(c2w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV c2w ``[..., 4, 4]`` -> COLMAP ``cam_from_world`` as (quaternion w-x-y-z, t)."""
    w2c = se3_inverse(c2w)
    return matrix_to_quat_wxyz(w2c[..., :3, :3]), w2c[..., :3, 3]


def c2w_to_viewmat(c2w: np.ndarray) -> np.ndarray:
    """OpenCV c2w -> gsplat ``viewmats`` (world-to-camera, OpenCV frame) ``[..., 4, 4]``."""
    return se3_inverse(c2w)


def viewmat_to_c2w(viewmat: np.ndarray) -> np.ndarray:
    """gsplat ``viewmats`` -> OpenCV c2w."""
    return se3_inverse(viewmat)
