"""Real spherical harmonics up to degree 3, in the basis order of the 3DGS ``.ply`` format.

Colours are ``SH(d) . coeffs + 0.5`` clamped at zero, where ``d`` is the unit direction from the
camera centre to the Gaussian (world frame). Coefficient ``k`` of a Gaussian is ``[..., k, 3]``
(RGB); ``(degree + 1) ** 2`` coefficients per degree.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

SH_C0 = 0.28209479177387814  # 1 / (2 sqrt(pi))
_C1 = 0.4886025119029199  # sqrt(3 / (4 pi))
_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
_C3 = (
    -0.5900435899266435,
    2.890611442640554,
    -0.4570457994644658,
    0.3731763325901154,
    -0.4570457994644658,
    1.445305721320277,
    -0.5900435899266435,
)


def num_coeffs(degree: int) -> int:
    """Number of SH coefficients per channel for ``degree`` (0..3)."""
    return (degree + 1) ** 2


def degree_of(n_coeffs: int) -> int:
    """SH degree for ``n_coeffs`` coefficients per channel (1, 4, 9 or 16)."""
    degree = int(round(math.sqrt(n_coeffs))) - 1
    if num_coeffs(degree) != n_coeffs or not 0 <= degree <= 3:
        raise ValueError(f"{n_coeffs} SH coefficients per channel is not (degree + 1)^2 for degree 0..3")
    return degree


def sh_basis(degree: int, dirs: Tensor) -> Tensor:
    """SH basis functions ``[..., (degree + 1)^2]`` at unit directions ``dirs [..., 3]``."""
    x, y, z = dirs.unbind(-1)
    out = [torch.full_like(x, SH_C0)]
    if degree >= 1:
        out += [-_C1 * y, _C1 * z, -_C1 * x]
    if degree >= 2:
        xx, yy, zz = x * x, y * y, z * z
        out += [_C2[0] * x * y, _C2[1] * y * z, _C2[2] * (2 * zz - xx - yy), _C2[3] * x * z, _C2[4] * (xx - yy)]
    if degree >= 3:
        out += [
            _C3[0] * y * (3 * xx - yy),
            _C3[1] * x * y * z,
            _C3[2] * y * (4 * zz - xx - yy),
            _C3[3] * z * (2 * zz - 3 * xx - 3 * yy),
            _C3[4] * x * (4 * zz - xx - yy),
            _C3[5] * z * (xx - yy),
            _C3[6] * x * (xx - 3 * yy),
        ]
    return torch.stack(out, -1)


def sh_to_rgb(degree: int, dirs: Tensor, coeffs: Tensor) -> Tensor:
    """Colours ``[..., 3]`` of SH ``coeffs [..., K, 3]`` (first ``(degree+1)^2`` used) seen along ``dirs``.

    ``dirs`` need not be normalised. Returns ``max(SH . coeffs + 0.5, 0)``.
    """
    k = num_coeffs(degree)
    basis = sh_basis(degree, torch.nn.functional.normalize(dirs, dim=-1))
    return torch.clamp_min((basis[..., None] * coeffs[..., :k, :]).sum(-2) + 0.5, 0.0)


def rgb_to_sh0(rgb: Tensor) -> Tensor:
    """Degree-0 coefficient giving colour ``rgb [..., 3]`` in [0, 1]."""
    return (rgb - 0.5) / SH_C0


def sh_rotation(degree: int, R: np.ndarray, samples: int = 64, seed: int = 0) -> np.ndarray:
    """Matrix ``D [K, K]`` with ``coeffs' = D @ coeffs`` for a world rotated by ``R [3, 3]``.

    The rotated function satisfies ``f'(d) = f(R^T d)``. Each SH band is closed under
    rotation, so ``D`` is recovered exactly (to rounding) by least squares over random
    directions.
    """
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(max(samples, 4 * num_coeffs(degree)), 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    B = sh_basis(degree, torch.from_numpy(d)).numpy()
    B_rot = sh_basis(degree, torch.from_numpy(d @ np.asarray(R, dtype=np.float64))).numpy()  # rows R^T d
    return np.linalg.lstsq(B, B_rot, rcond=None)[0]
