"""Loading CogVideoX image-to-video pipelines: a hub id or a local folder, one code path.

The real model (``THUDM/CogVideoX-5b-I2V``) and the tiny demo model written by
:func:`lionlora.apps.demo_model.save_tiny_model` are both read here with diffusers'
``CogVideoXImageToVideoPipeline.from_pretrained``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from lionlora.device import resolve_device
from lionlora.errors import ConfigError, DependencyError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

PAPER_MODEL = "THUDM/CogVideoX-5b-I2V"


def resolve_dtype(dtype: str, device) -> torch.dtype:
    """``auto`` -> bfloat16 on CUDA (CogVideoX-5B's training precision), float32 on CPU."""
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]


def _dtype_keyword() -> str:
    """diffusers renamed ``torch_dtype`` to ``dtype`` (the old name still works, with a warning)."""
    from diffusers.utils import deprecation_utils

    return "dtype" if hasattr(deprecation_utils, "_TORCH_DTYPE_DEPRECATION_MESSAGE") else "torch_dtype"


def load_pipeline(model: str | Path, dtype: str = "auto", device: str = "auto"):
    """Read a ``CogVideoXImageToVideoPipeline`` from a local folder or a Hugging Face hub id.

    Args:
        model: a folder holding ``model_index.json`` or a hub id such as ``THUDM/CogVideoX-5b-I2V``.
        dtype: ``auto``, ``float32``, ``bfloat16`` or ``float16``.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    Raises:
        DependencyError: the folder is not a diffusers pipeline, or the hub id cannot be fetched
            (no network and not in the local cache).
    """
    from diffusers import CogVideoXImageToVideoPipeline

    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    text = str(model)
    local = Path(text)
    if local.exists() and not (local / "model_index.json").is_file():
        raise DependencyError(f"{local}: not a diffusers pipeline folder (no model_index.json)")
    try:
        pipe = CogVideoXImageToVideoPipeline.from_pretrained(text, **{_dtype_keyword(): torch_dtype})
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DependencyError(
            f"{text}: cannot load the CogVideoX I2V pipeline (local folder or hub id): {first}"
        ) from None
    pipe.to(dev)
    if os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes"):  # lionlora -q
        pipe.set_progress_bar_config(disable=True)  # diffusers passes its own `disable`, which the env cannot override
    log.info("loaded %s (%s, %s)", text, dev, torch_dtype)
    return pipe


def model_geometry(pipe) -> dict:
    """Native sizes of a pipeline: pixels, frames, compression factors and text length."""
    t = pipe.transformer.config
    spatial = pipe.vae_scale_factor_spatial
    return {
        "height": t.sample_height * spatial,
        "width": t.sample_width * spatial,
        "frames": t.sample_frames,
        "spatial": spatial,
        "temporal": pipe.vae_scale_factor_temporal,
        "text_tokens": t.max_text_seq_length,
        "width_tokens": t.num_attention_heads * t.attention_head_dim,
        "layers": t.num_layers,
    }


def check_size_options(source: str, frames: int | None, height: int | None, width: int | None) -> None:
    """Refuse a frame count or size below 1: the model's native value is asked for by leaving the
    option out (None; ``--set height=null`` in a command), never by 0."""
    for name, value in (("frames", frames), ("height", height), ("width", width)):
        if value is not None and value < 1:
            raise ConfigError(source, name, "a value >= 1 (leave it out for the model's native one)", got=value)


def video_size(pipe, frames: int | None, height: int | None, width: int | None, source: str) -> tuple[int, int, int]:
    """Frames and pixel size to use (the model's native ones where None), checked against the model.

    Raises:
        ConfigError: frames not 4k + 1, a size that is not a multiple of the patch grid, or a size
            other than the native one for a model with learned positional embeddings (5B-I2V).
    """
    check_size_options(source, frames, height, width)
    g = model_geometry(pipe)
    tc = pipe.transformer.config
    frames = g["frames"] if frames is None else frames
    height, width = g["height"] if height is None else height, g["width"] if width is None else width
    if (frames - 1) % g["temporal"]:
        raise ConfigError(source, "frames", f"{g['temporal']}k + 1 frames", got=frames)
    if tc.use_learned_positional_embeddings and (height, width) != (g["height"], g["width"]):
        raise ConfigError(
            source,
            "height/width",
            f"the model's native {g['width']}x{g['height']} (it has learned positional embeddings)",
            got=f"{width}x{height}",
        )
    step = g["spatial"] * tc.patch_size
    if height % step or width % step:
        raise ConfigError(source, "height/width", f"multiples of {step}", got=(height, width))
    return frames, height, width
