"""The scaling value S and the frames it selects: ``F`` frames evenly spaced over the first
``round(L * S)`` frames of an ``L``-frame clip.

For a camera clip of ``L = 600`` frames and ``F = 49`` sample frames, ``S`` ranges over
``[49/600, 1]``: ``S = 49/600`` takes 49 consecutive frames, ``S = 1`` spreads them over the whole
clip, so S scales the camera's travel linearly. Object-motion clips have ``L = 240``
(``S`` in ``[49/240, 1]``).

One rule for everyone: the training pairs (``lionlora pairs``), the frames a training sample
takes from a pair, and the ground-truth cameras written beside a generated video. Rounding is
half up (``floor(x + 0.5)``) everywhere.
"""

from __future__ import annotations

import math

import numpy as np

from lionlora.checks import scale_in_range
from lionlora.errors import ConfigError


def spread_indices(length: int, n: int) -> list[int]:
    """``n`` positions in ``range(length)`` evenly spread, first and last included (half-up rounding)."""
    return np.floor(np.linspace(0.0, length - 1, n) + 0.5).astype(int).tolist()


def scale_range(sample_frames: int, clip_frames: int) -> tuple[float, float]:
    """The valid interval ``[F / L, 1]`` of S."""
    return sample_frames / clip_frames, 1.0


def check_scale(
    scale: float, sample_frames: int, clip_frames: int, source: str = "pairs", field: str = "scale"
) -> float:
    """``scale`` as a float, or :class:`ConfigError` when it is outside ``[F / L, 1]``."""
    lo, hi = scale_range(sample_frames, clip_frames)
    if not scale_in_range(scale, lo, hi):
        raise ConfigError(source, field, f"S in [{sample_frames}/{clip_frames} = {lo:.4f}, 1]", got=scale)
    return float(scale)


def sample_indices(scale: float, clip_frames: int, sample_frames: int, source: str = "pairs") -> list[int]:
    """``sample_frames`` indices evenly spaced over the first ``round(clip_frames * scale)`` frames.

    Raises:
        ConfigError: ``scale`` outside ``[sample_frames / clip_frames, 1]``, or fewer clip frames
            than sample frames.
    """
    if sample_frames < 2 or clip_frames < sample_frames:
        raise ConfigError(source, "frames", "2 <= sample frames <= clip frames", got=(sample_frames, clip_frames))
    scale = check_scale(scale, sample_frames, clip_frames, source)
    span = min(max(int(math.floor(clip_frames * scale + 0.5)), sample_frames), clip_frames)
    return spread_indices(span, sample_frames)


def even_scales(count: int, sample_frames: int, clip_frames: int) -> list[float]:
    """``count`` values of S evenly spaced over ``[F / L, 1]`` (both ends included)."""
    lo, hi = scale_range(sample_frames, clip_frames)
    if count == 1:
        return [hi]
    return [float(s) for s in np.linspace(lo, hi, count)]
