"""Per-video I3D features with a content-addressed cache.

A folder of videos is searched recursively: every video file (``.mp4 .avi .mov .mkv .webm``) is
one video and, when asked for (``frame_folders``), so is every folder that directly holds image
frames (sorted by file name). Videos are taken in sorted relative-path order.

Features are cached per video under a key made of the video's content hash (SHA-256 of the file,
or of a frame folder's names and bytes), the preset, the frame selection and the SHA-256 of the
detector weights, so re-runs (and the real clips shared by several methods) are cheap, and a
changed video, preset or weights file never reuses a stale entry.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lionlora.errors import VideoError
from lionlora.eval.quality.presets import Preset, preprocess
from lionlora.io.files import update_hash, write_npy
from lionlora.io.video import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, load_frames, walk_files

log = logging.getLogger(__name__)
CACHE_VERSION = "i3d-features-v2"  # v2: stylegan at native size, squash224 on the TF1 grid


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lionlora" / "i3d_features"


def find_videos(
    folder: str | Path, include: list[str] | None = None, exclude: list[str] | None = None, frame_folders: bool = False
) -> list[Path]:
    """Video files (and, with ``frame_folders``, folders of frames) under ``folder``, sorted by relative path.

    Args:
        include: keep only relative paths matching one of these fnmatch patterns (``*`` also
            matches ``/``); empty keeps everything.
        exclude: then drop relative paths matching one of these patterns.
    Raises:
        VideoError: the folder does not exist or holds no video after filtering.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise VideoError(folder, "", "an existing folder of videos", got="no such folder")
    found = walk_files(folder, VIDEO_EXTENSIONS)
    if frame_folders:
        found += sorted({p.parent for p in walk_files(folder, IMAGE_EXTENSIONS) if p.parent != folder})
    rel = {p: p.relative_to(folder).as_posix() for p in found}
    if include:
        found = [p for p in found if any(fnmatch.fnmatch(rel[p], pat) for pat in include)]
    if exclude:
        found = [p for p in found if not any(fnmatch.fnmatch(rel[p], pat) for pat in exclude)]
    if not found:
        filters = f" matching include={include or []} exclude={exclude or []}" if include or exclude else ""
        what = f"video files ({', '.join(VIDEO_EXTENSIONS)})" + (" or frame folders" if frame_folders else "")
        raise VideoError(folder, "", what + filters, got="none")
    return sorted(found, key=lambda p: rel[p])


def content_hash(video: Path) -> str:
    """SHA-256 of a video file's bytes, or of a frame folder's (name, bytes) pairs in order."""
    h = hashlib.sha256()
    files = sorted(p for p in video.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS) if video.is_dir() else [video]
    for f in files:
        if video.is_dir():
            h.update(f.name.encode() + b"\0")
        update_hash(h, f)
    return h.hexdigest()


class FeatureCache:
    """``.npy`` files named by key under ``root`` (``None`` disables caching)."""

    def __init__(self, root: Path | None):
        self.root = Path(root) if root is not None else None
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(video_hash: str, preset: str, frames: str, weights_sha256: str) -> str:
        text = "|".join((CACHE_VERSION, video_hash, preset, frames, weights_sha256))
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        if self.root is None or not self._path(key).is_file():
            self.misses += 1
            return None
        try:
            feat = np.load(self._path(key))
        except (OSError, ValueError):
            log.warning("unreadable cache entry %s: recomputing", self._path(key))
            self.misses += 1
            return None
        self.hits += 1
        return feat

    def put(self, key: str, feat: np.ndarray) -> None:
        if self.root is None:
            return
        write_npy(self._path(key), feat)


@dataclass
class VideoFeature:
    """Feature of one video and where it came from."""

    video: Path
    n_frames: int | None  # frames decoded (None when read from the cache)
    cached: bool


Detector = Callable[[torch.Tensor, bool, bool], np.ndarray]


def timing_of(videos: list[Path]) -> dict:
    """Distinct frame counts and frame rates of a set of videos (from the container headers; a
    frame folder has its image count and no rate)."""
    from lionlora.io.video import probe_video

    counts, rates = set(), set()
    for video in videos:
        if video.is_dir():
            counts.add(sum(1 for p in video.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS))
            continue
        info = probe_video(video)
        counts.add(info.frames)
        if info.fps > 0:
            rates.add(round(info.fps, 3))
    return {"frame_counts": sorted(counts), "frame_rates": sorted(rates)}


def timing_warnings(real: dict, fake: dict) -> list[str]:
    """Warnings when the real and fake sets differ in frame count or frame rate (FVD then
    compares clips of different length or speed, not only of different content)."""
    out = []
    for key, what in (("frame_counts", "frame counts"), ("frame_rates", "frame rates")):
        if real[key] and fake[key] and real[key] != fake[key]:
            out.append(f"real and fake videos differ in {what}: real {real[key]}, fake {fake[key]}")
            log.warning(out[-1])
    return out


def extract_features(
    videos: list[Path],
    detector: Detector,
    weights_sha256: str,
    preset: Preset,
    frames: str = "all",
    cache: FeatureCache | None = None,
    batch_size: int = 4,
    desc: str = "I3D features",
) -> tuple[np.ndarray, list[VideoFeature]]:
    """I3D features ``[N, D]`` float64 of ``videos`` (cached per video).

    Videos whose preprocessed tensors have the same shape are batched together (up to
    ``batch_size``); any unreadable or too-short video raises :class:`VideoError` naming it.
    """
    cache = cache or FeatureCache(None)
    feats: list[np.ndarray | None] = [None] * len(videos)
    info: list[VideoFeature | None] = [None] * len(videos)
    pending: list[tuple[int, str, torch.Tensor]] = []
    bar = tqdm(total=len(videos), desc=desc, unit="video")

    def flush() -> None:
        if not pending:
            return
        out = detector(torch.stack([t for _, _, t in pending]), preset.rescale, preset.resize)
        for (i, key, _), f in zip(pending, out):
            feats[i] = f
            cache.put(key, f)
        bar.update(len(pending))
        pending.clear()

    with bar:
        for i, video in enumerate(videos):
            key = cache.key(content_hash(video), preset.name, frames, weights_sha256)
            hit = cache.get(key)
            if hit is not None:
                feats[i], info[i] = hit, VideoFeature(video, None, True)
                bar.update(1)
                continue
            frames_arr = load_frames(video)
            tensor = preprocess(frames_arr, preset, frames, source=str(video))
            info[i] = VideoFeature(video, int(frames_arr.shape[0]), False)
            if pending and (pending[0][2].shape != tensor.shape or len(pending) >= batch_size):
                flush()
            pending.append((i, key, tensor))
        flush()
    dims = {f.shape for f in feats}
    if len(dims) != 1:
        raise VideoError(str(videos[0].parent), "features", "one feature size for every video", got=sorted(dims))
    return np.stack(feats).astype(np.float64), info
