"""The CUDA engine: gsplat's ``rasterization`` (imported lazily; needs ``pip install -e ".[gpu]"``)."""

from __future__ import annotations

from torch import Tensor

from lionlora.errors import DependencyError


def require_gsplat():
    """The ``gsplat`` module, or :class:`DependencyError` saying how to get a working one."""
    import torch

    try:
        import gsplat
    except ImportError:
        raise DependencyError(
            "the gsplat engine needs gsplat: pip install -e '.[gpu]' (with a CUDA build of torch), "
            "or choose --engine torch"
        ) from None
    if not torch.cuda.is_available():
        raise DependencyError(
            "the gsplat engine needs a CUDA device (torch.cuda.is_available() is False); "
            "choose --engine torch on CPU machines"
        )
    return gsplat


def rasterize(
    means: Tensor,
    quats: Tensor,
    scales: Tensor,
    opacities: Tensor,
    colors: Tensor,
    viewmats: Tensor,
    Ks: Tensor,
    width: int,
    height: int,
    *,
    sh_degree: int | None = None,
    backgrounds: Tensor | None = None,
    render_mode: str = "RGB",
    near_plane: float = 0.01,
    far_plane: float = 1e10,
    eps2d: float = 0.3,
    **_: object,
) -> tuple[Tensor, Tensor, dict]:
    """``gsplat.rasterization`` with the arguments of :func:`lionlora.pipelines.gaussians.raster_torch.rasterize`.

    Options only the torch engine has (tile size, alpha threshold, chunking) are ignored.
    """
    gsplat = require_gsplat()
    return gsplat.rasterization(
        means=means,
        quats=quats,
        scales=scales,
        opacities=opacities,
        colors=colors,
        viewmats=viewmats,
        Ks=Ks,
        width=width,
        height=height,
        near_plane=near_plane,
        far_plane=far_plane,
        eps2d=eps2d,
        sh_degree=sh_degree,
        backgrounds=backgrounds,
        render_mode=render_mode,
        packed=False,
    )
