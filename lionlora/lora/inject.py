"""LoRA injection into a CogVideoX transformer with peft: one named adapter per primitive.

peft's ``inject_adapter_in_model`` creates the ``lora_A`` / ``lora_B`` weights (eqs. 1-2) in
the chosen linear layers; calling it again with another name adds a second adapter to the same
layers. peft's own adapter arithmetic is switched off in those layers
(``enable_adapters(False)``): the combination of the active adapters (one LoRA in training, k
fused LoRAs at inference, norm consistency, branch attention) is done by the forward hooks of
:mod:`lionlora.lora.fusion`, which read the peft weights.
"""

from __future__ import annotations

import logging
import warnings

import torch
from torch import nn

from lionlora.errors import AdapterError, ConfigError
from lionlora.lora.config import BLOCK_LINEARS, AdapterConfig

log = logging.getLogger(__name__)


def adapter_targets(transformer: nn.Module, cfg: AdapterConfig) -> list[str]:
    """Full module names (``transformer_blocks.3.attn1.to_q``) of the layers that get adapter ``cfg``."""
    modules = dict(transformer.named_modules())
    names = []
    for b in cfg.blocks(len(transformer.transformer_blocks)):
        for suffix in cfg.target_modules:
            name = f"transformer_blocks.{b}.{suffix}"
            module = modules.get(name)
            base = getattr(module, "base_layer", module)
            if not isinstance(base, nn.Linear):
                raise ConfigError(
                    "AdapterConfig",
                    "target_modules",
                    f"linear layers of a CogVideoX block: the groups attention, ffn or e.g. {', '.join(BLOCK_LINEARS)}",
                    got=suffix,
                )
            names.append(name)
    return names


def lora_layers(transformer: nn.Module) -> dict[str, nn.Module]:
    """peft LoRA layers of the model by full module name."""
    from peft.tuners.lora import LoraLayer

    return {name: m for name, m in transformer.named_modules() if isinstance(m, LoraLayer)}


def adapter_names(transformer: nn.Module) -> set[str]:
    """Names of the adapters injected so far."""
    names: set[str] = set()
    for layer in lora_layers(transformer).values():
        names.update(layer.lora_A.keys())
    return names


def inject_adapter(transformer: nn.Module, cfg: AdapterConfig) -> list[str]:
    """Add adapter ``cfg.name`` (zero update: B = 0) to the target layers; returns their names.

    Raises:
        AdapterError: an adapter of that name is already in the model.
    """
    from peft import LoraConfig, inject_adapter_in_model

    if cfg.name in adapter_names(transformer):
        raise AdapterError(cfg.name, "name", "a name not yet loaded into the model", got=cfg.name)
    targets = adapter_targets(transformer, cfg)
    lora_cfg = LoraConfig(
        r=cfg.rank,
        lora_alpha=cfg.rank if cfg.lora_alpha is None else cfg.lora_alpha,
        lora_dropout=cfg.dropout,
        target_modules=targets,
        init_lora_weights=True,
        bias="none",
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*peft_config.*")
        inject_adapter_in_model(lora_cfg, transformer, adapter_name=cfg.name)
    layers = lora_layers(transformer)
    for name in targets:
        layers[name].enable_adapters(False)  # the fusion hooks add the adapters' outputs
    log.debug("adapter %s: rank %d on %d layers", cfg.name, cfg.rank, len(targets))
    return targets


def adapter_state(transformer: nn.Module, name: str) -> dict[str, nn.Parameter]:
    """Adapter ``name``'s LoRA parameters, keyed ``<module>.lora_A.weight`` / ``<module>.lora_B.weight``."""
    out = {}
    for module_name, layer in lora_layers(transformer).items():
        if name in layer.lora_A:
            out[f"{module_name}.lora_A.weight"] = layer.lora_A[name].weight
            out[f"{module_name}.lora_B.weight"] = layer.lora_B[name].weight
    return out


def lora_delta(layer: nn.Module, name: str, x: torch.Tensor) -> torch.Tensor:
    """Adapter ``name``'s output in ``layer``: ``scaling * B A dropout(x)`` (eq. 1 applied to x)."""
    lora_a = layer.lora_A[name]
    x = x.to(lora_a.weight.dtype)
    return layer.lora_B[name](lora_a(layer.lora_dropout[name](x))) * layer.scaling[name]
