"""Analyse a video's planned clips: static-camera statistic and optical-flow motion, then decide.

Both tests run on the frames that become clips (resampled and cropped), downscaled to
``track_short_side``. Each clip is tracked on its own (tracks restart at its first frame), so the
video's camera motion is the largest over its clips and a camera that moves in any clip rejects the
video. The object-motion statistic is a high percentile of the per-pixel flow magnitude between
frames ``motion_gap`` apart, per frame and as a fraction of the flow resolution's short side,
averaged over the pairs of all clips: a small moving region counts, sensor noise and compression
flicker do not add up over the gap. The mean flow magnitude over consecutive pairs (``motion``) is
kept as a second, optional test. Both come from the project's one flow implementation
(:mod:`lionlora.flow`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lionlora.errors import ConfigError
from lionlora.flow import displacement_percentiles, pair_magnitudes
from lionlora.pipelines.webvideo.clips import ClipPlan, iter_clip_frames
from lionlora.pipelines.webvideo.config import FilterConfig
from lionlora.pipelines.webvideo.static import border_points, camera_motion
from lionlora.pipelines.webvideo.tracking import Tracker


@dataclass
class VideoAnalysis:
    """Statistics of a video's clips.

    Attributes:
        camera_motion: largest per-clip median border displacement, fraction of min(H, W).
        lost: in some clip fewer than ``min_points`` border points stayed visible.
        border_points: border points tracked per clip.
        min_visible: fewest border points visible at any frame of any clip.
        motion: mean optical-flow magnitude (px per frame at the flow analysis resolution).
        clips: clips analysed.
        object_motion: mean over frame pairs of the ``motion_percentile`` of the per-pixel flow
            magnitude over ``motion_gap`` frames, fraction of the flow resolution's short side per frame.
    """

    camera_motion: float
    lost: bool
    border_points: int
    min_visible: int
    motion: float
    clips: int
    object_motion: float


def track_size(cfg: FilterConfig) -> tuple[int, int]:
    """(height, width) at which clips are tracked: short side ``track_short_side``, never upscaled."""
    s = min(1.0, cfg.track_short_side / min(cfg.height, cfg.width))
    return max(1, round(cfg.height * s)), max(1, round(cfg.width * s))


def analysis_queries(cfg: FilterConfig) -> np.ndarray:
    """The border query points ``[N, 2]`` at the tracking size (checked against ``min_points``)."""
    h, w = track_size(cfg)
    queries = border_points(h, w, cfg.grid_size, cfg.border)
    if len(queries) < cfg.min_points:
        raise ConfigError(
            "FilterConfig",
            "grid_size/border",
            f"at least min_points={cfg.min_points} grid points in the border band",
            got=len(queries),
        )
    return queries


def analyse_video(path: str | Path, plan: ClipPlan, cfg: FilterConfig, tracker: Tracker) -> VideoAnalysis:
    """Track border points and measure flow in each planned clip of ``path`` (``plan.clips >= 1``)."""
    h, w = track_size(cfg)
    queries = analysis_queries(cfg)
    stats, flows, peaks = [], [], []
    for _, group in itertools.groupby(iter_clip_frames(path, plan, cfg), key=lambda item: item[0]):
        frames = np.stack(
            [f if f.shape[:2] == (h, w) else cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for _, f in group]
        )
        stats.append(camera_motion(tracker(frames, queries), h, w, cfg.min_points))
        flows.append(pair_magnitudes(frames, cfg.flow, source=str(path)))
        peaks.append(
            displacement_percentiles(frames, cfg.flow, cfg.motion_gap, cfg.motion_percentile, source=str(path))
        )
    worst = max(s.motion for s in stats)
    return VideoAnalysis(
        camera_motion=worst,
        lost=any(s.lost for s in stats),
        border_points=len(queries),
        min_visible=min(s.min_visible for s in stats),
        motion=float(np.concatenate(flows).mean()),
        clips=len(stats),
        object_motion=float(np.concatenate(peaks).mean()),
    )


@dataclass(frozen=True)
class Decision:
    static_camera: bool
    enough_motion: bool
    reason: str

    @property
    def keep(self) -> bool:
        return self.static_camera and self.enough_motion


def decide(a: VideoAnalysis, cfg: FilterConfig) -> Decision:
    """Static camera and enough motion; the reason names every failed test with its numbers."""
    reasons = []
    static = not a.lost and a.camera_motion <= cfg.max_camera_motion
    if a.lost:
        reasons.append(
            f"camera moves: only {a.min_visible} of {a.border_points} border points stayed "
            f"visible (min_points {cfg.min_points})"
        )
    elif not static:
        reasons.append(
            f"camera moves: border displacement {a.camera_motion:.4f} of min(H, W) "
            f"> max_camera_motion {cfg.max_camera_motion:g}"
        )
    enough = a.object_motion >= cfg.min_object_motion and a.motion >= cfg.min_motion
    if a.object_motion < cfg.min_object_motion:
        reasons.append(
            f"too little motion: object motion {a.object_motion:.5f} of min(H, W) per frame "
            f"< min_object_motion {cfg.min_object_motion:g}"
        )
    if a.motion < cfg.min_motion:
        reasons.append(f"too little motion: mean flow {a.motion:.3f} px/frame < min_motion {cfg.min_motion:g}")
    return Decision(static, enough, "; ".join(reasons))
