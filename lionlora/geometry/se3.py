"""SE(3) and Sim(3) helpers on numpy arrays (float64).

Poses are 4x4 homogeneous matrices; functions accept a single pose ``[4, 4]`` or a batch
``[..., 4, 4]``. Nothing here knows about files, cameras or conventions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from lionlora.errors import CameraError

ArrayLike = np.ndarray

#: Point sets whose mean squared distance to their centroid is at most this have no spread (no scale).
MIN_SPREAD = 1e-18


def make_pose(R: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Build ``[..., 4, 4]`` poses from rotations ``[..., 3, 3]`` and translations ``[..., 3]``."""
    R = np.asarray(R, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    batch = np.broadcast_shapes(R.shape[:-2], t.shape[:-1])
    T = np.zeros(batch + (4, 4))
    T[..., :3, :3] = R
    T[..., :3, 3] = t
    T[..., 3, 3] = 1.0
    return T


def se3_inverse(T: ArrayLike) -> np.ndarray:
    """Inverse of rigid transforms ``[..., 4, 4]`` (uses R^T, exact for rotations)."""
    T = np.asarray(T, dtype=np.float64)
    R = T[..., :3, :3]
    t = T[..., :3, 3]
    Rt = np.swapaxes(R, -1, -2)
    return make_pose(Rt, -np.einsum("...ij,...j->...i", Rt, t))


def compose(*Ts: ArrayLike) -> np.ndarray:
    """Matrix product ``Ts[0] @ Ts[1] @ ...`` with broadcasting over batch dimensions."""
    out = np.asarray(Ts[0], dtype=np.float64)
    for T in Ts[1:]:
        out = out @ np.asarray(T, dtype=np.float64)
    return out


def relative_to_first(c2w: ArrayLike) -> np.ndarray:
    """``inv(c2w[..., 0]) @ c2w[..., i]`` for sequences ``[..., N, 4, 4]``: the first pose becomes identity."""
    c2w = np.asarray(c2w, dtype=np.float64)
    return se3_inverse(c2w[..., :1, :, :]) @ c2w


def rotation_angle(R: ArrayLike) -> np.ndarray:
    """Geodesic angle in radians of rotations ``[..., 3, 3]``: arccos((tr R - 1) / 2)."""
    R = np.asarray(R, dtype=np.float64)
    cos = (np.trace(R, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.arccos(np.clip(cos, -1.0, 1.0))


def check_rigid(T: ArrayLike, source: str, field: str, atol: float = 1e-4) -> np.ndarray:
    """Validate one or many rigid transforms; raise :class:`CameraError` naming the bad one.

    Checks shape ``[..., 4, 4]`` (``[..., 3, 4]`` is completed), finiteness, orthonormal
    rotation with determinant +1 and the homogeneous bottom row.
    """
    T = np.asarray(T, dtype=np.float64)
    if T.shape[-2:] == (3, 4):
        bottom = np.broadcast_to(np.array([0.0, 0.0, 0.0, 1.0]), T.shape[:-2] + (1, 4))
        T = np.concatenate([T, bottom], axis=-2)
    if T.ndim < 2 or T.shape[-2:] != (4, 4):
        raise CameraError(source, field, "a 4x4 (or 3x4) matrix", got=f"shape {T.shape}")
    flat = T.reshape(-1, 4, 4)
    for i, M in enumerate(flat):
        where = field if flat.shape[0] == 1 else f"{field}[{i}]"
        if not np.all(np.isfinite(M)):
            raise CameraError(source, where, "a finite matrix", got="NaN or inf entries")
        R = M[:3, :3]
        if not np.allclose(R.T @ R, np.eye(3), atol=atol) or np.linalg.det(R) < 0:
            raise CameraError(
                source,
                where,
                "a rigid transform (orthonormal rotation, det +1, no scale)",
                got=f"R^T R deviates by {np.abs(R.T @ R - np.eye(3)).max():.3g}, det {np.linalg.det(R):.4g}",
            )
        if not np.allclose(M[3], [0, 0, 0, 1], atol=atol):
            raise CameraError(source, where, "bottom row [0, 0, 0, 1]", got=M[3].tolist())
    return T


def interpolate_poses(T0: ArrayLike, T1: ArrayLike, alphas: ArrayLike) -> np.ndarray:
    """Interpolate between two poses: slerp on rotation, linear on translation.

    Args:
        T0, T1: poses ``[4, 4]``.
        alphas: interpolation weights ``[M]`` (0 gives T0, 1 gives T1).
    Returns:
        ``[M, 4, 4]`` poses.
    """
    T0 = np.asarray(T0, dtype=np.float64)
    T1 = np.asarray(T1, dtype=np.float64)
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    slerp = Slerp([0.0, 1.0], Rotation.from_matrix(np.stack([T0[:3, :3], T1[:3, :3]])))
    R = slerp(np.clip(alphas, 0.0, 1.0)).as_matrix()
    t = (1.0 - alphas)[:, None] * T0[:3, 3] + alphas[:, None] * T1[:3, 3]
    return make_pose(R, t)


@dataclass(frozen=True)
class Sim3:
    """A similarity transform ``x -> scale * R @ x + t``."""

    scale: float
    R: np.ndarray  # [3, 3]
    t: np.ndarray  # [3]

    def apply(self, points: ArrayLike) -> np.ndarray:
        """Transform points ``[..., 3]``."""
        return self.scale * np.asarray(points, dtype=np.float64) @ self.R.T + self.t

    def apply_to_poses(self, c2w: ArrayLike) -> np.ndarray:
        """Transform camera-to-world poses ``[..., 4, 4]``; the result stays rigid."""
        c2w = np.asarray(c2w, dtype=np.float64)
        return make_pose(self.R @ c2w[..., :3, :3], self.apply(c2w[..., :3, 3]))

    def matrix(self) -> np.ndarray:
        """4x4 matrix with the scale folded into the rotation block."""
        return make_pose(self.scale * self.R, self.t)

    def inverse(self) -> Sim3:
        Rt = self.R.T
        return Sim3(1.0 / self.scale, Rt, -(Rt @ self.t) / self.scale)


def umeyama(src: ArrayLike, dst: ArrayLike, with_scale: bool = True) -> Sim3:
    """Least-squares similarity (or rigid) transform mapping ``src`` onto ``dst`` (Umeyama 1991).

    Args:
        src: points ``[N, 3]``.
        dst: points ``[N, 3]``.
        with_scale: estimate the scale (Sim(3)); otherwise scale is 1 (SE(3)).
    Returns:
        The :class:`Sim3` minimising ``sum ||dst_i - (s R src_i + t)||^2``.
    Raises:
        CameraError: fewer than 3 points, or all source points coincide (scale undefined).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 3:
        raise CameraError(
            "umeyama", "points", "two [N, 3] arrays of the same shape", got=f"{src.shape} and {dst.shape}"
        )
    n = src.shape[0]
    if n < 3:
        raise CameraError("umeyama", "points", "at least 3 point pairs", got=n)
    if ((src - src.mean(0)) ** 2).sum() / n <= MIN_SPREAD:
        raise CameraError("umeyama", "points", "source points that are not all identical", got="zero spread")
    scale, R, t = umeyama_batched(src, dst, with_scale)
    return Sim3(float(scale), R, t)


def umeyama_batched(
    src: np.ndarray, dst: np.ndarray, with_scale: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`umeyama` over point sets ``[..., N, 3]``, without the checks.

    A source without spread (mean squared distance to its centroid <= ``MIN_SPREAD``) gets scale 0
    (every point maps onto the destination's centroid) instead of an error.

    Returns:
        ``scale [...]``, ``R [..., 3, 3]``, ``t [..., 3]``.
    """
    n = src.shape[-2]
    mu_s, mu_d = src.mean(axis=-2), dst.mean(axis=-2)
    xs, xd = src - mu_s[..., None, :], dst - mu_d[..., None, :]
    var_s = (xs**2).sum(axis=(-2, -1)) / n
    cov = np.einsum("...ni,...nj->...ij", xd, xs) / n
    U, D, Vt = np.linalg.svd(cov)
    S = np.ones(D.shape)
    S[..., 2] = np.where(np.linalg.det(U) * np.linalg.det(Vt) < 0, -1.0, 1.0)
    R = (U * S[..., None, :]) @ Vt
    if with_scale:
        spread = var_s > MIN_SPREAD
        scale = np.where(spread, (D * S).sum(axis=-1) / np.where(spread, var_s, 1.0), 0.0)
    else:
        scale = np.ones(var_s.shape)
    t = mu_d - scale[..., None] * np.einsum("...ij,...j->...i", R, mu_s)
    return scale, R, t
