"""A set of 3D Gaussians (3DGS primitives) and its initialisation from SfM points.

Parameters are stored unconstrained, as the 3DGS ``.ply`` format and the optimisers expect:
log scales, opacity logits, unnormalised w-x-y-z quaternions and SH coefficients. The world is
the scene's world (the frame of its SfM points and OpenCV cameras, see :mod:`lionlora.geometry`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace

import numpy as np
import torch
from torch import Tensor

from lionlora.errors import SceneError
from lionlora.geometry.convert import matrix_to_quat_wxyz, quat_wxyz_to_matrix
from lionlora.geometry.se3 import Sim3
from lionlora.pipelines.gaussians.sh import degree_of, num_coeffs, rgb_to_sh0, sh_rotation

log = logging.getLogger(__name__)

#: Names of the parameter tensors, as gsplat's densification strategies expect them.
PARAM_NAMES = ("means", "scales", "quats", "opacities", "sh0", "shN")


@dataclass
class Gaussians:
    """N Gaussians with SH colour.

    Attributes:
        means: centres in world coordinates. ``[N, 3]``.
        scales: log standard deviations along the Gaussian's axes. ``[N, 3]``.
        quats: rotations as (unnormalised) w-x-y-z quaternions. ``[N, 4]``.
        opacities: opacity logits. ``[N]``.
        sh0: degree-0 SH coefficients. ``[N, 1, 3]``.
        shN: higher-degree SH coefficients. ``[N, (degree + 1)^2 - 1, 3]``.
    """

    means: Tensor
    scales: Tensor
    quats: Tensor
    opacities: Tensor
    sh0: Tensor
    shN: Tensor

    def __len__(self) -> int:
        return int(self.means.shape[0])

    @property
    def sh_degree(self) -> int:
        return degree_of(1 + self.shN.shape[1])

    @property
    def coeffs(self) -> Tensor:
        """All SH coefficients ``[N, K, 3]``."""
        return torch.cat([self.sh0, self.shN], 1)

    def activated(self) -> dict[str, Tensor]:
        """Rasteriser inputs: means, unit quats, scales (std), opacities in (0, 1), SH coeffs."""
        return {
            "means": self.means,
            "quats": torch.nn.functional.normalize(self.quats, dim=-1),
            "scales": torch.exp(self.scales),
            "opacities": torch.sigmoid(self.opacities),
            "colors": self.coeffs,
        }

    def params(self) -> dict[str, Tensor]:
        return {name: getattr(self, name) for name in PARAM_NAMES}

    @staticmethod
    def from_params(params) -> Gaussians:
        return Gaussians(**{name: params[name].detach() for name in PARAM_NAMES})

    def to(self, device: str | torch.device) -> Gaussians:
        return Gaussians(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def subset(self, mask: Tensor) -> Gaussians:
        return Gaussians(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    def transformed(self, sim: Sim3) -> Gaussians:
        """The same Gaussians in a world mapped by ``x -> s R x + t`` (SH rotated exactly)."""
        dt = self.means.dtype
        means = torch.from_numpy(sim.apply(self.means.double().numpy())).to(dt)
        rot = quat_wxyz_to_matrix(torch.nn.functional.normalize(self.quats.double(), dim=-1).numpy())
        quats = torch.from_numpy(matrix_to_quat_wxyz(sim.R @ rot)).to(dt)
        scales = self.scales + float(np.log(sim.scale))
        D = torch.from_numpy(sh_rotation(self.sh_degree, sim.R)).to(dt)
        coeffs = torch.einsum("jk,nkc->njc", D, self.coeffs)
        return replace(self, means=means, quats=quats, scales=scales, sh0=coeffs[:, :1], shN=coeffs[:, 1:])


def _knn_scales(points: np.ndarray, k: int = 3) -> np.ndarray:
    """Mean distance of each point to its ``k`` nearest neighbours (initial Gaussian size)."""
    from scipy.spatial import cKDTree

    k = min(k, len(points) - 1)
    if k < 1:
        return np.full(len(points), 0.01)
    dist, _ = cKDTree(points).query(points, k=k + 1)
    d = dist[:, 1:].mean(1)
    return np.clip(d, max(float(np.median(d)) * 1e-2, 1e-7), None)


def init_from_points(
    points: np.ndarray, colors: np.ndarray, sh_degree: int, init_opacity: float = 0.1, init_scale: float = 1.0
) -> Gaussians:
    """Isotropic Gaussians at SfM ``points [P, 3]`` with ``colors [P, 3]`` (uint8 or [0, 1]).

    Each Gaussian's size is the mean distance to its three nearest neighbours (times
    ``init_scale``), as in 3DGS.
    """
    pts = np.asarray(points, dtype=np.float64)
    rgb = np.asarray(colors, dtype=np.float64)
    if rgb.max(initial=0.0) > 1.0:
        rgb = rgb / 255.0
    n = len(pts)
    scale = np.log(_knn_scales(pts) * init_scale)
    sh0 = rgb_to_sh0(torch.from_numpy(rgb).float())[:, None, :]
    return Gaussians(
        means=torch.from_numpy(pts).float(),
        scales=torch.from_numpy(np.repeat(scale[:, None], 3, 1)).float(),
        quats=torch.tensor([[1.0, 0.0, 0.0, 0.0]]).repeat(n, 1),
        opacities=torch.full((n,), float(np.log(init_opacity / (1 - init_opacity)))),
        sh0=sh0,
        shN=torch.zeros(n, num_coeffs(sh_degree) - 1, 3),
    )


def random_points(c2w: np.ndarray, n: int, extent: float = 3.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in a cube ``extent`` times the cameras' spread around their centre.

    The cube's half side is at least the camera spread and at least 1 unit; colours are random.
    """
    centers = np.asarray(c2w)[:, :3, 3]
    mid = centers.mean(0)
    half = extent * max(float(np.linalg.norm(centers - mid, axis=1).max()), 1.0)
    rng = np.random.default_rng(seed)
    return mid + rng.uniform(-half, half, size=(n, 3)), rng.uniform(0, 1, size=(n, 3))


def init_from_scene(
    scene,
    sh_degree: int,
    init_opacity: float = 0.1,
    init_scale: float = 1.0,
    random_fallback: bool = False,
    random_points_count: int = 20000,
    seed: int = 0,
) -> Gaussians:
    """Gaussians for ``scene`` (a :class:`lionlora.scenes.Scene`) from its SfM points.

    Raises:
        SceneError: the scene has no SfM points and ``random_fallback`` is False.
    """
    if scene.points is None or len(scene.points) == 0:
        if not random_fallback:
            raise SceneError(
                scene.root,
                "colmap/sparse/0",
                "SfM points to initialise the Gaussians (or allow the random initialisation fallback)",
                got="no points",
            )
        log.warning(
            "%s: no SfM points; initialising %d Gaussians at random (expect a worse reconstruction)",
            scene.root,
            random_points_count,
        )
        pts, rgb = random_points(scene.cameras.c2w, random_points_count, seed=seed)
        return init_from_points(pts, rgb, sh_degree, init_opacity, init_scale)
    return init_from_points(scene.points, scene.colors, sh_degree, init_opacity, init_scale)
