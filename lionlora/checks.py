"""The invariants that several stages share, each written once: finite numbers, the valid range
of the scaling value S (one tolerance), and CogVideoX's frame count ``F = 4k + 1``.

A primitive: it imports only :mod:`lionlora.errors`. Callers raise with their own source and field
through the ``check_*`` helpers, or test with the predicates where the error class is theirs.
"""

from __future__ import annotations

import math
from typing import Any

from lionlora.errors import ConfigError, InputError

#: The one tolerance on S: a value read back from float32 (a tensor, a latent cache) may sit a
#: rounding step outside ``[s_min, 1]`` (13/49 rounds below itself in float32).
S_TOL = 1e-6


def is_finite_number(value: Any) -> bool:
    """A real int or float (not a bool), neither NaN nor infinite: the check of every numeric field."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def scale_in_range(scale: Any, lo: float | None = None, hi: float = 1.0) -> bool:
    """Whether ``scale`` is a valid S: finite, in ``[lo, hi]`` up to :data:`S_TOL`; without ``lo``,
    in ``(0, hi]`` (a scaling value is a fraction of a clip, never zero)."""
    if not is_finite_number(scale):
        return False
    low_ok = scale > 0.0 if lo is None else scale >= lo - S_TOL
    return low_ok and scale <= hi + S_TOL


def scale_range_text(lo: float | None = None, hi: float = 1.0) -> str:
    """The range of :func:`scale_in_range` in words, for error messages."""
    return f"a scaling value S in (0, {hi:g}]" if lo is None else f"a scaling value S in [{lo:.4g}, {hi:g}]"


def check_scale_value(
    scale: Any, source: str, field: str, lo: float | None = None, hi: float = 1.0, error: type = InputError
) -> float:
    """``scale`` as a float, or ``error(source, field, ...)`` when :func:`scale_in_range` rejects it."""
    if not scale_in_range(scale, lo, hi):
        raise error(source, field, scale_range_text(lo, hi), got=scale)
    return float(scale)


def is_4k_plus_1(frames: Any) -> bool:
    """Whether ``frames`` is a frame count CogVideoX's VAE accepts: ``4k + 1``, k >= 0 (time compressed by 4)."""
    return isinstance(frames, int) and not isinstance(frames, bool) and frames >= 1 and (frames - 1) % 4 == 0


def check_frames(frames: Any, source: str, field: str = "frames", error: type = ConfigError) -> int:
    """``frames`` unchanged, or ``error(source, field, ...)`` when it is not ``4k + 1``."""
    if not is_4k_plus_1(frames):
        raise error(source, field, "4k + 1 frames (CogVideoX's VAE compresses time by 4)", got=frames)
    return frames
