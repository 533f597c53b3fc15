"""Adapter files: LoRA weights + scaling-token projection + config, in safetensors, never pickle.

An adapter folder (``{RESULTS}/lora/{name}/``) holds

* ``adapter.safetensors``: tensors ``lora.<module>.lora_A.weight`` ``[r, d_in]``,
  ``lora.<module>.lora_B.weight`` ``[d_out, r]`` for every adapted linear layer of the
  transformer (``<module>`` like ``transformer_blocks.3.attn1.to_q``) and
  ``token.proj.weight`` ``[width, 2J]`` / ``token.proj.bias`` ``[width]``; the file's
  metadata holds ``format`` and the adapter's config as JSON, so the file is self-contained
  (and ``training_scenes``, a JSON list of the scenes whose clips trained it, when known);
* ``adapter.json``: the same config, readable, plus what the training run adds (steps, losses).

Pickle checkpoints (``.bin``, ``.pt``, ``.ckpt``, ...) are refused: unpickling runs code.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lionlora.config import from_dict, to_dict
from lionlora.errors import AdapterError, ConfigError
from lionlora.io.files import atomic_path, read_json, write_json
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
        head = f.read(9)
    # safetensors: an 8-byte little-endian header length, then the JSON header; its first bytes
    # can be anything (0x80, "PK"), so it is recognised first
    if len(head) == 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") < path.stat().st_size:
        return
    # torch.save writes a zip archive ("PK"); plain pickle starts with the PROTO opcode 0x80.
    if head[:2] == b"PK" or head[:1] == b"\x80":
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


@dataclass
class AdapterRecord:
    """What an adapter says about itself, the record of both files: ``config`` (in the safetensors
    metadata, as JSON, and in ``adapter.json``) and, in ``adapter.json`` only, what the training run
    adds (``extra``: ``training`` with steps and losses, notes)."""

    config: AdapterConfig
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def training_scenes(self) -> list[str] | None:
        """Scenes whose clips trained the adapter (``extra["training"]["scenes"]``, sorted); None when unknown."""
        scenes = (self.extra.get("training") or {}).get("scenes")
        return sorted(scenes) if scenes is not None else None

    def to_metadata(self) -> dict[str, str]:
        """The safetensors header metadata (strings only): ``format``, ``config`` and, when known,
        ``training_scenes`` (so the scenes travel with the file alone)."""
        meta = {"format": FORMAT, "config": json.dumps(to_dict(self.config))}
        if self.training_scenes is not None:
            meta["training_scenes"] = json.dumps(self.training_scenes)
        return meta

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "config": to_dict(self.config), **self.extra}

    @classmethod
    def from_metadata(cls, meta: dict[str, str], source: str | Path) -> AdapterRecord:
        """The record in a safetensors header (:class:`AdapterError` on another format or bad JSON)."""
        if meta.get("format") != FORMAT:
            raise AdapterError(source, "metadata.format", FORMAT, got=meta.get("format"))
        try:
            config = json.loads(meta.get("config", "{}"))
        except json.JSONDecodeError:
            raise AdapterError(source, "metadata.config", "the adapter config as JSON") from None
        extra = {k: v for k, v in meta.items() if k != "training_scenes"}
        record = cls._parse({**extra, "config": config}, source, "metadata.")
        if "training_scenes" in meta:
            record.extra["training"] = {"scenes": _scenes(meta["training_scenes"], source)}
        return record

    @classmethod
    def from_json(cls, data: Any, source: str | Path) -> AdapterRecord:
        if not isinstance(data, dict):
            raise AdapterError(source, "", "a JSON object (adapter.json)", got=type(data).__name__)
        return cls._parse(data, source, "")

    @classmethod
    def _parse(cls, data: dict, source: str | Path, prefix: str) -> AdapterRecord:
        if data.get("format") != FORMAT:
            raise AdapterError(source, f"{prefix}format", FORMAT, got=data.get("format"))
        if not isinstance(data.get("config"), dict):
            raise AdapterError(source, f"{prefix}config", "the adapter config (a JSON object)", got=data.get("config"))
        fields = dict(data["config"])
        if "alpha" in fields:  # files written before the field was named lora_alpha
            fields["lora_alpha"] = fields.pop("alpha")
        config = from_dict(AdapterConfig, fields, source=str(source), prefix="config.")
        return cls(config, {k: v for k, v in data.items() if k not in ("format", "config")})

    def write(self, folder: str | Path) -> Path:
        """Write ``adapter.json`` into the adapter folder, atomically."""
        return write_json(Path(folder) / CONFIG_FILE, self.to_json())

    @classmethod
    def read(cls, path: str | Path) -> AdapterRecord:
        """The ``adapter.json`` of an adapter folder, or the file itself."""
        path = Path(path)
        path = path / CONFIG_FILE if path.is_dir() else path
        return cls.from_json(read_json(path, "an adapter.json"), path)


def save_adapter(lion, name: str, out_dir: str | Path, extra: dict | None = None) -> Path:
    """Write adapter ``name`` of ``lion`` to ``out_dir`` (both files atomically); returns the folder."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    cfg = lion.configs[name]
    tensors = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in lion.adapter_parameters(name).items()}
    record = AdapterRecord(cfg, dict(extra or {}))
    with atomic_path(out_dir / ADAPTER_FILE) as tmp:
        save_file(tensors, str(tmp), metadata=record.to_metadata())
    record.write(out_dir)
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
    for key, t in tensors.items():  # a NaN weight would make every generated frame black
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise AdapterError(file, key, "finite weights", got=f"{int((~torch.isfinite(t)).sum())} NaN/inf values")
    return AdapterRecord.from_metadata(meta, file).config, tensors, file


def read_training_scenes(path: str | Path) -> list[str] | None:
    """Scenes whose clips trained the adapter at ``path`` (folder or file), from the file's
    ``training_scenes`` metadata; None when not recorded (an adapter of another toolkit, a
    diffusers LoRA file)."""
    from safetensors import safe_open

    file = adapter_file(path)
    try:
        with safe_open(str(file), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error type for any malformed header
        raise AdapterError(file, "", "a valid safetensors file", got=str(exc)[:80]) from None
    return _scenes(meta["training_scenes"], file) if "training_scenes" in meta else None


def _scenes(text: str, source: str | Path) -> list[str]:
    """The ``training_scenes`` metadata: a JSON list of scene names (AdapterError otherwise)."""
    try:
        scenes = json.loads(text)
    except json.JSONDecodeError:
        scenes = None
    if not isinstance(scenes, list) or not all(isinstance(s, str) for s in scenes):
        raise AdapterError(source, "metadata.training_scenes", "a JSON list of scene names", got=text)
    return scenes


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
