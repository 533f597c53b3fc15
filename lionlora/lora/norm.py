"""Norm consistency (Sec. 3.3, eq. 4) and vanilla fusion (eq. 3) of LoRA outputs in one layer.

For k adapters active in a linear layer, ``delta_i = scaling_i * B_i A_i x`` is adapter i's
output there. Eq. 4 rescales each one to a common norm::

    delta_i <- alpha / ||delta_i|| * delta_i,     alpha = (1/k) sum_i ||delta_i||

before they are combined, so that no adapter dominates because it happens to have been trained
to a larger magnitude. Vanilla fusion (eq. 3) sums ``lambda_i * delta_i`` as they are.

Axes of the norm
----------------
``sample`` (the default): one norm per sample over all its tokens and channels. The factor is
then one scalar per (adapter, sample, layer), which is what eq. 4 writes (a scalar times
Delta W_i) and what Fig. 5 plots (one norm per sample, LoRA and block); each adapter keeps its
own spatial pattern inside the layer. ``token``: one norm per token over channels, which also
equalises the adapters token by token. ``rows`` restricts the rows (tokens) that enter the
norms: the scaling tokens are left out, so that a token's own row never changes the factor
applied to the shared sequence.

With one adapter alpha equals its own norm and eq. 4 is the identity; it is skipped exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch

NormAxes = Literal["sample", "token", "none"]

_EPS = 1e-12


def _compute_dtype(t: torch.Tensor) -> torch.dtype:
    """At least float32 (bf16/fp16 outputs are normed in float32)."""
    return torch.promote_types(t.dtype, torch.float32)


def output_norms(deltas: torch.Tensor, axes: NormAxes, rows: torch.Tensor | None = None) -> torch.Tensor:
    """Norms of stacked adapter outputs, kept broadcastable.

    Args:
        deltas: k adapter outputs on the same tokens. ``[k, B, N, C]``.
        axes: ``sample`` -> ``[k, B, 1, 1]`` (over the selected rows and all channels);
            ``token`` -> ``[k, B, N, 1]`` (over channels).
        rows: optional boolean mask ``[N]`` of the rows that enter a ``sample`` norm.
    """
    d = deltas.to(_compute_dtype(deltas))
    if axes == "token":
        return torch.linalg.vector_norm(d, dim=-1, keepdim=True)
    if axes != "sample":
        raise ValueError(f"axes must be 'sample' or 'token', got {axes!r}")
    if rows is not None:
        d = d[:, :, rows]
    return torch.linalg.vector_norm(d, dim=(-2, -1), keepdim=True)


def equalise_norms(deltas: torch.Tensor, axes: NormAxes = "sample", rows: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 4: rescale each of the k outputs to alpha, the mean of their norms.

    Args:
        deltas: ``[k, B, N, C]``.
        axes: ``sample``, ``token`` or ``none`` (returned unchanged).
        rows: rows that enter a ``sample`` norm (all rows are rescaled).
    Returns:
        ``[k, B, N, C]`` in the dtype of ``deltas``; outputs of norm 0 stay 0.
    """
    if axes == "none" or deltas.shape[0] < 2:
        return deltas
    norms = output_norms(deltas, axes, rows)  # [k, B, *, 1]
    alpha = norms.mean(dim=0, keepdim=True)
    factor = torch.where(norms > _EPS, alpha / norms.clamp_min(_EPS), torch.zeros_like(norms))
    return (deltas.to(factor.dtype) * factor).to(deltas.dtype)


def fuse(
    deltas: torch.Tensor, weights: Sequence[float], axes: NormAxes = "sample", rows: torch.Tensor | None = None
) -> torch.Tensor:
    """The fused update of one layer: ``sum_i lambda_i * delta_i`` after eq. 4 (unless ``axes='none'``).

    Args:
        deltas: ``[k, B, N, C]``.
        weights: lambda_i, k values (eq. 3; 1 for LiON-LoRA).
    Returns:
        ``[B, N, C]``.
    """
    deltas = equalise_norms(deltas, axes, rows)
    out = deltas[0] * weights[0] if weights[0] != 1.0 else deltas[0]
    for d, w in zip(deltas[1:], weights[1:]):
        out = out + (d * w if w != 1.0 else d)
    return out
