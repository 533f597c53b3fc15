"""Optical-flow magnitude of a video: the one implementation shared by evaluation and curation.

The score of a video is the mean per-pixel L2 flow magnitude over consecutive frame pairs
(optionally every ``stride``-th pair), computed at a fixed **analysis resolution** so that videos
of different sizes compare. Units: pixels per frame step at the analysis resolution.

Backends: ``dis`` (OpenCV DIS with variational refinement, default, CPU; within 1% of the true
speed on translating photographs) and ``farneback`` (OpenCV Farneback, CPU; it reports near-zero
flow in flat image regions, so it underestimates on natural images by 20-60%). ``raft``
(torchvision's RAFT-large, GPU if available) is registered in :data:`FLOW_BACKENDS` only where
torchvision imports; asking for it elsewhere raises :class:`DependencyError` with install advice.

:func:`lk_forward_backward` is the sparse counterpart shared by the web-video tracker and the
camera evaluation's keypoint refinement: Lucas-Kanade there and back, with its status both ways.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from lionlora.config import opt
from lionlora.device import resolve_device
from lionlora.errors import ConfigError, DependencyError, VideoError


def lk_forward_backward(
    prev: np.ndarray, cur: np.ndarray, points: np.ndarray, guess: np.ndarray | None = None, **lk: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pyramidal Lucas-Kanade (OpenCV) of ``points`` ``[K, 2]`` from grey ``prev`` to ``cur`` and back.

    ``guess`` (``[K, 2]`` in ``cur``) starts the forward search there and the backward one at
    ``points``; ``lk`` are ``cv2.calcOpticalFlowPyrLK``'s options (``winSize``, ``maxLevel``, ...).

    Returns:
        The positions in ``cur`` ``[K, 2]`` float32, the forward-backward error ``[K]`` (pixels
        between ``points`` and the backward result) and ``[K]`` bool: found both ways.
    """
    p0 = np.asarray(points, np.float32).reshape(-1, 1, 2)
    if guess is None:
        fwd, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, None, **lk)
        back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, fwd, None, **lk)
    else:
        init = {**lk, "flags": lk.get("flags", 0) | cv2.OPTFLOW_USE_INITIAL_FLOW}
        p1 = np.asarray(guess, np.float32).reshape(-1, 1, 2).copy()
        fwd, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, p1, **init)
        back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, fwd, p0.copy(), **init)
    fwd, back = fwd.reshape(-1, 2), back.reshape(-1, 2)
    fb = np.linalg.norm(back - p0.reshape(-1, 2), axis=1)
    return fwd, fb, st1.ravel().astype(bool) & st2.ravel().astype(bool)


def _gray(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if g.shape != (h, w):
        g = cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA)
    return g


def _dis(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(prev, nxt, None)


def _farneback(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(prev, nxt, None, 0.5, 4, 21, 5, 7, 1.5, 0)


#: name -> function(prev_gray [H, W] uint8, next_gray [H, W] uint8) -> flow [H, W, 2] float32
FLOW_BACKENDS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "dis": _dis,
    "farneback": _farneback,
}

RAFT_INSTALL = (
    "the 'raft' flow backend needs torchvision: install the torchvision release built for your torch "
    "from the same index (torch 2.13 pairs with torchvision 0.28; on CPU: pip install torchvision==0.28.0 "
    "--index-url https://download.pytorch.org/whl/cpu). The default PyPI wheel pulls a CUDA torch and, next "
    "to a CPU torch, breaks `import peft`. Weights: torchvision's Raft_Large_Weights (downloaded once into "
    "the torch hub cache) or a local state dict named by LIONLORA_RAFT_WEIGHTS."
)


def raft_flow(model: Any, prev: np.ndarray, nxt: np.ndarray, device: Any = "cpu") -> np.ndarray:
    """Flow ``[H, W, 2]`` float32 from a torchvision-RAFT-like ``model`` on two grey frames.

    The grey frames (uint8 ``[H, W]``, H and W multiples of 8) are replicated to three channels and
    mapped to [-1, 1] as RAFT expects; the model returns a list of refinements, the last is used.
    """
    import torch

    def prep(gray: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(gray)).float().div(127.5).sub(1.0)
        return t[None, None].expand(1, 3, *gray.shape).contiguous().to(device)

    with torch.no_grad():
        out = model(prep(prev), prep(nxt))
    flow = out[-1] if isinstance(out, (list, tuple)) else out
    return flow[0].permute(1, 2, 0).float().cpu().numpy()


@functools.lru_cache(maxsize=1)
def _raft_model() -> tuple[Any, Any]:
    import torch
    from torchvision.models.optical_flow import Raft_Large_Weights, raft_large

    local = os.environ.get("LIONLORA_RAFT_WEIGHTS")
    if local:
        model = raft_large(weights=None)
        model.load_state_dict(torch.load(local, map_location="cpu", weights_only=True))
    else:
        model = raft_large(weights=Raft_Large_Weights.DEFAULT)
    device = resolve_device("auto")
    return model.eval().to(device), device


def _raft(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    model, device = _raft_model()
    return raft_flow(model, prev, nxt, device)


if importlib.util.find_spec("torchvision") is not None:
    FLOW_BACKENDS["raft"] = _raft


@dataclass
class FlowConfig:
    backend: str = opt("dis", "optical-flow backend: dis or farneback (OpenCV, CPU), raft (torchvision)")
    height: int = opt(240, "analysis resolution: frames are resized to height x width")
    width: int = opt(360, "analysis resolution: frames are resized to height x width")
    stride: int = opt(1, "use every stride-th consecutive frame pair")

    def __post_init__(self) -> None:
        if self.backend == "raft" and "raft" not in FLOW_BACKENDS:
            raise DependencyError(RAFT_INSTALL)
        if self.backend not in FLOW_BACKENDS:
            raise ConfigError("FlowConfig", "backend", f"one of {sorted(FLOW_BACKENDS)}", got=self.backend)
        if self.height < 16 or self.width < 16:
            raise ConfigError(
                "FlowConfig", "height/width", "an analysis resolution of at least 16x16", got=(self.height, self.width)
            )
        if self.stride < 1:
            raise ConfigError("FlowConfig", "stride", "an integer >= 1", got=self.stride)
        if self.backend == "raft" and (self.height % 8 or self.width % 8):
            raise ConfigError("FlowConfig", "height/width", "multiples of 8 for RAFT", got=(self.height, self.width))


def pair_magnitudes(frames: Iterable[np.ndarray], cfg: FlowConfig | None = None, source: str = "frames") -> np.ndarray:
    """Mean flow magnitude of each used consecutive pair ``(i, i + 1)``, ``i % stride == 0``.

    Args:
        frames: uint8 RGB frames ``[H, W, 3]`` (an array ``[T, H, W, 3]`` or an iterable).
        cfg: backend, analysis resolution and stride.
        source: name of the input, for error messages.
    Returns:
        ``[P]`` float64 magnitudes in analysis-resolution pixels per frame.
    Raises:
        VideoError: fewer than two frames, or frames that are not uint8 RGB.
    """
    cfg = cfg or FlowConfig()
    fn = FLOW_BACKENDS[cfg.backend]
    size = (cfg.height, cfg.width)
    out = []
    prev, prev_index = None, -1
    for i, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise VideoError(source, f"frame {i}", "uint8 RGB [H, W, 3]", got=f"{frame.dtype} {frame.shape}")
        starts_pair = i % cfg.stride == 0
        ends_pair = i >= 1 and (i - 1) % cfg.stride == 0
        if not (starts_pair or ends_pair):
            continue
        cur = _gray(frame, size)
        if ends_pair and prev_index == i - 1:
            out.append(float(np.linalg.norm(fn(prev, cur), axis=2).mean()))
        prev, prev_index = cur, i
    if not out:
        raise VideoError(source, "frames", "at least two frames for optical flow", got="fewer")
    return np.asarray(out)


def flow_magnitude(frames: Iterable[np.ndarray], cfg: FlowConfig | None = None, source: str = "frames") -> float:
    """The video's motion score: mean of :func:`pair_magnitudes`."""
    return float(pair_magnitudes(frames, cfg, source).mean())


def _texture(gray: np.ndarray) -> np.ndarray:
    """Smallest eigenvalue of the local structure tensor ``[H, W]`` of a grey uint8 frame."""
    smooth = cv2.GaussianBlur(gray.astype(np.float32) / 255.0, (0, 0), 1.0)
    return cv2.cornerMinEigenVal(smooth, 7)


def displacement_percentiles(
    frames: np.ndarray,
    cfg: FlowConfig | None = None,
    gap: int = 8,
    percentile: float = 99.9,
    min_texture: float = 1e-4,
    source: str = "frames",
) -> np.ndarray:
    """Per-pixel motion of the fastest-moving pixels: for pairs ``(i, i + gap)``, ``i`` every
    ``max(1, gap // 2)`` frames, the ``percentile`` of the per-pixel flow magnitude, divided by
    ``gap`` and by the analysis resolution's short side.

    A high percentile counts a small moving region (people far away) that a frame mean dilutes; a
    gap of several frames lets real motion add up while flow on noise and compression flicker does
    not (it stays around a tenth of a pixel whatever the gap). Pixels without texture in the first
    frame of a pair count as still: there, flow matches noise and reads as fast motion (a flat grey
    frame with noise of std 3 reads as 1.5 px/frame).

    Args:
        frames: uint8 RGB frames ``[T, H, W, 3]``, ``T >= 2`` (the gap shrinks to ``T - 1``).
        cfg: backend and analysis resolution (``stride`` is not used).
        min_texture: smallest eigenvalue of the 7x7 structure tensor (grey levels in [0, 1], blurred
            with sigma 1 px) for a pixel to count; flat noise of std 6 stays under 5e-5.
    Returns:
        ``[P]`` float64, fractions of ``min(height, width)`` per frame.
    """
    cfg = cfg or FlowConfig()
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.dtype != np.uint8 or frames.shape[-1] != 3 or len(frames) < 2:
        raise VideoError(
            source, "frames", "at least two uint8 RGB frames [T, H, W, 3]", got=f"{frames.dtype} {frames.shape}"
        )
    if gap < 1 or not 0 < percentile <= 100:
        raise ConfigError(
            "displacement_percentiles", "gap/percentile", "gap >= 1, percentile in (0, 100]", got=(gap, percentile)
        )
    gap = min(gap, len(frames) - 1)
    fn, size = FLOW_BACKENDS[cfg.backend], (cfg.height, cfg.width)
    gray = {}

    def g(i: int) -> np.ndarray:
        if i not in gray:
            gray[i] = _gray(frames[i], size)
        return gray[i]

    out = []
    for i in range(0, len(frames) - gap, max(1, gap // 2)):
        mag = np.linalg.norm(fn(g(i), g(i + gap)), axis=2)
        mag[_texture(g(i)) < min_texture] = 0.0
        out.append(float(np.percentile(mag, percentile)) / gap / min(size))
    return np.asarray(out)
