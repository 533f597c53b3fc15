"""Render camera-primitive clips (video, ground-truth cameras, depth statistics) from 3D Gaussians."""

from pipelines.render.clip import clip_intrinsics, depth_stats, render_clip
from pipelines.render.config import RenderConfig

__all__ = ["RenderConfig", "clip_intrinsics", "depth_stats", "render_clip"]
