"""Image losses and metrics: PSNR, SSIM (a differentiable torch version for the loss; scikit-image
for reported figures)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


def psnr(a: np.ndarray | Tensor, b: np.ndarray | Tensor) -> float:
    """Peak signal-to-noise ratio in dB of images in [0, 1]."""
    mse = float(((torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)) ** 2).mean())
    return float("inf") if mse == 0 else -10.0 * math.log10(mse)


def _gauss_window(size: int, sigma: float, dtype, device) -> Tensor:
    x = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    g = torch.exp(-x * x / (2 * sigma * sigma))
    return g / g.sum()


def ssim(a: Tensor, b: Tensor, window: int = 11, sigma: float = 1.5, data_range: float = 1.0) -> Tensor:
    """Mean SSIM of images ``[H, W, C]`` (Wang et al. 2004; Gaussian window, valid region only).

    Equals scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)`` on the same images; differentiable.
    """
    c = a.shape[-1]
    xa = a.permute(2, 0, 1)[None]
    xb = b.permute(2, 0, 1)[None]
    planes = torch.cat([xa, xb, xa * xa, xb * xb, xa * xb], 1)  # [1, 5C, H, W]
    g = _gauss_window(window, sigma, a.dtype, a.device)
    n = planes.shape[1]
    blurred = F.conv2d(
        F.conv2d(planes, g.reshape(1, 1, 1, -1).expand(n, 1, 1, window), groups=n),
        g.reshape(1, 1, -1, 1).expand(n, 1, window, 1),
        groups=n,
    )
    mu_a, mu_b, aa, bb, ab = blurred.split(c, 1)
    var_a, var_b, cov = aa - mu_a**2, bb - mu_b**2, ab - mu_a * mu_b
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.mean()


def ssim_reference(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM by scikit-image (Gaussian window sigma 1.5, population covariance) of ``[H, W, 3]`` in [0, 1]."""
    from skimage.metrics import structural_similarity

    return float(
        structural_similarity(
            np.asarray(a, np.float64),
            np.asarray(b, np.float64),
            data_range=1.0,
            channel_axis=-1,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
    )
