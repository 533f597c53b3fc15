"""Static-camera test: do points near the frame border stay where they started?

If the camera is static, background points near the border do not move. Points of a regular grid
that lie in a border band are tracked through a clip; at each frame ``t`` the statistic is the
**median** displacement from frame 0 over the points that stayed visible up to ``t``, and the clip's
camera motion is the largest such median, as a fraction of ``min(H, W)``. A median lets an object
that crosses the border (and drags or hides a minority of the points) not decide the outcome. If
fewer than ``min_points`` points remain visible at some frame the camera counts as moving: border
points of a static background do not get lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lionlora.errors import InputError
from lionlora.pipelines.webvideo.tracking import Tracks


def grid_points(height: int, width: int, grid_size: int) -> np.ndarray:
    """A ``grid_size x grid_size`` regular grid at cell centres, ``[grid_size**2, 2]`` (x, y) pixels."""
    xs = (np.arange(grid_size) + 0.5) * width / grid_size - 0.5
    ys = (np.arange(grid_size) + 0.5) * height / grid_size - 0.5
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def border_points(height: int, width: int, grid_size: int, border: float) -> np.ndarray:
    """Grid points whose distance to the nearest image edge is below ``border * min(H, W)``.

    Returns:
        ``[N, 2]`` float32 (x, y) in pixel coordinates (centre of the top-left pixel at (0, 0)).
    """
    pts = grid_points(height, width, grid_size)
    band = border * min(height, width)
    x, y = pts[:, 0] + 0.5, pts[:, 1] + 0.5  # distances measured from the pixel edges
    edge = np.minimum(np.minimum(x, width - x), np.minimum(y, height - y))
    return pts[edge < band]


@dataclass
class CameraMotion:
    """Result of the static-camera test on one clip.

    Attributes:
        motion: largest per-frame median border displacement, as a fraction of ``min(H, W)``.
        points: border points tracked.
        min_visible: fewest points still visible at any frame.
        lost: fewer than ``min_points`` stayed visible (``motion`` is then over the frames before).
    """

    motion: float
    points: int
    min_visible: int
    lost: bool


def camera_motion(tracks: Tracks, height: int, width: int, min_points: int) -> CameraMotion:
    """The static-camera statistic of border-point ``tracks`` of a ``height x width`` clip."""
    xy, vis = tracks.xy, tracks.visible
    n_points = xy.shape[1]
    if n_points == 0:
        raise InputError("tracks", "xy", "at least one border point", got=0)
    stayed = np.logical_and.accumulate(vis, axis=0)  # visible in every frame up to t
    disp = np.linalg.norm(xy - xy[:1], axis=2)
    counts = stayed.sum(axis=1)
    enough = counts >= min_points
    medians = [np.median(disp[t, stayed[t]]) for t in np.flatnonzero(enough)]
    worst = float(max(medians)) if medians else float("nan")
    return CameraMotion(worst / min(height, width), n_points, int(counts.min()), bool(not enough.all()))
