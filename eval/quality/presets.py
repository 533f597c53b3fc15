"""Named FVD preprocessing presets, input range checks and frame selection.

FVD values move with choices that papers rarely state. Each preset fixes all of them, to the
letter of the reference code it is named after:

=============  ==========================================  ==========  =========================
preset         spatial policy                              values      detector flags
=============  ==========================================  ==========  =========================
``videogpt``   shorter side to 224, centre crop            [-1, 1]     rescale=False resize=False
               (VideoGPT/TATS ``preprocess``)
``squash224``  resize to 224 x 224 (aspect ignored) on     [-1, 1]     rescale=False resize=False
               TF1 ``resize_bilinear``'s grid, as the
               original TF FVD code
``stylegan``   none: frames at their own resolution        [0, 255]    rescale=True  resize=True
               (StyleGAN-V); the detector rescales and
               resizes to 224 x 224
=============  ==========================================  ==========  =========================

``videogpt`` resizes bilinearly with ``align_corners=False`` (half-pixel centres) and no
antialiasing, as VideoGPT's ``F.interpolate`` call; the resized shorter side is exact and the
longer side is ``ceil(side * scale)``; a square frame counts as portrait (VideoGPT's tie rule
``if h < w: (size, ceil(w * scale)) else: (ceil(h * scale), size)``, so a rounding overshoot
lands on the height); crops start at ``(side - size) // 2``.

``squash224`` samples TF1's ``tf.image.resize_bilinear`` grid (``align_corners=False``,
``half_pixel_centers=False``): output pixel ``i`` reads input position ``i * in / out`` (float32),
interpolating between ``floor`` and ``min(floor + 1, in - 1)``; this is not PyTorch's
``align_corners=False`` grid, which reads ``(i + 0.5) * in / out - 0.5``.

``stylegan`` feeds every frame at its own size (StyleGAN-V's data loader gives the detector the
dataset's frames, usually 256 x 256) with integer values, as the uint8 frames that loader gives;
the TorchScript detector maps them to [-1, 1] and resizes to 224 x 224 (trilinear,
``align_corners=False``). A non-square frame is thus squashed by the detector, as in StyleGAN-V.

Note: VideoGPT's own script fed [-0.5, 0.5]; TATS and later tools feed [-1, 1], which is what the
I3D was trained on and what ``videogpt`` uses here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from lionlora.errors import ConfigError, VideoError

#: Fewer frames than this is an error (I3D halves time three times and averages pairs).
MIN_FRAMES = 10
FrameSelection = Literal["all", "first16", "middle16"]
FRAME_SELECTIONS: tuple[str, ...] = ("all", "first16", "middle16")
PresetName = Literal["videogpt", "squash224", "stylegan"]


@dataclass(frozen=True)
class Preset:
    """One named preprocessing pipeline and the detector flags that go with it.

    Attributes:
        name: preset name.
        size: output side in pixels (frames are ``size x size``); None: the frames' own size.
        policy: ``short_side_crop`` (keep aspect, centre crop), ``squash`` (ignore aspect, TF1
            grid) or ``native`` (no resize: the detector resizes).
        value_range: range of the output values, ``(-1, 1)`` or ``(0, 255)``.
        rescale, resize: flags passed to the detector (StyleGAN-V convention).
    """

    name: str
    size: int | None
    policy: Literal["short_side_crop", "squash", "native"]
    value_range: tuple[float, float]
    rescale: bool
    resize: bool

    def describe(self) -> dict:
        """Plain-data record of every choice (written into fvd.json)."""
        return {
            **asdict(self),
            "value_range": list(self.value_range),
            "interpolation": _INTERPOLATION[self.policy],
            "channel_order": "RGB",
            "layout": "[B, 3, T, H, W]",
        }


_INTERPOLATION = {
    "short_side_crop": "bilinear, align_corners=False (half-pixel centres), no antialias; square frames "
    "resized as portrait (VideoGPT's tie rule)",
    "squash": "TF1 resize_bilinear grid: align_corners=False, half_pixel_centers=False (src = dst * in / out)",
    "native": "none here: frames at their own size; the detector resizes to 224 x 224 (trilinear, align_corners=False)",
}


PRESETS: dict[str, Preset] = {
    "videogpt": Preset("videogpt", 224, "short_side_crop", (-1.0, 1.0), rescale=False, resize=False),
    "squash224": Preset("squash224", 224, "squash", (-1.0, 1.0), rescale=False, resize=False),
    "stylegan": Preset("stylegan", None, "native", (0.0, 255.0), rescale=True, resize=True),
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ConfigError("preset", "preset", f"one of {sorted(PRESETS)}", got=name)
    return PRESETS[name]


def to_unit_range(video: np.ndarray | torch.Tensor, source: str = "video") -> torch.Tensor:
    """Check a video's layout and range and return float32 ``[T, H, W, 3]`` in [0, 1].

    Accepted: uint8 in 0..255, or a floating array with every value in [0, 1].
    Raises:
        VideoError: wrong layout, dtype, non-finite values or values outside [0, 1].
    """
    x = torch.as_tensor(np.asarray(video)) if not isinstance(video, torch.Tensor) else video
    if x.ndim != 4 or x.shape[-1] != 3:
        raise VideoError(source, "frames", "an RGB video [T, H, W, 3]", got=f"shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x.float() / 255.0
    if not x.is_floating_point():
        raise VideoError(source, "dtype", "uint8 (0..255) or float in [0, 1]", got=str(x.dtype))
    if x.numel() and not torch.isfinite(x).all():
        raise VideoError(source, "values", "finite values", got="NaN or inf")
    lo, hi = (float(x.min()), float(x.max())) if x.numel() else (0.0, 0.0)
    if lo < 0.0 or hi > 1.0:
        raise VideoError(
            source, "values", "float values in [0, 1] (or uint8 0..255)", got=f"range [{lo:.4g}, {hi:.4g}]"
        )
    return x.float()


def select_frames(n_frames: int, selection: str, source: str = "video") -> slice:
    """Frame range to use: ``all``, ``first16`` or ``middle16`` (the 16 centred frames).

    Raises:
        VideoError: fewer than :data:`MIN_FRAMES` frames, or fewer than 16 for a 16-frame selection.
        ConfigError: unknown selection.
    """
    if selection not in FRAME_SELECTIONS:
        raise ConfigError("frames", "frames", f"one of {list(FRAME_SELECTIONS)}", got=selection)
    if n_frames < MIN_FRAMES:
        raise VideoError(source, "frames", f"at least {MIN_FRAMES} frames for FVD", got=n_frames)
    if selection == "all":
        return slice(0, n_frames)
    if n_frames < 16:
        raise VideoError(source, "frames", f"at least 16 frames for frames={selection}", got=n_frames)
    start = 0 if selection == "first16" else (n_frames - 16) // 2
    return slice(start, start + 16)


def tf1_resize_bilinear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """TF1 ``tf.image.resize_bilinear(x, size)`` (``align_corners=False``, ``half_pixel_centers=False``).

    Output pixel ``i`` of an axis reads input position ``i * scale`` with ``scale = in / out`` in
    float32, between ``floor`` and ``min(floor + 1, in - 1)``; x is interpolated first, then y.

    Args:
        x: ``[..., H, W]`` float images.
        size: ``(height, width)`` of the output.
    Returns:
        ``[..., height, width]``.
    """

    def grid(n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        scale = torch.tensor(n_in, dtype=torch.float32) / torch.tensor(n_out, dtype=torch.float32)
        src = torch.arange(n_out, dtype=torch.float32) * scale
        lower = src.floor()
        upper = torch.minimum(src.ceil(), torch.tensor(float(n_in - 1)))
        return lower.long(), upper.long(), (src - lower).to(x.dtype)

    (y0, y1, fy), (x0, x1, fx) = grid(x.shape[-2], size[0]), grid(x.shape[-1], size[1])
    left, right = x[..., x0], x[..., x1]
    rows = left + (right - left) * fx  # [..., H, width]
    top, bottom = rows[..., y0, :], rows[..., y1, :]
    return top + (bottom - top) * fy[:, None]


def _resize_crop(x: torch.Tensor, preset: Preset) -> torch.Tensor:
    """``[T, 3, H, W]`` in [0, 1] -> ``[T, 3, size, size]`` (or unchanged for ``native``)."""
    h, w = x.shape[-2:]
    s = preset.size
    if preset.policy == "native":
        return x
    if preset.policy == "squash":
        return x if (h, w) == (s, s) else tf1_resize_bilinear(x, (s, s))
    scale = s / min(h, w)
    target = (s, math.ceil(w * scale)) if h < w else (math.ceil(h * scale), s)  # VideoGPT: a tie is portrait
    if target != (h, w):
        x = F.interpolate(x, size=target, mode="bilinear", align_corners=False, antialias=False)
    top, left = (x.shape[-2] - s) // 2, (x.shape[-1] - s) // 2
    return x[..., top : top + s, left : left + s]


def preprocess(
    video: np.ndarray | torch.Tensor, preset: str | Preset = "videogpt", frames: str = "all", source: str = "video"
) -> torch.Tensor:
    """Turn one video into the detector input of a preset.

    Args:
        video: ``[T, H, W, 3]`` RGB, uint8 or float in [0, 1].
        preset: preset name or :class:`Preset`.
        frames: frame selection (``all``, ``first16``, ``middle16``).
        source: name of the video, for error messages.
    Returns:
        float32 ``[3, T', size, size]`` (``native``: ``[3, T', H, W]``) with values in ``preset.value_range``.
    """
    preset = get_preset(preset) if isinstance(preset, str) else preset
    x = to_unit_range(video, source)
    x = x[select_frames(x.shape[0], frames, source)]
    x = _resize_crop(x.permute(0, 3, 1, 2), preset).clamp(0.0, 1.0)  # [T, 3, s, s]
    lo, hi = preset.value_range
    if (lo, hi) == (0.0, 255.0):
        x = (x * 255.0).round_()  # the integer levels of uint8 frames
    else:
        x = x * (hi - lo) + lo
    return x.permute(1, 0, 2, 3).contiguous()
