"""Engine selection: ``torch`` (this project's CPU rasteriser), ``gsplat`` (CUDA), ``auto``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lionlora.errors import ConfigError

RASTER_ENGINES = ("auto", "torch", "gsplat")


@dataclass(frozen=True)
class Engine:
    """A rasteriser and the device its tensors live on."""

    name: str
    device: str
    rasterize: Callable


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def gsplat_available() -> bool:
    try:
        import gsplat  # noqa: F401
    except ImportError:
        return False
    return cuda_available()


def resolve_engine(name: str) -> str:
    """``auto`` -> ``gsplat`` where CUDA and gsplat are available, else ``torch``."""
    if name == "auto":
        return "gsplat" if gsplat_available() else "torch"
    return name


def get_engine(name: str) -> Engine:
    """The rasteriser for ``name`` (``auto``, ``torch`` or ``gsplat``).

    Raises:
        ConfigError: unknown engine name.
        DependencyError: ``gsplat`` without gsplat or without CUDA.
    """
    if name not in RASTER_ENGINES:
        raise ConfigError("engine", "engine", f"one of {list(RASTER_ENGINES)}", got=name)
    name = resolve_engine(name)
    if name == "gsplat":
        from lionlora.pipelines.gaussians import raster_gsplat

        raster_gsplat.require_gsplat()
        return Engine("gsplat", "cuda", raster_gsplat.rasterize)
    from lionlora.pipelines.gaussians import raster_torch

    return Engine("torch", "cpu", raster_torch.rasterize)
