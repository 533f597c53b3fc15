"""Point trackers behind one interface: query points in the first frame -> tracks and visibility.

Coordinates are OpenCV pixel coordinates: ``x`` right, ``y`` down, the centre of the top-left
pixel at ``(0, 0)`` (CoTracker uses the same convention, so no conversion is needed).

Backends (:data:`TRACKERS`):

* ``klt``: OpenCV pyramidal Lucas-Kanade, frame to frame, with a forward-backward check. A point
  whose backward track misses its start by more than ``fb_threshold`` pixels, whose LK system is
  ill-conditioned (flat image region) or that leaves the image is lost for the rest of the clip.
  CPU, the default.
* ``cotracker``: CoTracker3's offline predictor from the official ``cotracker`` package with a
  local checkpoint. The package is not on PyPI, so it is an optional backend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from lionlora.device import resolve_device
from lionlora.errors import DependencyError, InputError
from lionlora.flow import lk_forward_backward
from lionlora.pipelines.webvideo.config import CoTrackerConfig, FilterConfig, KltConfig

log = logging.getLogger(__name__)

COTRACKER_INSTALL = (
    "install the official CoTracker package (it is not on PyPI): "
    "pip install git+https://github.com/facebookresearch/co-tracker, and download the CoTracker3 "
    "checkpoint https://huggingface.co/facebook/cotracker3/resolve/main/scaled_offline.pth, "
    "then pass it as --set cotracker.checkpoint=PATH"
)


@dataclass
class Tracks:
    """Point tracks of one clip.

    Attributes:
        xy: pixel positions ``[T, N, 2]`` float32 (x, y).
        visible: whether each point is visible and reliably tracked ``[T, N]`` bool.
    """

    xy: np.ndarray
    visible: np.ndarray

    def __post_init__(self) -> None:
        if self.xy.ndim != 3 or self.xy.shape[2] != 2 or self.visible.shape != self.xy.shape[:2]:
            raise InputError(
                "Tracks", "xy/visible", "xy [T, N, 2] and visible [T, N]", got=(self.xy.shape, self.visible.shape)
            )


class Tracker(Protocol):
    """Track ``queries`` ``[N, 2]`` (x, y in frame 0) through uint8 RGB ``frames`` ``[T, H, W, 3]``."""

    def __call__(self, frames: np.ndarray, queries: np.ndarray) -> Tracks: ...


def _check_inputs(frames: np.ndarray, queries: np.ndarray) -> None:
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3 or len(frames) < 1:
        raise InputError("frames", "", "uint8 RGB frames [T, H, W, 3]", got=f"{frames.dtype} {frames.shape}")
    if queries.ndim != 2 or queries.shape[1] != 2:
        raise InputError("queries", "", "query points [N, 2] (x, y)", got=queries.shape)


class KltTracker:
    """Pyramidal Lucas-Kanade with a forward-backward check (OpenCV, CPU)."""

    def __init__(self, cfg: KltConfig | None = None):
        self.cfg = cfg or KltConfig()
        self._lk = dict(
            winSize=(self.cfg.window, self.cfg.window),
            maxLevel=self.cfg.levels,
            criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
            minEigThreshold=self.cfg.min_eig,
        )

    def __call__(self, frames: np.ndarray, queries: np.ndarray) -> Tracks:
        frames, queries = np.asarray(frames), np.asarray(queries, np.float32)
        _check_inputs(frames, queries)
        T, H, W = frames.shape[:3]
        n = len(queries)
        xy = np.zeros((T, n, 2), np.float32)
        visible = np.zeros((T, n), bool)
        xy[0] = queries
        visible[0] = (queries[:, 0] >= 0) & (queries[:, 0] <= W - 1) & (queries[:, 1] >= 0) & (queries[:, 1] <= H - 1)
        prev = cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY)
        for t in range(1, T):
            cur = cv2.cvtColor(frames[t], cv2.COLOR_RGB2GRAY)
            xy[t] = xy[t - 1]
            alive = np.flatnonzero(visible[t - 1])
            if alive.size:
                p1, fb, found = lk_forward_backward(prev, cur, xy[t - 1, alive], **self._lk)
                inside = (p1[:, 0] >= 0) & (p1[:, 0] <= W - 1) & (p1[:, 1] >= 0) & (p1[:, 1] <= H - 1)
                ok = found & (fb < self.cfg.fb_threshold) & inside
                xy[t, alive] = p1
                visible[t, alive] = ok
            prev = cur
        return Tracks(xy, visible)


def cotracker_inputs(frames: np.ndarray, queries: np.ndarray, device: str = "cpu"):
    """CoTracker's input layout: video ``[1, T, 3, H, W]`` float32 in [0, 255], queries ``[1, N, 3]`` (t, x, y).

    Every query starts in frame 0.
    """
    import torch

    frames, queries = np.asarray(frames), np.asarray(queries, np.float32)
    _check_inputs(frames, queries)
    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)[None].float()
    q = torch.zeros((1, len(queries), 3), dtype=torch.float32)
    q[0, :, 1:] = torch.from_numpy(queries)
    return video.to(device), q.to(device)


def cotracker_outputs(tracks, visibility, n_frames: int, n_points: int) -> Tracks:
    """Our :class:`Tracks` from CoTracker's outputs: tracks ``[1, T, N, 2]`` and visibility
    ``[1, T, N]`` (bool, or scores thresholded at 0.5; a trailing singleton axis is accepted)."""
    import torch

    xy = tracks.detach().float().cpu().numpy()
    vis = visibility.detach().cpu()
    vis = vis.numpy() if vis.dtype == torch.bool else vis.float().numpy() > 0.5
    if vis.ndim == 4 and vis.shape[-1] == 1:
        vis = vis[..., 0]
    if xy.shape != (1, n_frames, n_points, 2) or vis.shape != (1, n_frames, n_points):
        raise InputError(
            "cotracker",
            "outputs",
            f"tracks [1, {n_frames}, {n_points}, 2] and visibility [1, {n_frames}, {n_points}]",
            got=(xy.shape, vis.shape),
        )
    return Tracks(xy[0].astype(np.float32), vis[0].astype(bool))


class CoTrackerTracker:
    """CoTracker3 offline predictor (``cotracker.predictor.CoTrackerPredictor``) on a local checkpoint."""

    def __init__(self, cfg: CoTrackerConfig | None = None):
        self.cfg = cfg or CoTrackerConfig()
        ckpt = self.cfg.checkpoint
        if ckpt is None or not ckpt.is_file():
            raise DependencyError(
                f"the cotracker tracker needs a local CoTracker3 checkpoint, got "
                f"cotracker.checkpoint={ckpt}: {COTRACKER_INSTALL}"
            )
        try:
            from cotracker.predictor import CoTrackerPredictor
        except ImportError as exc:
            raise DependencyError(
                f"the cotracker tracker needs the 'cotracker' package ({exc}): {COTRACKER_INSTALL}"
            ) from None
        self.device = resolve_device(self.cfg.device, "CoTracker")
        self.model = CoTrackerPredictor(
            checkpoint=str(ckpt), offline=True, v2=False, window_len=self.cfg.window_len
        ).to(self.device)
        log.info("CoTracker3 loaded from %s on %s", ckpt, self.device)

    def __call__(self, frames: np.ndarray, queries: np.ndarray) -> Tracks:
        video, q = cotracker_inputs(frames, queries, self.device)
        tracks, visibility = self.model(video, queries=q)
        return cotracker_outputs(tracks, visibility, len(frames), len(queries))


#: name -> factory(FilterConfig) -> Tracker
TRACKERS: dict[str, Callable[[FilterConfig], Tracker]] = {
    "klt": lambda cfg: KltTracker(cfg.klt),
    "cotracker": lambda cfg: CoTrackerTracker(cfg.cotracker),
}


def make_tracker(cfg: FilterConfig) -> Tracker:
    """The tracker named by ``cfg.tracker`` (raises DependencyError when its package is missing)."""
    return TRACKERS[cfg.tracker](cfg)
