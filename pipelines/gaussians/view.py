"""Render :class:`Gaussians` from cameras in the toolkit's convention with either engine."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from lionlora.geometry.camera import Intrinsics
from lionlora.geometry.convert import c2w_to_viewmat
from lionlora.pipelines.gaussians.engines import Engine
from lionlora.pipelines.gaussians.model import Gaussians


def camera_tensors(
    c2w: np.ndarray, intrinsics: Intrinsics, device: str = "cpu", dtype: torch.dtype = torch.float32
) -> tuple[Tensor, Tensor]:
    """gsplat-style ``viewmats [C, 4, 4]`` (world-to-camera, OpenCV) and ``Ks [C, 3, 3]`` for OpenCV ``c2w [C, 4, 4]``."""
    c2w = np.asarray(c2w, dtype=np.float64).reshape(-1, 4, 4)
    viewmats = torch.from_numpy(c2w_to_viewmat(c2w)).to(device=device, dtype=dtype)
    Ks = torch.from_numpy(np.repeat(intrinsics.K[None], len(c2w), 0)).to(device=device, dtype=dtype)
    return viewmats, Ks


def render(
    gaussians: Gaussians,
    engine: Engine,
    c2w: np.ndarray,
    intrinsics: Intrinsics,
    *,
    sh_degree: int | None = None,
    render_mode: str = "RGB",
    background: Tensor | None = None,
    **options,
) -> tuple[Tensor, Tensor, dict]:
    """Render ``gaussians`` (on ``engine.device``) from cameras ``c2w [C, 4, 4]``.

    Returns ``colors [C, H, W, X]``, ``alphas [C, H, W, 1]`` and the engine's info dict.
    ``sh_degree`` defaults to the Gaussians' own degree.
    """
    viewmats, Ks = camera_tensors(c2w, intrinsics, engine.device, gaussians.means.dtype)
    a = gaussians.activated()
    bg = None if background is None else background.to(viewmats).expand(len(viewmats), -1)
    return engine.rasterize(
        a["means"],
        a["quats"],
        a["scales"],
        a["opacities"],
        a["colors"],
        viewmats,
        Ks,
        int(intrinsics.width),
        int(intrinsics.height),
        sh_degree=gaussians.sh_degree if sh_degree is None else sh_degree,
        backgrounds=bg,
        render_mode=render_mode,
        **options,
    )
