"""Render a camera-primitive clip from 3D Gaussians, with its ground-truth cameras.

Output folder (built in a temporary folder beside it and moved into place, so an interrupted
render leaves nothing that looks finished and a rerun starts cleanly)::

    OUT/clip.mp4             H.264, ``frames`` frames at ``width x height``
    OUT/cameras.json         the cameras of exactly those frames (project cameras.json, OpenGL c2w);
                             its "lionlora" block holds {"primitive": NAME, "median_depth": D, ...}
    OUT/depth.json           expected-depth statistics: the start view's (which set D) and per-frame medians
    OUT/render_config.json   the resolved config (written last: marks a complete output)

The start camera is the scene camera ``start_frame``; the clip's intrinsics keep its focal
length in pixels per unit of field of view and crop the centre to the clip's aspect ratio.
``D`` is the median of the rendered expected depth over the start view's pixels whose
accumulated opacity exceeds ``depth_alpha``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lionlora.config import dump_config
from lionlora.errors import ConfigError, SceneError
from lionlora.geometry.camera import Intrinsics, Trajectory
from lionlora.io.cameras_json import write_cameras
from lionlora.io.files import atomic_dir, write_json
from lionlora.io.video import VideoWriter
from lionlora.pipelines.gaussians.engines import Engine, get_engine
from lionlora.pipelines.gaussians.model import Gaussians
from lionlora.pipelines.gaussians.ply import read_ply
from lionlora.pipelines.gaussians.view import render
from lionlora.pipelines.render.config import RenderConfig
from lionlora.pipelines.trajectories.primitives import parse_primitive, primitive_trajectory
from lionlora.scenes import load_scene

log = logging.getLogger(__name__)

MARKER = "render_config.json"


def clip_intrinsics(K: Intrinsics, width: int, height: int) -> Intrinsics:
    """Intrinsics of a ``width x height`` clip from camera ``K``: scale to cover, then crop the centre."""
    s = max(width / K.width, height / K.height)
    return Intrinsics(
        K.fx * s,
        K.fy * s,
        K.cx * s - (K.width * s - width) / 2.0,
        K.cy * s - (K.height * s - height) / 2.0,
        int(width),
        int(height),
    )


def depth_stats(depth: np.ndarray, alpha: np.ndarray, threshold: float) -> dict:
    """Statistics of an expected-depth map ``[H, W]`` over pixels with ``alpha > threshold``."""
    valid = (alpha > threshold) & np.isfinite(depth) & (depth > 0)
    if not valid.any():
        return {"median": None, "mean": None, "p05": None, "p95": None, "valid_fraction": 0.0}
    d = depth[valid]
    return {
        "median": float(np.median(d)),
        "mean": float(d.mean()),
        "p05": float(np.percentile(d, 5)),
        "p95": float(np.percentile(d, 95)),
        "valid_fraction": float(valid.mean()),
    }


def _render_rgbd(
    gaussians: Gaussians, engine: Engine, c2w: np.ndarray, K: Intrinsics, cfg: RenderConfig, background: torch.Tensor
):
    """uint8 frames ``[B, H, W, 3]``, expected depth ``[B, H, W]`` and alpha ``[B, H, W]`` (numpy)."""
    with torch.no_grad():
        out, alpha, _ = render(
            gaussians, engine, c2w, K, render_mode="RGB+ED", background=background, tile_size=cfg.tile_size
        )
        rgb = (out[..., :3].clamp(0, 1) * 255 + 0.5).to(torch.uint8)
        return rgb.cpu().numpy(), out[..., 3].float().cpu().numpy(), alpha[..., 0].float().cpu().numpy()


def start_view_depth(
    gaussians: Gaussians, engine: Engine, c2w0: np.ndarray, K: Intrinsics, cfg: RenderConfig, source: str = "splat"
) -> dict:
    """Depth statistics of the start view; raises :class:`SceneError` when it sees no Gaussians."""
    bg = torch.tensor(cfg.background, dtype=torch.float32, device=engine.device)
    _, depth, alpha = _render_rgbd(gaussians, engine, c2w0, K, cfg, bg)
    stats = depth_stats(depth[0], alpha[0], cfg.depth_alpha)
    if stats["median"] is None:
        raise SceneError(
            source,
            "start view",
            f"Gaussians covering the start camera's view (opacity > {cfg.depth_alpha})",
            got="an empty render",
        )
    return stats


def write_clip(gaussians: Gaussians, engine: Engine, traj: Trajectory, video: Path, cfg: RenderConfig) -> list[float]:
    """Render ``traj`` into ``video`` (mp4, atomic); returns the per-frame median expected depth."""
    bg = torch.tensor(cfg.background, dtype=torch.float32, device=engine.device)
    medians: list[float] = []
    batch = cfg.batch if engine.name == "gsplat" else 1
    with (
        VideoWriter(video, fps=cfg.fps, crf=cfg.crf, preset=cfg.preset) as writer,
        tqdm(total=len(traj), desc=f"render {traj.metadata.get('primitive', '')}", unit="frame") as bar,
    ):
        for i0 in range(0, len(traj), batch):
            rgb, depth, alpha = _render_rgbd(gaussians, engine, traj.c2w[i0 : i0 + batch], traj.intrinsics, cfg, bg)
            for j in range(len(rgb)):
                writer.write(rgb[j])
                medians.append(depth_stats(depth[j], alpha[j], cfg.depth_alpha)["median"])
            bar.update(len(rgb))
    return medians


def render_clip(
    splat: str | Path, scene_dir: str | Path, primitive: str, out: str | Path, cfg: RenderConfig | None = None
) -> dict:
    """Render the clip of ``primitive`` (``NAME`` or ``NAME+NAME...``) into folder ``out``; returns its metadata."""
    cfg = cfg or RenderConfig()
    parse_primitive(primitive)  # unknown names fail before any work
    engine = get_engine(cfg.engine)
    scene = load_scene(scene_dir, check_images=False)
    if cfg.start_frame >= len(scene):
        raise ConfigError(
            "RenderConfig", "start_frame", f"an index below the scene's {len(scene)} frames", got=cfg.start_frame
        )
    gaussians = read_ply(splat).to(engine.device)
    K = clip_intrinsics(scene.cameras.intrinsics, cfg.width, cfg.height)
    c2w0 = scene.cameras.c2w[cfg.start_frame]
    start = start_view_depth(gaussians, engine, c2w0, K, cfg, source=str(splat))
    traj = primitive_trajectory(primitive, c2w0, K, cfg.frames, start["median"], cfg.trajectory)
    traj.metadata.update(
        {
            "scene": str(scene_dir),
            "splat": str(splat),
            "start_frame": cfg.start_frame,
            "start_image": scene.cameras.names[cfg.start_frame],
            "fps": cfg.fps,
            "frames": cfg.frames,
            "engine": engine.name,
        }
    )
    out = Path(out)
    with atomic_dir(out, MARKER) as tmp:
        medians = write_clip(gaussians, engine, traj, tmp / "clip.mp4", cfg)
        write_cameras(tmp / "cameras.json", traj)
        write_json(
            tmp / "depth.json",
            {
                "median_depth": start["median"],
                "start_view": start,
                "depth_alpha": cfg.depth_alpha,
                "per_frame_median": medians,
            },
        )
        dump_config(cfg, tmp / MARKER)
    log.info("%s: %d frames, median depth %.3f -> %s", traj.metadata["primitive"], cfg.frames, start["median"], out)
    return traj.metadata
