"""Configs of the 3DGS reconstruction stage (``lionlora reconstruct``): optimisation and densification."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lionlora.config import opt
from lionlora.errors import ConfigError

# The output folder of a reconstruction, shared by both engines (train.py and nerfstudio.py).
METRICS = "metrics.json"
#: Marks a folder as this stage's output; not the metrics or the ply, which a workflow deletes
#: before a re-run.
MARKER = "reconstruct_config.json"


@dataclass
class DensifyConfig:
    prune_opa: float = opt(0.005, "Gaussians with opacity below this are pruned")
    grow_grad2d: float = opt(
        0.0002, "average screen-space gradient (NDC units) above which a Gaussian is cloned or split"
    )
    grow_scale3d: float = opt(
        0.01, "clone (not split) Gaussians whose largest std is at most this times the scene scale"
    )
    prune_scale3d: float = opt(
        0.1, "after the first opacity reset, prune Gaussians larger than this times the scene scale"
    )
    prune_scale2d: float = opt(
        0.15,
        "at each refinement, prune Gaussians whose screen radius exceeded this fraction of max(W, H) since "
        "the previous one (0: never); a large footprint costs the CPU engine its area in every step",
    )
    refine_start_iter: int = opt(500, "first step that densifies")
    refine_stop_iter: int = opt(15000, "no densification from this step on")
    refine_every: int = opt(100, "densify every this many steps")
    reset_every: int = opt(3000, "cap opacities every this many steps (0: never)")
    max_gaussians: int = opt(0, "upper bound on the number of Gaussians for the torch engine (0: none)")

    def __post_init__(self) -> None:
        if not 0.0 < self.prune_opa < 0.5:
            raise ConfigError("DensifyConfig", "prune_opa", "a value in (0, 0.5)", got=self.prune_opa)
        if not self.prune_scale2d >= 0:
            raise ConfigError("DensifyConfig", "prune_scale2d", "a fraction >= 0 (0: off)", got=self.prune_scale2d)
        if self.grow_grad2d <= 0 or self.grow_scale3d <= 0 or self.prune_scale3d <= 0:
            raise ConfigError(
                "DensifyConfig",
                "grow_grad2d/grow_scale3d/prune_scale3d",
                "positive values",
                got=(self.grow_grad2d, self.grow_scale3d, self.prune_scale3d),
            )
        if self.refine_every < 1 or self.reset_every < 0 or self.max_gaussians < 0:
            raise ConfigError(
                "DensifyConfig",
                "refine_every/reset_every/max_gaussians",
                "refine_every >= 1, reset_every >= 0, max_gaussians >= 0",
                got=(self.refine_every, self.reset_every, self.max_gaussians),
            )


@dataclass
class ReconstructConfig:
    engine: Literal["auto", "torch", "gsplat", "nerfstudio"] = opt(
        "auto", "auto = gsplat where CUDA and gsplat are available, else torch (this project's CPU rasteriser)"
    )
    steps: int = opt(30000, "optimisation steps (one training image per step)")
    downsample: int | None = opt(None, "images_N folder to train on (None: the largest images present)")
    sh_degree: int = opt(3, "spherical-harmonics degree of the colours (0..3)")
    sh_degree_interval: int = opt(1000, "raise the active SH degree by one every this many steps")
    test_every: int = opt(8, "hold out every N-th image (indices 0, N, 2N, ...) for PSNR/SSIM")
    ssim_lambda: float = opt(0.2, "loss = (1 - lambda) L1 + lambda (1 - SSIM)")
    init: Literal["sfm", "random"] = opt("sfm", "initialise from the scene's SfM points, or at random")
    triangulate: bool = opt(
        True,
        "scene without SfM points (a nerfstudio / instant-ngp capture): triangulate points with the known "
        "poses (pycolmap; cached in the scene's triangulated/sparse/0) and initialise from them",
    )
    random_fallback: bool = opt(
        True,
        "scene without SfM points and no triangulation (off or failed): warn and initialise at random (else error)",
    )
    random_init_points: int = opt(20000, "number of Gaussians of a random initialisation")
    init_opacity: float = opt(0.1, "initial opacity of every Gaussian")
    init_scale: float = opt(1.0, "initial std = this x mean distance to the 3 nearest SfM points")
    lr_means: float = opt(1.6e-4, "learning rate of the centres (times the scene scale)")
    lr_means_final: float = opt(0.01, "the centres' learning rate decays exponentially to this fraction")
    lr_scales: float = opt(5e-3, "learning rate of the log scales")
    lr_quats: float = opt(1e-3, "learning rate of the quaternions")
    lr_opacities: float = opt(5e-2, "learning rate of the opacity logits")
    lr_sh0: float = opt(2.5e-3, "learning rate of the degree-0 SH coefficients")
    lr_shN: float = opt(2.5e-3 / 20, "learning rate of the higher SH coefficients")
    background: list[float] = opt([0.0, 0.0, 0.0], "background colour (RGB in [0, 1])")
    densify: DensifyConfig = field(default_factory=DensifyConfig, metadata={"help": "densification and pruning"})
    tile_size: int = opt(4, "torch engine: tile side in pixels (4 was fastest on CPU among 2, 4, 8, 16)")
    seed: int = opt(0, "random seed (image order, initialisation, splits)")
    nerfstudio_extra: list[str] = opt([], "nerfstudio engine: extra arguments for ns-train splatfacto")

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ConfigError("ReconstructConfig", "steps", "a non-negative number of steps", got=self.steps)
        if self.downsample is not None and self.downsample not in (1, 2, 4, 8):
            raise ConfigError("ReconstructConfig", "downsample", "one of 1, 2, 4, 8 or null", got=self.downsample)
        if not 0 <= self.sh_degree <= 3:
            raise ConfigError("ReconstructConfig", "sh_degree", "an SH degree in 0..3", got=self.sh_degree)
        if self.sh_degree_interval < 1 or self.test_every < 2:
            raise ConfigError(
                "ReconstructConfig",
                "sh_degree_interval/test_every",
                "sh_degree_interval >= 1 and test_every >= 2",
                got=(self.sh_degree_interval, self.test_every),
            )
        if not 0.0 <= self.ssim_lambda <= 1.0:
            raise ConfigError("ReconstructConfig", "ssim_lambda", "a weight in [0, 1]", got=self.ssim_lambda)
        if not 0.0 < self.init_opacity < 1.0 or self.init_scale <= 0 or self.random_init_points < 1:
            raise ConfigError(
                "ReconstructConfig",
                "init_opacity/init_scale/random_init_points",
                "opacity in (0, 1), positive scale and point count",
                got=(self.init_opacity, self.init_scale, self.random_init_points),
            )
        if len(self.background) != 3:
            raise ConfigError("ReconstructConfig", "background", "an RGB triple", got=self.background)
        rates = [self.lr_means, self.lr_scales, self.lr_quats, self.lr_opacities, self.lr_sh0, self.lr_shN]
        if min(rates) <= 0 or not 0 < self.lr_means_final <= 1:
            raise ConfigError(
                "ReconstructConfig",
                "lr_*",
                "positive learning rates, lr_means_final in (0, 1]",
                got=rates + [self.lr_means_final],
            )
        if self.tile_size not in (2, 4, 8, 16, 32):
            raise ConfigError("ReconstructConfig", "tile_size", "one of 2, 4, 8, 16, 32", got=self.tile_size)
