"""Cut a video into fixed-length clips at a configured frame rate and size.

Frame-rate conversion takes the nearest source frame: clip frame ``k`` (time ``k / fps``) is source
frame ``round(k * source_fps / fps)``, so a faster source drops frames and a slower one repeats
them. Every frame is resized to cover ``height x width`` and centre-cropped (no distortion).
Clips are consecutive, non-overlapping windows of ``clip_frames`` frames; the remainder after the
last whole clip is not used. The same frames feed the analysis and the written clips.
"""

from __future__ import annotations

import itertools
import logging
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lionlora.errors import VideoError
from lionlora.io.video import VideoInfo, VideoWriter, cover_frame, iter_video
from lionlora.pipelines.webvideo.config import FilterConfig

log = logging.getLogger(__name__)


def source_index(k: int, source_fps: float, fps: float) -> int:
    """Source frame shown at clip frame ``k`` (nearest in time)."""
    return math.floor(k * source_fps / fps + 0.5 + 1e-9)


def resampled_frames(n_source: int, source_fps: float, fps: float) -> int:
    """How many clip-rate frames a source of ``n_source`` frames yields."""
    # source_index(k) <= n_source - 1  <=>  k * source_fps / fps < n_source - 0.5 (up to the epsilon)
    return max(0, math.ceil((n_source - 0.5 - 1e-9) * fps / source_fps))


@dataclass(frozen=True)
class ClipPlan:
    """Which clips a video yields.

    Attributes:
        declared: source frames (from the container, or counted by decoding).
        source_fps: the source frame rate used for resampling.
        available: clip-rate frames in the whole source.
        clips: whole clips that will be analysed and cut (at most ``max_clips``).
    """

    declared: int
    source_fps: float
    available: int
    clips: int


def plan_clips(info: VideoInfo, cfg: FilterConfig) -> ClipPlan:
    """Plan the clips of a probed video (``clips == 0``: too short for one clip)."""
    fps = info.fps if info.fps > 0 else cfg.fps
    if info.fps <= 0:
        log.warning("%s: no frame rate in the container; assuming %.3g fps", info.path, cfg.fps)
    available = resampled_frames(info.frames, fps, cfg.fps)
    clips = available // cfg.clip_frames
    if cfg.max_clips:
        clips = min(clips, cfg.max_clips)
    return ClipPlan(info.frames, fps, available, clips)


def iter_clip_frames(path: str | Path, plan: ClipPlan, cfg: FilterConfig) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(clip index, frame)`` for every frame of the planned clips, frames ``[H, W, 3]`` uint8.

    Decoding stops after the last planned clip.

    Raises:
        VideoError: the stream ends before the planned clips are complete (truncated file).
    """
    needed = plan.clips * cfg.clip_frames
    k = 0
    decoded = 0
    if needed == 0:
        return
    target = source_index(0, plan.source_fps, cfg.fps)
    for i, frame in enumerate(iter_video(path)):
        decoded = i + 1
        if i < target:
            continue
        fitted = None
        while target == i:
            if fitted is None:
                fitted = cover_frame(frame, cfg.height, cfg.width)
            yield k // cfg.clip_frames, fitted
            k += 1
            if k == needed:
                return
            target = source_index(k, plan.source_fps, cfg.fps)
    raise VideoError(
        path,
        "",
        f"{plan.declared} frames as the container declares",
        got=f"a stream that ends after {decoded} frames (truncated file?)",
    )


def write_clips(path: str | Path, plan: ClipPlan, cfg: FilterConfig, folder: str | Path) -> list[Path]:
    """Write the planned clips of ``path`` as ``FOLDER/clip_000.mp4``, ... (H.264, atomic per file).

    ``folder`` is replaced: clips of an earlier run in it are removed first.
    """
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    paths = [folder / f"clip_{i:03d}.mp4" for i in range(plan.clips)]
    for index, group in itertools.groupby(iter_clip_frames(path, plan, cfg), key=lambda item: item[0]):
        with VideoWriter(paths[index], fps=cfg.fps, crf=cfg.crf) as writer:
            for _, frame in group:
                writer.write(frame)
    return paths
