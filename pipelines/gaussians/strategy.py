"""Densification and pruning for the torch engine (the 3DGS schedule), and its config.

The gsplat engine uses gsplat's ``DefaultStrategy`` with the same :class:`DensifyConfig`; this
module is the torch engine's counterpart with the same call pattern
(``step_pre_backward`` / ``step_post_backward`` on a dict of parameters and one optimiser per
parameter):

* the norm of each Gaussian's screen-space mean gradient (in normalised device units, i.e.
  pixels times ``(W/2, H/2)``) is averaged over the steps in which it is visible;
* every ``refine_every`` steps between ``refine_start_iter`` and ``refine_stop_iter``, Gaussians
  whose average exceeds ``grow_grad2d`` are cloned (small ones: largest std at most
  ``grow_scale3d`` times the scene scale) or split in two (large ones: children sampled from
  the parent, std divided by 1.6); Gaussians with opacity below ``prune_opa`` are removed, and
  after the first opacity reset also those larger than ``prune_scale3d`` times the scene scale;
  before growing, Gaussians whose screen radius exceeded ``prune_scale2d`` times ``max(W, H)`` in
  a step since the previous refinement are removed (as gsplat's ``prune_scale2d``): the CPU
  rasteriser's cost per step is the footprint area summed over Gaussians, and a few huge ones
  dominate it;
* every ``reset_every`` steps opacities are capped at ``2 * prune_opa``.

Optimiser moments follow their Gaussians (kept rows are selected, new rows start at zero).
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor

from lionlora.pipelines.gaussians.config import DensifyConfig
from lionlora.pipelines.gaussians.raster_torch import quat_to_rotmat

log = logging.getLogger(__name__)


def edit_gaussians(
    params: dict[str, Tensor],
    optimizers: dict[str, torch.optim.Optimizer],
    keep: Tensor,
    new: dict[str, Tensor] | None = None,
) -> None:
    """Replace every parameter by ``cat(p[keep], new[name])`` in place, optimiser moments alike."""
    for name, p in list(params.items()):
        data = p.detach()[keep]
        if new is not None:
            data = torch.cat([data, new[name].to(data)], 0)
        q = torch.nn.Parameter(data.contiguous(), requires_grad=p.requires_grad)
        optim = optimizers[name]
        state = optim.state.pop(p, {})
        for group in optim.param_groups:
            group["params"] = [q if x is p else x for x in group["params"]]
        n_new = 0 if new is None else len(new[name])
        for key, v in state.items():
            if torch.is_tensor(v) and v.dim() > 0 and v.shape[0] == p.shape[0]:
                v = v[keep]
                if n_new:
                    v = torch.cat([v, torch.zeros((n_new,) + v.shape[1:], dtype=v.dtype, device=v.device)], 0)
            state[key] = v
        if state:
            optim.state[q] = state
        params[name] = q


class Densifier:
    """The torch engine's densification strategy (see the module docstring)."""

    def __init__(self, cfg: DensifyConfig, scene_scale: float, seed: int = 0):
        self.cfg = cfg
        self.scene_scale = float(scene_scale)
        self.gen = torch.Generator().manual_seed(seed)

    def initialize_state(self) -> dict:
        return {"grad2d": None, "count": None, "radii2d": None}

    def step_pre_backward(self, params, optimizers, state, step: int, info: dict) -> None:
        info["means2d"].retain_grad()

    @torch.no_grad()
    def step_post_backward(self, params, optimizers, state, step: int, info: dict, packed: bool = False) -> None:
        cfg = self.cfg
        if step >= cfg.refine_stop_iter:
            return
        self._accumulate(params, state, info)
        if step > cfg.refine_start_iter and step % cfg.refine_every == 0:
            n0 = len(params["means"])
            n_large = self._prune_large(params, optimizers, state)
            n_dup, n_split = self._grow(params, optimizers, state)
            n_prune = self._prune(params, optimizers, step)
            log.debug(
                "step %d: %d Gaussians, -%d large on screen, +%d cloned, +%d split, -%d pruned -> %d",
                step,
                n0,
                n_large,
                n_dup,
                n_split,
                n_prune,
                len(params["means"]),
            )
            state["grad2d"] = state["count"] = state["radii2d"] = None
        if cfg.reset_every and step > 0 and step % cfg.reset_every == 0:
            self._reset_opacity(params, optimizers)

    def _accumulate(self, params, state, info) -> None:
        n = len(params["means"])
        if state["grad2d"] is None or len(state["grad2d"]) != n:
            state["grad2d"] = torch.zeros(n)
            state["count"] = torch.zeros(n)
            state["radii2d"] = torch.zeros(n)
        grad = info["means2d"].grad
        if grad is None:
            return
        scale = torch.tensor([info["width"] / 2.0, info["height"] / 2.0], dtype=grad.dtype) * info["n_cameras"]
        norms = (grad * scale).norm(dim=-1)  # [C, N]
        radii = info["radii"]
        visible = (radii > 0).all(-1) if radii.dim() == 3 else radii > 0
        state["grad2d"] += (norms * visible).sum(0).float()
        state["count"] += visible.sum(0).float()
        size = float(max(info["width"], info["height"]))
        largest = (radii.amax(-1) if radii.dim() == 3 else radii).amax(0).float() / size
        state["radii2d"] = torch.maximum(state["radii2d"], largest)

    def _prune_large(self, params, optimizers, state) -> int:
        """Remove Gaussians whose screen radius exceeded ``prune_scale2d`` (state rows follow)."""
        if not self.cfg.prune_scale2d or state["radii2d"] is None or len(state["radii2d"]) != len(params["means"]):
            return 0
        big = state["radii2d"] > self.cfg.prune_scale2d
        if bool(big.all()):
            big[torch.argmin(state["radii2d"])] = False  # never prune everything
        if not bool(big.any()):
            return 0
        edit_gaussians(params, optimizers, ~big)
        for key in ("grad2d", "count", "radii2d"):
            state[key] = state[key][~big]
        return int(big.sum())

    def _grow(self, params, optimizers, state) -> tuple[int, int]:
        cfg = self.cfg
        avg = state["grad2d"] / state["count"].clamp_min(1)
        high = avg > cfg.grow_grad2d
        if cfg.max_gaussians:
            room = cfg.max_gaussians - len(avg)
            if room <= 0:
                return 0, 0
            if int(high.sum()) > room:  # keep the strongest candidates (a split adds one as well)
                thresh = torch.topk(avg[high], room).values[-1]
                high &= avg >= thresh
        scales = torch.exp(params["scales"])
        small = scales.max(-1).values <= cfg.grow_scale3d * self.scene_scale
        dup = torch.nonzero(high & small).squeeze(1)
        split = torch.nonzero(high & ~small).squeeze(1)
        new = {name: p.detach()[dup] for name, p in params.items()}
        if len(split):
            rot = quat_to_rotmat(params["quats"][split])
            std = scales[split]
            children = []
            for _ in range(2):
                offset = (rot @ (torch.randn(std.shape, generator=self.gen) * std)[..., None])[..., 0]
                child = {name: p.detach()[split] for name, p in params.items()}
                child["means"] = child["means"] + offset
                child["scales"] = torch.log(std / 1.6)
                children.append(child)
            new = {name: torch.cat([new[name]] + [c[name] for c in children], 0) for name in new}
        keep = torch.ones(len(scales), dtype=torch.bool)
        keep[split] = False
        if len(dup) or len(split):
            edit_gaussians(params, optimizers, keep, new)
        return len(dup), len(split)

    def _prune(self, params, optimizers, step: int) -> int:
        cfg = self.cfg
        drop = torch.sigmoid(params["opacities"]) < cfg.prune_opa
        if cfg.reset_every and step > cfg.reset_every:
            drop |= torch.exp(params["scales"]).max(-1).values > cfg.prune_scale3d * self.scene_scale
        if bool(drop.all()):
            drop[torch.argmax(params["opacities"])] = False  # never prune everything
        if bool(drop.any()):
            edit_gaussians(params, optimizers, ~drop)
        return int(drop.sum())

    def _reset_opacity(self, params, optimizers) -> None:
        cap = torch.logit(torch.tensor(2.0 * self.cfg.prune_opa))
        params["opacities"].data.clamp_(max=float(cap))
        for v in optimizers["opacities"].state.get(params["opacities"], {}).values():
            if torch.is_tensor(v) and v.dim() > 0:
                v.zero_()
