"""Tile-based front-to-back alpha compositing with an analytic backward pass (pure PyTorch).

Input: the (tile, Gaussian) intersection list sorted by tile, then depth. For intersection ``i``
and pixel ``p`` of its tile (centre ``(u, v)``, offset ``d = (u, v) - mean2d``)::

    sigma_ip = (A dx^2 + C dy^2) / 2 + B dx dy            conic [[A, B], [B, C]]
    alpha_ip = min(0.999, o_i exp(-sigma_ip)), 0 below alpha_min
    T_ip     = prod_{j < i, same tile} (1 - alpha_jp)      (segmented cumulative sum of log(1 - alpha))
    out_p    = sum_i alpha_ip T_ip f_i,   acc_p = sum_i alpha_ip T_ip

The backward pass is written out rather than recorded by autograd, which keeps only alpha and T
per (intersection, pixel) and costs a handful of vectorised passes. With ``q_ip = dL/dout_p . f_i +
dL/dacc_p`` (the gradient of the weight ``w_ip = alpha_ip T_ip``) and the sum of what later
Gaussians of the tile contribute, ``R_ip = sum_{k > i} q_kp w_kp``::

    dL/dalpha_ip = q_ip T_ip - R_ip / (1 - alpha_ip)
    dL/df_i      = sum_p w_ip dL/dout_p
    dL/dsigma_ip = -alpha_ip dL/dalpha_ip,   dL/do_i = sum_p exp(-sigma_ip) dL/dalpha_ip   (where not clamped)

and the chain rule through ``sigma`` gives the gradients of the 2D means and conics.
Prefix and suffix sums run in float64 so that long intersection lists keep their precision.
"""

from __future__ import annotations

import torch
from torch import Tensor

ALPHA_MAX = 0.999


def _pair_offsets(means2d: Tensor, tile_ids: Tensor, gauss_ids: Tensor, tile_size: int, tiles_x: int):
    """Pixel offsets ``dx, dy [n, P]`` from each intersection's 2D mean to its tile's pixel centres."""
    dt, dev = means2d.dtype, means2d.device
    local = torch.arange(tile_size * tile_size, device=dev)
    lx = (local % tile_size).to(dt) + 0.5
    ly = (local // tile_size).to(dt) + 0.5
    m = means2d[gauss_ids]
    dx = ((tile_ids % tiles_x).to(dt) * tile_size - m[:, 0])[:, None] + lx[None]
    dy = ((tile_ids // tiles_x).to(dt) * tile_size - m[:, 1])[:, None] + ly[None]
    return dx, dy


def _sigma(conics: Tensor, gauss_ids: Tensor, dx: Tensor, dy: Tensor) -> Tensor:
    con = conics[gauss_ids]
    return 0.5 * (con[:, 0, None] * dx * dx + con[:, 2, None] * dy * dy) + con[:, 1, None] * dx * dy


class TileComposite(torch.autograd.Function):
    """``(means2d [N, 2], conics [N, 3], opacities [N], features [N, F])`` -> per-tile
    ``features [t1 - t0, P, F]`` and ``alpha [t1 - t0, P]`` for the intersections of tiles ``[t0, t1)``."""

    @staticmethod
    def forward(ctx, means2d, conics, opacities, features, tile_ids, gauss_ids, tile_size, tiles_x, t0, t1, alpha_min):
        dx, dy = _pair_offsets(means2d, tile_ids, gauss_ids, tile_size, tiles_x)
        sigma = _sigma(conics, gauss_ids, dx, dy)
        alpha = torch.clamp_max(opacities[gauss_ids, None] * torch.exp(-sigma), ALPHA_MAX)
        alpha = torch.where((alpha >= alpha_min) & (sigma >= 0), alpha, torch.zeros_like(alpha))
        log1m = torch.log1p(-alpha).double()
        excl = torch.cumsum(log1m, 0) - log1m
        first = torch.searchsorted(tile_ids, tile_ids)  # first intersection of each tile
        T = torch.exp(excl - excl[first]).to(alpha.dtype)
        w = alpha * T
        rel = tile_ids - t0
        n_out, P = t1 - t0, tile_size * tile_size
        out = features.new_zeros(n_out, P, features.shape[-1]).index_add_(
            0, rel, w[:, :, None] * features[gauss_ids][:, None]
        )
        acc = alpha.new_zeros(n_out, P).index_add_(0, rel, w)
        ctx.save_for_backward(means2d, conics, opacities, features, tile_ids, gauss_ids, alpha, T)
        ctx.geometry = (tile_size, tiles_x, t0)
        return out, acc

    @staticmethod
    def backward(ctx, g_out, g_acc):
        means2d, conics, opacities, features, tile_ids, gauss_ids, alpha, T = ctx.saved_tensors
        tile_size, tiles_x, t0 = ctx.geometry
        rel = tile_ids - t0
        f = features[gauss_ids]
        G = g_out[rel]  # [n, P, F]
        w = alpha * T
        q = torch.einsum("ipf,if->ip", G, f) + g_acc[rel]
        cs = torch.cumsum((q * w).double(), 0)
        last = torch.searchsorted(tile_ids, tile_ids, right=True) - 1  # last intersection of each tile
        later = (cs[last] - cs).to(alpha.dtype)
        d_alpha = q * T - later / (1.0 - alpha)
        grads = [None] * 11
        if ctx.needs_input_grad[3]:
            grads[3] = torch.zeros_like(features).index_add_(0, gauss_ids, torch.einsum("ip,ipf->if", w, G))
        if any(ctx.needs_input_grad[:3]):
            dx, dy = _pair_offsets(means2d, tile_ids, gauss_ids, tile_size, tiles_x)
            e = torch.exp(-_sigma(conics, gauss_ids, dx, dy))
            live = (alpha > 0) & (opacities[gauss_ids, None] * e < ALPHA_MAX)
            d_alpha = torch.where(live, d_alpha, torch.zeros_like(d_alpha))
            g_sig = -d_alpha * alpha
            con = conics[gauss_ids]
            a, b, c = con[:, 0, None], con[:, 1, None], con[:, 2, None]
            d_m = -torch.stack([(g_sig * (a * dx + b * dy)).sum(1), (g_sig * (c * dy + b * dx)).sum(1)], -1)
            d_con = torch.stack(
                [(g_sig * 0.5 * dx * dx).sum(1), (g_sig * dx * dy).sum(1), (g_sig * 0.5 * dy * dy).sum(1)], -1
            )
            grads[0] = torch.zeros_like(means2d).index_add_(0, gauss_ids, d_m)
            grads[1] = torch.zeros_like(conics).index_add_(0, gauss_ids, d_con)
            grads[2] = torch.zeros_like(opacities).index_add_(0, gauss_ids, (d_alpha * e).sum(1))
        return tuple(grads)


def composite(
    tile_ids: Tensor,
    gauss_ids: Tensor,
    means2d: Tensor,
    conics: Tensor,
    opacities: Tensor,
    features: Tensor,
    tile_size: int,
    tiles_x: int,
    t0: int,
    t1: int,
    alpha_min: float,
) -> tuple[Tensor, Tensor]:
    """Composite the intersections of tiles ``[t0, t1)``: features ``[t1 - t0, P, F]``, alpha ``[t1 - t0, P]``."""
    if gauss_ids.numel() == 0:
        P = tile_size * tile_size
        return (features.new_zeros(t1 - t0, P, features.shape[-1]), features.new_zeros(t1 - t0, P))
    return TileComposite.apply(
        means2d, conics, opacities, features, tile_ids, gauss_ids, tile_size, tiles_x, t0, t1, alpha_min
    )
