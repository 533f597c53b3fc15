"""Config of the web-video curation stage (``lionlora filter``)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lionlora.config import opt, to_dict
from lionlora.errors import ConfigError
from lionlora.flow import FlowConfig

#: Bump when the analysis changes so that earlier manifest rows are recomputed on re-runs.
ANALYSIS_VERSION = 2


def _nested(cls: type, help: str):
    """A nested config field (its defaults built per instance)."""
    return dataclasses.field(default_factory=cls, metadata={"help": help})


@dataclass
class KltConfig:
    """OpenCV pyramidal Lucas-Kanade with a forward-backward check (the CPU tracker)."""

    window: int = opt(21, "LK window side in pixels (odd)")
    levels: int = opt(3, "pyramid levels above the full-resolution image")
    fb_threshold: float = opt(1.0, "forward-backward error (px) above which a point is lost")
    min_eig: float = opt(
        1e-3,
        "LK minimum-eigenvalue threshold: points in flat image regions are lost "
        "(OpenCV's default 1e-4 keeps points on blank walls, which read as static)",
    )

    def __post_init__(self) -> None:
        if self.window < 3 or self.window % 2 == 0:
            raise ConfigError("KltConfig", "window", "an odd window side >= 3", got=self.window)
        if not 0 <= self.levels <= 8:
            raise ConfigError("KltConfig", "levels", "an integer in [0, 8]", got=self.levels)
        if not self.fb_threshold > 0 or not self.min_eig >= 0:
            raise ConfigError(
                "KltConfig",
                "fb_threshold/min_eig",
                "fb_threshold > 0 and min_eig >= 0",
                got=(self.fb_threshold, self.min_eig),
            )


@dataclass
class CoTrackerConfig:
    """CoTracker3 (offline predictor of the official ``cotracker`` package, not on PyPI)."""

    checkpoint: Path | None = opt(None, "local CoTracker3 checkpoint (scaled_offline.pth)")
    device: str = opt("auto", "torch device: auto (cuda when available), cpu or cuda[:N]")
    window_len: int = opt(60, "the predictor's window length (60 for CoTracker3 offline)")

    def __post_init__(self) -> None:
        if self.window_len < 2:
            raise ConfigError("CoTrackerConfig", "window_len", "an integer >= 2", got=self.window_len)


@dataclass
class FilterConfig:
    tracker: Literal["klt", "cotracker"] = opt("klt", "point tracker of the static-camera test")
    grid_size: int = opt(24, "query points: a grid_size x grid_size regular grid over the frame")
    border: float = opt(
        0.15, "border band width as a fraction of min(H, W): grid points this close to an edge are tracked"
    )
    max_camera_motion: float = opt(
        0.01,
        "static camera: the median border displacement from the first frame stays below this fraction of min(H, W)",
    )
    min_points: int = opt(8, "fewest border points that must stay visible (fewer: the camera moved)")
    min_object_motion: float = opt(
        0.0006,
        "enough object motion: the object_motion statistic (motion_percentile of the per-pixel flow "
        "magnitude over motion_gap frames, fraction of the flow resolution's short side per frame) "
        "reaches this",
    )
    motion_percentile: float = opt(99.9, "percentile of the per-pixel flow magnitude (small moving regions count)")
    motion_gap: int = opt(8, "object motion is measured between frames this far apart (noise does not add up)")
    min_motion: float = opt(
        0.0,
        "also require this mean optical-flow magnitude (px per frame at the flow analysis resolution; "
        "0: off). A frame mean rejects small moving regions such as people far away",
    )
    track_short_side: int = opt(240, "frames are tracked at this short side (never upscaled)")
    clip_frames: int = opt(240, "frames per output clip (the paper's object-motion length)")
    fps: float = opt(24.0, "frame rate of the clips; sources are resampled to it by nearest frame")
    height: int = opt(480, "clip height (sources are resized to cover and centre-cropped)")
    width: int = opt(720, "clip width")
    max_clips: int = opt(8, "most clips analysed and cut per video (0: every whole clip)")
    crf: int = opt(18, "H.264 quality of the clips (lower is better)")
    workers: int = opt(1, "videos analysed in parallel (processes)")
    klt: KltConfig = _nested(KltConfig, "options of the klt tracker")
    cotracker: CoTrackerConfig = _nested(CoTrackerConfig, "options of the cotracker tracker")
    flow: FlowConfig = _nested(FlowConfig, "optical flow of the minimum-motion test (lionlora.flow)")

    def __post_init__(self) -> None:
        checks = [
            ("grid_size", self.grid_size >= 3, "an integer >= 3"),
            ("border", 0 < self.border <= 0.5, "a fraction in (0, 0.5]"),
            ("max_camera_motion", self.max_camera_motion > 0, "a positive fraction"),
            ("min_points", self.min_points >= 1, "an integer >= 1"),
            ("min_motion", self.min_motion >= 0, "a non-negative flow magnitude"),
            ("min_object_motion", self.min_object_motion >= 0, "a non-negative fraction per frame"),
            ("motion_percentile", 0 < self.motion_percentile <= 100, "a percentile in (0, 100]"),
            ("motion_gap", self.motion_gap >= 1, "an integer >= 1"),
            ("track_short_side", self.track_short_side >= 32, "an integer >= 32"),
            ("clip_frames", self.clip_frames >= 2, "at least 2 frames"),
            ("fps", self.fps > 0, "a positive frame rate"),
            ("height", self.height >= 16 and self.height % 2 == 0, "an even height >= 16 (H.264)"),
            ("width", self.width >= 16 and self.width % 2 == 0, "an even width >= 16 (H.264)"),
            ("max_clips", self.max_clips >= 0, "an integer >= 0"),
            ("crf", 0 <= self.crf <= 51, "an H.264 CRF in [0, 51]"),
            ("workers", self.workers >= 1, "an integer >= 1"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise ConfigError("FilterConfig", name, expected, got=getattr(self, name))

    def fingerprint(self) -> str:
        """Hash of every option that changes a manifest row (``workers`` does not)."""
        data = to_dict(self)
        data.pop("workers")
        if self.tracker != "cotracker":
            data.pop("cotracker")
        if self.tracker != "klt":
            data.pop("klt")
        data["analysis_version"] = ANALYSIS_VERSION
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def replace(self, **changes) -> FilterConfig:
        return dataclasses.replace(self, **changes)
