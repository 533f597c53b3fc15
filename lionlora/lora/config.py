"""Typed configs of the method: one adapter's architecture and the fusion rule.

:class:`AdapterConfig` is what an adapter file records about itself (``adapter.json``);
:class:`FusionConfig` says how several adapters are combined at inference. The training and
generation stages have their own configs in :mod:`lionlora.apps.train` and
:mod:`lionlora.apps.generate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lionlora.checks import scale_in_range
from lionlora.config import opt
from lionlora.errors import ConfigError

# Every linear layer of a CogVideoX block that sees the token sequence (the AdaLN modulation
# linears norm1.linear / norm2.linear only see the timestep embedding and are left alone).
ATTENTION_LINEARS = ["attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0"]
FFN_LINEARS = ["ff.net.0.proj", "ff.net.2"]
BLOCK_LINEARS = ATTENTION_LINEARS + FFN_LINEARS
# Named groups of target modules: the paper adapts "the linear layers of the transformer blocks"
# (attention and FFN: 594.6 M parameters at rank 256 on CogVideoX-5B-I2V); DimensionX's CogVideoX
# LoRAs adapt the attention only (264.3 M at rank 256).
TARGET_GROUPS = {"attention": ATTENTION_LINEARS, "ffn": FFN_LINEARS}

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")


def check_name(name: str, source: str = "adapter", field: str = "name") -> str:
    """Adapter names are primitive names (``orbit_left``, ``motion``): letters, digits, ``_`` and ``-``."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigError(source, field, "a name of letters, digits, '_' or '-'", got=name)
    return name


def expand_targets(targets: list[str]) -> list[str]:
    """Module suffixes of ``targets``: the groups of :data:`TARGET_GROUPS` expanded, order kept, no repeats."""
    out: list[str] = []
    for t in targets:
        for suffix in TARGET_GROUPS.get(t, [t]):
            if suffix not in out:
                out.append(suffix)
    return out


@dataclass
class AdapterConfig:
    """Architecture of one LiON-LoRA adapter (a camera primitive or the motion LoRA)."""

    name: str = opt("adapter", "adapter name: the camera primitive (e.g. orbit_left) or 'motion'")
    rank: int = opt(256, "LoRA rank r (eq. 1)")
    lora_alpha: float | None = opt(
        None, "LoRA alpha: the forward pass scales B A x by lora_alpha / rank (null: the rank, i.e. scale 1)"
    )
    dropout: float = opt(0.0, "dropout on the LoRA input during training")
    target_modules: list[str] = opt(
        ["attention", "ffn"],
        "linear layers of each block that get a LoRA: the groups 'attention' (q, k, v, out) and 'ffn' "
        "(the paper: both; DimensionX: attention only) and/or module suffixes such as attn1.to_q",
    )
    block_start: int = opt(0, "first transformer block with LoRA")
    block_stop: int | None = opt(None, "block after the last one with LoRA (default: all blocks)")
    scaling_token: bool = opt(True, "append the scaling token E = linear(gamma(S)) (eqs. 5-7)")
    fourier_freqs: int = opt(8, "J, number of Fourier frequencies of gamma(S) (eq. 5)")
    s_min: float | None = opt(
        None,
        "smallest scaling value S the adapter was trained on (paper: 49/600 camera, 49/240 motion); "
        "null: training sets it to the smallest S of the adapter's manifest rows",
    )
    width: int = opt(0, "transformer width the adapter was built for (filled in when it is created)")
    num_layers: int = opt(0, "number of transformer blocks of the model (filled in when it is created)")

    def __post_init__(self) -> None:
        check_name(self.name, "AdapterConfig")
        if self.rank < 1:
            raise ConfigError("AdapterConfig", "rank", "a rank >= 1", got=self.rank)
        if self.lora_alpha is not None and not self.lora_alpha > 0:
            raise ConfigError("AdapterConfig", "lora_alpha", "a positive number or null", got=self.lora_alpha)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError("AdapterConfig", "dropout", "a probability in [0, 1)", got=self.dropout)
        if not self.target_modules:
            raise ConfigError("AdapterConfig", "target_modules", "at least one module suffix", got=self.target_modules)
        self.target_modules = expand_targets(self.target_modules)
        if self.block_start < 0 or (self.block_stop is not None and self.block_stop <= self.block_start):
            raise ConfigError(
                "AdapterConfig",
                "block_start/block_stop",
                "0 <= block_start < block_stop",
                got=(self.block_start, self.block_stop),
            )
        if not 1 <= self.fourier_freqs <= 16:
            raise ConfigError("AdapterConfig", "fourier_freqs", "J in [1, 16]", got=self.fourier_freqs)
        if self.s_min is not None and not scale_in_range(self.s_min):
            raise ConfigError("AdapterConfig", "s_min", "a minimal scaling value in (0, 1]", got=self.s_min)

    @property
    def alpha_over_rank(self) -> float:
        """The factor of the LoRA update in the forward pass: lora_alpha / rank (eq. 1's Delta W = scaling * B A)."""
        return (self.rank if self.lora_alpha is None else self.lora_alpha) / self.rank

    def blocks(self, num_layers: int) -> range:
        """Indices of the blocks that carry this adapter in a model with ``num_layers`` blocks."""
        stop = num_layers if self.block_stop is None else self.block_stop
        if stop > num_layers:
            raise ConfigError("AdapterConfig", "block_stop", f"at most the model's {num_layers} blocks", got=stop)
        return range(self.block_start, stop)


@dataclass
class FusionConfig:
    """How the active adapters are combined (Sec. 3.2-3.5).

    ``lion``: each adapter's output in a layer is rescaled to the common norm (eq. 4, unless
    ``norm`` is ``none``) and attention runs one branch per adapter over ``[H; E_i]`` (eq. 8).
    ``vanilla``: the adapters' outputs are summed with weights lambda_i (eq. 3) in one joint
    attention over ``[H; E_1; ...; E_k]``, with no norm rescaling.

    ``merge`` (lion fusion) is the one rule that combines the k adapters in every adapted layer:
    ``mean`` (the paper's Fig. 8) averages the k attention branches and, in every other LoRA
    layer (the FFN), the k norm-equalised LoRA outputs; ``sum`` adds the k branches' changes to
    the adapter-free attention and the k LoRA outputs in every other layer. With ``mean``, an
    adapter fused with an exact copy of itself acts as the adapter alone.
    """

    mode: Literal["lion", "vanilla"] = opt("lion", "lion (eq. 4 + eq. 8) or vanilla fusion (eq. 3)")
    norm: Literal["sample", "token", "none"] = opt(
        "sample", "axes of the norm of eq. 4: per sample over tokens and channels, per token over channels, or off"
    )
    merge: Literal["mean", "sum"] = opt(
        "mean", "lion fusion: mean (Fig. 8) or sum of the k adapters, the same rule in attention and FFN"
    )

    def __post_init__(self) -> None:
        if self.mode == "vanilla" and self.norm != "none":
            self.norm = "none"

    @property
    def branch_attention(self) -> bool:
        return self.mode == "lion"
