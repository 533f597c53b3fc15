"""Render camera-primitive clips (video, ground-truth cameras, depth statistics) from 3D Gaussians.

The config is imported eagerly, the renderer (torch) on first use.
"""

import importlib

from lionlora.pipelines.render.config import RenderConfig

_LAZY = {name: "lionlora.pipelines.render.clip" for name in ("clip_intrinsics", "depth_stats", "render_clip")}

__all__ = ["RenderConfig", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lionlora.pipelines.render' has no attribute {name!r}")
