"""Training-free fusion (Sec. 3.5, eq. 8, Fig. 8): the LoRA mixing hook and the branch attention.

Two pieces act on a CogVideoX transformer whose LoRA layers were injected by
:mod:`lionlora.lora.inject` and whose scaling tokens sit at the end of the text stream
(:mod:`lionlora.lora.scaling_token`):

* :class:`LoraMixer`, a forward hook on every peft LoRA layer, adds the active adapters'
  outputs to the frozen layer's output: norm-consistent (eq. 4) or weighted (eq. 3) sums on
  the shared tokens H, and on a scaling token's own row only the adapter that owns it;
* :class:`LionAttnProcessor`, a diffusers attention processor, runs one attention branch per
  adapter: branch i sees ``[H; E_i]`` (never another adapter's token) with only adapter i in
  its q/k/v/out projections. The k outputs for H are merged by the fusion's ``merge`` rule
  (averaged by default), the k output tokens are kept side by side. The branches are stacked
  on the batch axis and run through diffusers' own ``CogVideoXAttnProcessor2_0``, so one
  branch (k = 1) is exactly the single-LoRA attention.

The same ``merge`` rule combines the k adapters in every other LoRA layer (the FFN): ``mean``
divides the sum of their (norm-equalised) outputs by k, as the attention averages its k
branches; ``sum`` adds them, as the attention then adds each branch's change to the
adapter-free attention. Vanilla fusion is eq. 3 (a lambda-weighted sum) in every layer.

A scaling token's row only ever carries its own adapter's output, never rescaled by eq. 4, so
within a block token i's output depends on ``[H; E_i]`` and adapter i alone. With eq. 4 off, a
whole branch (H and token) is independent of the other tokens; with it on, the branches share
only the common norm alpha of eq. 4, by definition of that equation.

Both read one :class:`FusionState`, which :class:`lionlora.lora.lion.LionLoRA` fills.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from lionlora.lora.config import FusionConfig
from lionlora.lora.inject import lora_delta
from lionlora.lora.norm import equalise_norms, fuse


@dataclass
class ActiveAdapter:
    """One adapter taking part in a forward pass.

    Attributes:
        name: adapter name.
        weight: lambda_i of eq. 3 (1 for LiON-LoRA; the adapter scale in the Fig. 10 baseline).
        scale: scaling value S (``[B]`` tensor or float) when the adapter appends its token, else None.
    """

    name: str
    weight: float = 1.0
    scale: torch.Tensor | float | None = None


@dataclass
class FusionState:
    """What the hooks of one transformer need to know during a forward pass."""

    adapters: list[ActiveAdapter] = field(default_factory=list)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    text_len: int | None = None  # text rows before the scaling tokens, set by the first block's hook
    n_tokens: int = 0  # scaling tokens appended after the text rows
    branches: int = 0  # > 0 while the branch attention runs (k branches stacked on the batch axis)
    muted: bool = False  # True while the adapter-free attention of the ``sum`` merge runs
    probe: Callable[[str, torch.Tensor, list[str], list[torch.Tensor]], None] | None = None

    @property
    def token_owners(self) -> list[str]:
        return [a.name for a in self.adapters if a.scale is not None]


class LoraMixer:
    """Forward hook of one peft LoRA layer: ``output + fused adapter outputs``."""

    def __init__(self, state: FusionState, module_name: str):
        self.state = state
        self.module_name = module_name

    def __call__(self, layer, args, output):
        st = self.state
        active = [(i, a) for i, a in enumerate(st.adapters) if a.name in layer.lora_A]
        if not active or st.muted:
            return output
        x = args[0]
        if st.probe is not None:
            names = [a.name for _, a in active]
            st.probe(self.module_name, x, names, [lora_delta(layer, n, x) for n in names])
            return output
        if st.branches:
            return output + self._branch_deltas(layer, x, active).to(output.dtype)
        return output + self._joint_delta(layer, x, active).to(output.dtype)

    def _token_rows(self, n_rows: int, device) -> tuple[torch.Tensor | None, list[int]]:
        """Mask of the shared rows and the row of each adapter's token (joint sequence)."""
        st = self.state
        if st.text_len is None or st.n_tokens == 0 or st.fusion.mode != "lion":
            return None, []
        rows = list(range(st.text_len, st.text_len + st.n_tokens))
        shared = torch.ones(n_rows, dtype=torch.bool, device=device)
        shared[rows] = False
        return shared, rows

    def _joint_delta(self, layer, x, active) -> torch.Tensor:
        st = self.state
        deltas = torch.stack([lora_delta(layer, a.name, x) for _, a in active])
        weights = [a.weight for _, a in active]
        if st.fusion.mode == "lion" and st.fusion.merge == "mean":  # as the attention averages its k branches
            weights = [w / len(st.adapters) for w in weights]
        shared, rows = self._token_rows(x.shape[1], x.device)
        out = fuse(deltas, weights, st.fusion.norm, shared)
        if rows:  # a scaling token's row carries only its own adapter (Fig. 8)
            owners = st.token_owners
            out = out.clone()
            for k, (_, a) in enumerate(active):
                if a.name in owners:
                    r = rows[owners.index(a.name)]
                    out[:, r] = deltas[k, :, r] * a.weight
            for j, owner in enumerate(owners):
                if all(a.name != owner for _, a in active):
                    out[:, rows[j]] = 0
        return out

    def _branch_deltas(self, layer, x, active) -> torch.Tensor:
        """Branch attention: adapter i acts on batch chunk i only; eq. 4 across the branches on
        the shared rows, while each chunk's token row keeps its adapter's own output."""
        st = self.state
        k = st.branches
        chunks = x.unflatten(0, (k, x.shape[0] // k))  # [k, B, N, C]
        raw = torch.stack([lora_delta(layer, a.name, chunks[i]) for i, a in active])
        token_row = st.text_len if st.n_tokens and st.text_len is not None else None
        shared = None
        if token_row is not None:
            shared = torch.ones(x.shape[1], dtype=torch.bool, device=x.device)
            shared[token_row] = False
        deltas = equalise_norms(raw, st.fusion.norm, shared)
        if token_row is not None and deltas is not raw:
            deltas = deltas.clone()
            deltas[:, :, token_row] = raw[:, :, token_row]
        out = torch.zeros(k, *deltas.shape[1:], dtype=deltas.dtype, device=deltas.device)
        for j, (i, a) in enumerate(active):
            out[i] = deltas[j] * a.weight if a.weight != 1.0 else deltas[j]
        return out.flatten(0, 1)


class LionAttnProcessor:
    """Attention with one branch per adapter over ``[H; E_i]`` (eq. 8); joint attention otherwise."""

    def __init__(self, state: FusionState):
        from diffusers.models.attention_processor import CogVideoXAttnProcessor2_0

        self.state = state
        self.inner = CogVideoXAttnProcessor2_0()

    def __call__(self, attn, hidden_states, encoder_hidden_states, attention_mask=None, image_rotary_emb=None):
        st = self.state
        k = len(st.adapters)
        if not (st.fusion.branch_attention and k >= 1):
            return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, image_rotary_emb)
        out_h, out_e = self.branches(attn, hidden_states, encoder_hidden_states, attention_mask, image_rotary_emb)
        text_len = out_e.shape[2] - (1 if st.n_tokens else 0)
        if st.fusion.merge == "mean":
            video_out, text_out = out_h.mean(dim=0), out_e[:, :, :text_len].mean(dim=0)
        else:
            text = encoder_hidden_states[:, : encoder_hidden_states.shape[1] - st.n_tokens]
            base_h, base_e = self.adapter_free(attn, hidden_states, text, attention_mask, image_rotary_emb)
            video_out = base_h + (out_h - base_h).sum(dim=0)
            text_out = base_e + (out_e[:, :, :text_len] - base_e).sum(dim=0)
        if not st.n_tokens:
            return video_out, text_out
        tokens_out = out_e[:, :, text_len].transpose(0, 1)  # [B, k, C]
        return video_out, torch.cat([text_out, tokens_out], dim=1)

    def adapter_free(self, attn, hidden_states, text, attention_mask=None, image_rotary_emb=None):
        """The attention over ``[H; text]`` with no adapter (the reference of the ``sum`` merge)."""
        self.state.muted = True
        try:
            return self.inner(attn, hidden_states, text, attention_mask, image_rotary_emb)
        finally:
            self.state.muted = False

    def branches(self, attn, hidden_states, encoder_hidden_states, attention_mask=None, image_rotary_emb=None):
        """The k branch outputs before they are merged.

        Args:
            hidden_states: video tokens ``[B, N, C]``.
            encoder_hidden_states: ``[B, L + k, C]``, text then the k scaling tokens (or ``[B, L, C]``).
        Returns:
            video outputs ``[k, B, N, C]`` and text(+own token) outputs ``[k, B, L (+1), C]``.
        """
        st = self.state
        k = len(st.adapters)
        batch, n_enc = encoder_hidden_states.shape[:2]
        n_tok = st.n_tokens
        text_len = n_enc - n_tok
        text = encoder_hidden_states[:, :text_len]
        if n_tok:
            tokens = encoder_hidden_states[:, text_len:]  # [B, k, C]
            enc = torch.cat([torch.cat([text, tokens[:, i : i + 1]], dim=1) for i in range(k)], dim=0)
        else:
            enc = text.repeat(k, 1, 1)
        hid = hidden_states.repeat(k, 1, 1)
        if attention_mask is not None:
            attention_mask = attention_mask.repeat(k, *([1] * (attention_mask.dim() - 1)))
        st.branches = k
        try:
            out_h, out_e = self.inner(attn, hid, enc, attention_mask, image_rotary_emb)
        finally:
            st.branches = 0
        return out_h.unflatten(0, (k, batch)), out_e.unflatten(0, (k, batch))
