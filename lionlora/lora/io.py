"""Adapter files: LoRA weights + scaling-token projection + config, in safetensors, never pickle.

An adapter folder (``{RESULTS}/lora/{name}/``) holds

* ``adapter.safetensors``: tensors ``lora.<module>.lora_A.weight`` ``[r, d_in]``,
  ``lora.<module>.lora_B.weight`` ``[d_out, r]`` for every adapted linear layer of the
  transformer (``<module>`` like ``transformer_blocks.3.attn1.to_q``) and
  ``token.proj.weight`` ``[width, 2J]`` / ``token.proj.bias`` ``[width]``; the file's
  metadata holds ``format`` and the adapter's config as JSON, so the file is self-contained;
* ``adapter.json``: the same config, readable, plus what the training run adds (steps, losses).

Pickle checkpoints (``.bin``, ``.pt``, ``.ckpt``, ...) are refused: unpickling runs code.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from lionlora.config import from_dict, to_dict
from lionlora.errors import AdapterError, ConfigError
from lionlora.io.files import atomic_path, write_json
from lionlora.lora.config import AdapterConfig

log = logging.getLogger(__name__)

FORMAT = "lionlora-adapter/1"
ADAPTER_FILE = "adapter.safetensors"
CONFIG_FILE = "adapter.json"
PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"}


def _refuse_pickle(path: Path) -> None:
    expected = "a safetensors adapter (pickle checkpoints are refused: loading them can run arbitrary code)"
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise AdapterError(path, "", expected, got=f"a {path.suffix} file")
    with open(path, "rb") as f:
        head = f.read(2)
    # torch.save writes a zip archive ("PK"); plain pickle starts with the PROTO opcode 0x80.
    if head == b"PK" or head[:1] == b"\x80":
        raise AdapterError(path, "", expected, got="a pickle/zip file")


def adapter_file(path: str | Path) -> Path:
    """The ``adapter.safetensors`` of an adapter folder, or the file itself.

    Raises:
        AdapterError: no such file, a pickle checkpoint, or a folder without an adapter.
    """
    path = Path(path)
    if path.is_dir():
        candidate = path / ADAPTER_FILE
        if not candidate.is_file():
            pickles = sorted(p.name for p in path.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
            if pickles:
                _refuse_pickle(path / pickles[0])
            raise AdapterError(path, "", f"an adapter folder with {ADAPTER_FILE}", got="no such file")
        path = candidate
    if not path.is_file():
        raise AdapterError(path, "", "an existing adapter file or folder", got="no such file")
    _refuse_pickle(path)
    return path


def save_adapter(lion, name: str, out_dir: str | Path, extra: dict | None = None) -> Path:
    """Write adapter ``name`` of ``lion`` to ``out_dir`` (both files atomically); returns the folder."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    cfg = lion.configs[name]
    tensors = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in lion.adapter_parameters(name).items()}
    config = to_dict(cfg)
    with atomic_path(out_dir / ADAPTER_FILE) as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT, "config": json.dumps(config)})
    write_json(out_dir / CONFIG_FILE, {"format": FORMAT, "config": config, **(extra or {})})
    return out_dir


def read_adapter(path: str | Path) -> tuple[AdapterConfig, dict[str, torch.Tensor], Path]:
    """Config, tensors and resolved file of an adapter (see the module docstring)."""
    from safetensors import safe_open

    file = adapter_file(path)
    try:
        with safe_open(str(file), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
    except Exception as exc:  # safetensors raises its own error type for any malformed header
        raise AdapterError(file, "", "a valid safetensors file", got=str(exc)[:80]) from None
    if meta.get("format") != FORMAT:
        raise AdapterError(file, "metadata.format", FORMAT, got=meta.get("format"))
    try:
        data = json.loads(meta.get("config", "{}"))
        if isinstance(data, dict) and "alpha" in data:  # files written before the field was named lora_alpha
            data["lora_alpha"] = data.pop("alpha")
        cfg = from_dict(AdapterConfig, data, source=str(file), prefix="config.")
    except json.JSONDecodeError:
        raise AdapterError(file, "metadata.config", "the adapter config as JSON") from None
    return cfg, tensors, file


def assign_adapter_tensors(
    lion, name: str, tensors: dict[str, torch.Tensor], source: str | Path, dtype: torch.dtype | None = None
) -> None:
    """Put saved tensors into adapter ``name``'s parameters (same keys and shapes, or AdapterError)."""
    params = lion.adapter_parameters(name)
    missing, unexpected = sorted(set(params) - set(tensors)), sorted(set(tensors) - set(params))
    if missing or unexpected:
        raise AdapterError(
            source,
            (missing or unexpected)[0],
            "the tensors the adapter config implies",
            got="missing" if missing else "unexpected",
        )
    with torch.no_grad():
        for key, p in params.items():
            t = tensors[key]
            if tuple(t.shape) != tuple(p.shape):
                raise AdapterError(source, key, f"shape {tuple(p.shape)}", got=tuple(t.shape))
            p.data = t.to(device=p.device, dtype=dtype or p.dtype)


def load_adapter(lion, path: str | Path, name: str | None = None, dtype: torch.dtype | None = None) -> AdapterConfig:
    """Inject the adapter stored at ``path`` into ``lion`` and copy its weights.

    Args:
        lion: the :class:`~lionlora.lora.lion.LionLoRA` model.
        path: adapter folder or ``adapter.safetensors``.
        name: the name the caller expects (checked against the stored one).
        dtype: dtype of the loaded weights (default: the transformer's).
    Raises:
        AdapterError: pickle file, unknown name, width/depth/shape that do not match the model.
    """
    cfg, tensors, file = read_adapter(path)
    if name is not None and name != cfg.name:
        raise AdapterError(file, "name", f"the LoRA name stored in the adapter ({cfg.name!r})", got=name)
    if cfg.width != lion.width:
        raise AdapterError(file, "config.width", f"the model's transformer width {lion.width}", got=cfg.width)
    if cfg.num_layers != lion.num_layers:
        raise AdapterError(
            file, "config.num_layers", f"the model's {lion.num_layers} transformer blocks", got=cfg.num_layers
        )
    try:
        lion.add_adapter(cfg)
    except ConfigError as exc:
        raise AdapterError(file, f"config.{exc.field}", exc.expected, exc.got) from None
    assign_adapter_tensors(lion, cfg.name, tensors, file, dtype)
    log.info("loaded adapter %s from %s (rank %d, token %s)", cfg.name, file, cfg.rank, cfg.scaling_token)
    return cfg
