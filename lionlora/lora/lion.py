"""LiON-LoRA around a CogVideoX transformer: named adapters, scaling tokens and their fusion.

:class:`LionLoRA` owns the transformer (frozen), injects one peft adapter per camera primitive
or motion LoRA, keeps each adapter's scaling-token projection, and installs the hooks that
combine the active adapters (:mod:`lionlora.lora.fusion`). The same code runs training (one
active adapter with its token) and inference (k adapters, k tokens). A diffusers pipeline that
holds the transformer uses it unchanged: the hooks read which adapters are active from
:meth:`LionLoRA.activate`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from lionlora.checks import scale_in_range
from lionlora.errors import AdapterError
from lionlora.lora.config import AdapterConfig, FusionConfig
from lionlora.lora.fusion import ActiveAdapter, FusionState, LionAttnProcessor, LoraMixer
from lionlora.lora.inject import adapter_state, inject_adapter, lora_layers
from lionlora.lora.scaling_token import ScalingToken

log = logging.getLogger(__name__)


class LionLoRA(nn.Module):
    """A CogVideoX transformer with LiON-LoRA adapters.

    Args:
        transformer: a ``CogVideoXTransformer3DModel``; its own weights are frozen.
    """

    def __init__(self, transformer: nn.Module):
        super().__init__()
        self.transformer = transformer
        self.tokens = nn.ModuleDict()
        self.configs: dict[str, AdapterConfig] = {}
        self.state = FusionState()
        self._hooked: set[str] = set()
        cfg = transformer.config
        self.width = int(cfg.num_attention_heads * cfg.attention_head_dim)
        self.num_layers = int(cfg.num_layers)
        transformer.requires_grad_(False)
        for index, block in enumerate(transformer.transformer_blocks):
            block.attn1.set_processor(LionAttnProcessor(self.state))
            block.register_forward_pre_hook(functools.partial(self._block_inputs, index), with_kwargs=True)
        transformer.register_forward_hook(self._end_of_forward)

    # -- adapters -------------------------------------------------------------------------------

    def add_adapter(self, cfg: AdapterConfig) -> AdapterConfig:
        """Inject a new adapter (zero LoRA update, fresh token projection); returns its completed config."""
        if cfg.name in self.configs:
            raise AdapterError(cfg.name, "name", "a name not yet loaded into the model", got=cfg.name)
        cfg = dataclasses.replace(cfg, width=self.width, num_layers=self.num_layers)
        inject_adapter(self.transformer, cfg)
        for name, layer in lora_layers(self.transformer).items():
            if name not in self._hooked:
                layer.register_forward_hook(LoraMixer(self.state, name))
                self._hooked.add(name)
        if cfg.scaling_token:
            ref = next(self.transformer.parameters())
            self.tokens[cfg.name] = ScalingToken(cfg.fourier_freqs, self.width).to(ref.device)
        self.configs[cfg.name] = cfg
        for p in self.adapter_parameters(cfg.name).values():
            p.requires_grad_(False)
        return cfg

    def adapter_parameters(self, name: str) -> dict[str, nn.Parameter]:
        """Everything adapter ``name`` owns: ``lora.<module>.lora_A.weight``, ... and ``token.proj.*``."""
        self._check_known(name, "adapter")
        params = {f"lora.{k}": v for k, v in adapter_state(self.transformer, name).items()}
        if name in self.tokens:
            params.update({f"token.{k}": v for k, v in self.tokens[name].named_parameters()})
        return params

    def trainable(self, name: str, dtype: torch.dtype = torch.float32) -> list[nn.Parameter]:
        """Make adapter ``name`` (and only it) trainable, its weights in ``dtype``; returns the parameters."""
        for other in self.configs:
            for p in self.adapter_parameters(other).values():
                p.requires_grad_(False)
        params = list(self.adapter_parameters(name).values())
        for p in params:
            p.data = p.data.to(dtype)
            p.requires_grad_(True)
        return params

    def _check_known(self, name: str, source: str) -> None:
        if name not in self.configs:
            raise AdapterError(source, "name", f"one of the loaded adapters {sorted(self.configs)}", got=name)

    def check_scale(self, name: str, scale, source: str = "S") -> None:
        """S must lie in ``[s_min, 1]`` of the adapter (the range its token was trained on)."""
        s_min = self.configs[name].s_min or 0.0  # an adapter never trained (s_min null): S in (0, 1]
        values = torch.as_tensor(scale, dtype=torch.float64).reshape(-1)
        lo, hi = float(values.min()), float(values.max())
        # S may arrive as float32 (13/49 rounds below s_min in float32): scale_in_range's tolerance covers it
        if not (
            torch.isfinite(values).all() and scale_in_range(lo, s_min or None) and scale_in_range(hi, s_min or None)
        ):
            raise AdapterError(
                source,
                name,
                f"a scaling value S in [s_min, 1] = [{s_min:.4g}, 1]",
                got=lo if lo < s_min or lo <= 0 else hi,
            )

    # -- activation -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def activate(self, adapters: Sequence[ActiveAdapter], fusion: FusionConfig | None = None) -> Iterator[None]:
        """Run the forward passes inside the block with these adapters (k >= 0) and this fusion rule.

        Raises:
            AdapterError: an unknown adapter name, an S outside ``[s_min, 1]``, S given to an
                adapter trained without a scaling token, or (lion fusion) tokens for some adapters only.
        """
        fusion = fusion or FusionConfig()
        seen = set()
        for a in adapters:
            self._check_known(a.name, "adapter")
            if a.name in seen:
                raise AdapterError("adapters", "name", "each adapter at most once", got=a.name)
            seen.add(a.name)
            if a.scale is not None:
                if a.name not in self.tokens:
                    raise AdapterError(
                        a.name,
                        "scaling_token",
                        "an adapter trained with a scaling token (use the adapter-scale mode for this one)",
                        got=False,
                    )
                self.check_scale(a.name, a.scale)
        with_token = [a.scale is not None for a in adapters]
        if fusion.branch_attention and any(with_token) and not all(with_token):
            raise AdapterError(
                "adapters", "scale", "scaling tokens for all fused adapters or for none (lion fusion)", got=with_token
            )
        previous = (self.state.adapters, self.state.fusion)
        self.state.adapters, self.state.fusion = list(adapters), fusion
        try:
            yield
        finally:
            self.state.adapters, self.state.fusion = previous

    def forward(
        self, *args, adapters: Sequence[ActiveAdapter] | None = None, fusion: FusionConfig | None = None, **kwargs
    ):
        """The transformer's forward with ``adapters`` active (as they are when None).

        With gradient checkpointing the blocks run again in the backward pass: keep the adapters
        active around forward *and* backward (``with lion.activate(...)``) rather than passing them here.
        """
        if adapters is None:
            return self.transformer(*args, **kwargs)
        with self.activate(adapters, fusion):
            return self.transformer(*args, **kwargs)

    # -- hooks ----------------------------------------------------------------------------------

    def _block_inputs(self, index: int, block, args, kwargs):
        """Pre-hook of every block: the first appends E_1..E_k to the text stream (see
        scaling_token.py); each one records where the tokens sit for the hooks inside the block.

        Done per block (not once per forward) so that a block recomputed by gradient
        checkpointing, during the backward pass, finds the same layout again.
        """
        st = self.state
        owners = [a for a in st.adapters if a.scale is not None]
        positional = "encoder_hidden_states" not in kwargs
        enc = args[1] if positional else kwargs["encoder_hidden_states"]
        if index > 0 or not owners:
            st.text_len, st.n_tokens = enc.shape[1] - len(owners), len(owners)
            return None
        batch = enc.shape[0]
        tokens = [self.tokens[a.name](_per_sample(a.scale, batch, enc.device)).to(enc.dtype) for a in owners]
        new = torch.cat([enc, *tokens], dim=1)
        st.text_len, st.n_tokens = enc.shape[1], len(owners)
        if positional:
            args = (args[0], new, *args[2:])
        else:
            kwargs = {**kwargs, "encoder_hidden_states": new}
        return args, kwargs

    def _end_of_forward(self, module, args, output):
        self.state.text_len, self.state.n_tokens = None, 0
        return output


def _per_sample(scale, batch: int, device) -> torch.Tensor:
    """S as a ``[batch]`` vector: a scalar is broadcast; a ``[b]`` vector is tiled when the batch
    holds several copies of it (classifier-free guidance doubles the batch)."""
    s = torch.as_tensor(scale, dtype=torch.float32, device=device).reshape(-1)
    if s.numel() == batch:
        return s
    if s.numel() == 1 or batch % s.numel() == 0:
        return s.repeat(batch // s.numel())
    raise AdapterError("S", "scale", f"one scaling value or {batch} per sample", got=s.numel())
