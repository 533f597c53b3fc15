"""LoRA files in diffusers' format: reading them as plain adapters, and exporting ours to them.

diffusers' ``CogVideoXImageToVideoPipeline.load_lora_weights`` reads a safetensors file whose keys
are peft's names under the ``transformer.`` prefix::

    transformer.transformer_blocks.{b}.{module}.lora_A.weight   [r, d_in]
    transformer.transformer_blocks.{b}.{module}.lora_B.weight   [d_out, r]

with no alpha (the update is ``B A x``, scale 1; ``set_adapters`` multiplies it by an adapter
weight). This is the layout DimensionX's orbit LoRAs and ``CogVideoXLoraLoaderMixin.save_lora_weights``
use. A LiON-LoRA adapter (:mod:`lionlora.lora.io`) holds the same LoRA under ``lora.`` plus its
scaling-token projection ``token.proj.*``, which diffusers has no equivalent of: an export keeps
the LoRA part only (alpha / rank folded into B), so the exported file reproduces the adapter's
*plain-LoRA* path (no token), not its S control.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import torch

from lionlora.errors import AdapterError
from lionlora.io.files import atomic_path
from lionlora.lora.config import BLOCK_LINEARS, AdapterConfig

log = logging.getLogger(__name__)

DIFFUSERS_KEY = re.compile(r"^transformer\.transformer_blocks\.(\d+)\.(.+)\.lora_([AB])\.weight$")
DIFFUSERS_FILE = "pytorch_lora_weights.safetensors"
EXPECTED_KEYS = (
    "LiON-LoRA adapter keys (lora.transformer_blocks.N.MODULE.lora_A.weight / lora_B.weight, token.proj.*, "
    "metadata format lionlora-adapter/1) or diffusers/peft CogVideoX LoRA keys "
    "(transformer.transformer_blocks.N.MODULE.lora_A.weight / lora_B.weight)"
)


def lora_file(path: str | Path) -> Path:
    """The safetensors file of an adapter or LoRA folder (``adapter.safetensors`` or diffusers'
    ``pytorch_lora_weights.safetensors``), or ``path`` itself (pickle refused)."""
    from lionlora.lora.io import adapter_file

    path = Path(path)
    if path.is_dir() and (path / DIFFUSERS_FILE).is_file() and not (path / "adapter.safetensors").is_file():
        path = path / DIFFUSERS_FILE
    return adapter_file(path)


def _header(file: Path) -> tuple[dict, list[str]]:
    from safetensors import safe_open

    try:
        with safe_open(str(file), framework="pt") as f:
            return f.metadata() or {}, list(f.keys())
    except Exception as exc:  # safetensors raises its own error type for any malformed header
        raise AdapterError(file, "", "a valid safetensors file", got=str(exc)[:80]) from None


def lora_format(path: str | Path) -> str:
    """``"lionlora"`` or ``"diffusers"``, from the file's metadata and keys.

    Raises:
        AdapterError: keys of neither format (naming the file, a key and the keys expected).
    """
    from lionlora.lora.io import FORMAT

    file = lora_file(path)
    meta, keys = _header(file)
    if meta.get("format") == FORMAT:
        return "lionlora"
    odd = [k for k in keys if not DIFFUSERS_KEY.match(k)]
    if keys and not odd:
        return "diffusers"
    raise AdapterError(file, "keys", EXPECTED_KEYS, got=odd[0] if odd else "no tensors")


def read_diffusers_lora(path: str | Path, name: str) -> tuple[AdapterConfig, dict[str, torch.Tensor], Path]:
    """A diffusers LoRA file as a plain adapter ``name``: config (no scaling token) and tensors in
    :func:`lionlora.lora.io.read_adapter`'s key layout.

    Blocks ``min..max`` of the file and the union of its modules get the LoRA; a (block, module)
    the file lacks gets zeros, and lower-rank modules are zero-padded to the largest rank (both
    leave the update ``B A x`` unchanged).
    """
    from safetensors.torch import load_file

    file = lora_file(path)
    if lora_format(file) != "diffusers":
        raise AdapterError(file, "keys", "diffusers/peft CogVideoX LoRA keys", got="a LiON-LoRA adapter")
    raw = load_file(str(file))
    pairs: dict[tuple[int, str], dict[str, torch.Tensor]] = {}
    for key, t in raw.items():
        b, module, ab = DIFFUSERS_KEY.match(key).groups()
        pairs.setdefault((int(b), module), {})[ab] = t
    for (b, module), ab in pairs.items():
        if set(ab) != {"A", "B"} or ab["A"].shape[0] != ab["B"].shape[1]:
            key = f"transformer.transformer_blocks.{b}.{module}"
            raise AdapterError(file, key, "lora_A [r, d_in] and lora_B [d_out, r] of one rank r", got=sorted(ab))
    rank = max(ab["A"].shape[0] for ab in pairs.values())
    blocks = sorted({b for b, _ in pairs})
    modules = sorted({m for _, m in pairs}, key=lambda m: (BLOCK_LINEARS.index(m) if m in BLOCK_LINEARS else 99, m))
    cfg = AdapterConfig(
        name=name,
        rank=rank,
        target_modules=modules,
        block_start=blocks[0],
        block_stop=blocks[-1] + 1,
        scaling_token=False,
    )
    shapes = {m: (ab["B"].shape[0], ab["A"].shape[1]) for (_, m), ab in pairs.items()}
    tensors = {}
    for b in range(blocks[0], blocks[-1] + 1):
        for m in modules:
            ab = pairs.get((b, m))
            d_out, d_in = shapes[m] if ab is None else (ab["B"].shape[0], ab["A"].shape[1])
            A, B = torch.zeros(rank, d_in), torch.zeros(d_out, rank)
            if ab is not None:
                r = ab["A"].shape[0]
                A[:r], B[:, :r] = ab["A"].float(), ab["B"].float()
            tensors[f"lora.transformer_blocks.{b}.{m}.lora_A.weight"] = A
            tensors[f"lora.transformer_blocks.{b}.{m}.lora_B.weight"] = B
    return cfg, tensors, file


def load_lora(lion, path: str | Path, name: str, dtype: torch.dtype | None = None) -> tuple[AdapterConfig, str]:
    """Load a LiON-LoRA adapter or a diffusers LoRA file into ``lion`` as adapter ``name``.

    Returns:
        the adapter's config and the file's format (``"lionlora"`` or ``"diffusers"``).
    """
    from lionlora.errors import ConfigError
    from lionlora.lora.io import assign_adapter_tensors, load_adapter

    if lora_format(path) == "lionlora":
        return load_adapter(lion, path, name=name, dtype=dtype), "lionlora"
    cfg, tensors, file = read_diffusers_lora(path, name)
    try:
        cfg = lion.add_adapter(cfg)
    except ConfigError as exc:
        raise AdapterError(file, f"keys ({exc.field})", exc.expected, exc.got) from None
    assign_adapter_tensors(lion, name, tensors, file, dtype)
    log.info("loaded diffusers LoRA %s from %s (rank %d, no scaling token)", name, file, cfg.rank)
    return cfg, "diffusers"


def export_diffusers(adapter: str | Path, out: str | Path) -> dict:
    """Write the LoRA part of a LiON-LoRA adapter as a diffusers LoRA file (atomically).

    Returns:
        A summary: the adapter's name, rank, the number of LoRA layers written and whether a
        scaling token was left out.
    """
    from safetensors.torch import save_file

    from lionlora.lora.io import read_adapter

    cfg, tensors, file = read_adapter(adapter)
    scaling = cfg.alpha_over_rank
    outt = {}
    for key, t in tensors.items():
        if not key.startswith("lora."):
            continue
        t = t.detach().to(torch.float32)
        outt["transformer." + key[len("lora.") :]] = (t * scaling if key.endswith("lora_B.weight") else t).contiguous()
    out = Path(out)
    if out.suffix != ".safetensors":
        raise AdapterError(out, "", "an output file named *.safetensors", got=out.name)
    meta = {"format": "pt", "lionlora_source": json.dumps({"name": cfg.name, "file": file.name})}
    with atomic_path(out) as tmp:
        save_file(outt, str(tmp), metadata=meta)
    return {"name": cfg.name, "rank": cfg.rank, "layers": len(outt) // 2, "token_dropped": cfg.scaling_token}
