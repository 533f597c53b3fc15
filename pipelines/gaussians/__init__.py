"""3D Gaussian Splatting: the model, ``.ply`` I/O, two rasterisers (pure PyTorch; gsplat on CUDA),
reconstruction with densification, and an optional nerfstudio engine.

Only the configs are imported eagerly (the CLI registers options without loading torch); the
rest is loaded on first use.
"""

import importlib

from lionlora.pipelines.gaussians.config import DensifyConfig, ReconstructConfig

_LAZY = {
    "Gaussians": "lionlora.pipelines.gaussians.model",
    "init_from_points": "lionlora.pipelines.gaussians.model",
    "init_from_scene": "lionlora.pipelines.gaussians.model",
    "get_engine": "lionlora.pipelines.gaussians.engines",
    "resolve_engine": "lionlora.pipelines.gaussians.engines",
    "read_ply": "lionlora.pipelines.gaussians.ply",
    "write_ply": "lionlora.pipelines.gaussians.ply",
    "reconstruct": "lionlora.pipelines.gaussians.train",
}

__all__ = ["ReconstructConfig", "DensifyConfig", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lionlora.pipelines.gaussians' has no attribute {name!r}")
