"""The project's differentiable 3D Gaussian rasteriser in pure PyTorch (CPU or any device).

Same inputs and outputs as ``gsplat.rasterization`` (the subset this toolkit uses), so either
engine can sit behind :mod:`lionlora.pipelines.gaussians.engines`:

1. **Projection** (EWA splatting): each 3D covariance ``Sigma = R S S^T R^T`` is moved into the
   camera frame, ``Sigma_c = W Sigma W^T``, and projected with the Jacobian of the perspective
   map at the Gaussian's centre, ``Sigma_2d = J Sigma_c J^T + eps2d * I``
   (``J = [[fx/z, 0, -fx x/z^2], [0, fy/z, -fy y/z^2]]``, with ``x/z`` and ``y/z`` clamped a
   little outside the field of view so that off-screen Gaussians do not explode). The screen
   footprint is the box of 3 standard deviations along the larger eigen-axis.
2. **Tiles and depth order**: every Gaussian is listed once per image tile its box touches;
   the list is sorted by (tile, depth), so each tile holds its Gaussians front to back.
3. **Alpha compositing** (:mod:`lionlora.pipelines.gaussians.composite`): for each (tile, Gaussian)
   pair and each pixel of the tile, ``alpha = min(0.999, o * exp(-d^T Sigma_2d^-1 d / 2))``
   (zero below ``alpha_min``), and ``C = sum_i c_i alpha_i T_i`` with
   ``T_i = prod_{j<i} (1 - alpha_j)``, all pairs of a tile at once as segmented cumulative sums;
   its backward pass is written out analytically, the projection's is left to autograd.

Pixel centres sit at ``(u + 0.5, v + 0.5)`` (pixel-edge origin), like gsplat and COLMAP.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from lionlora.pipelines.gaussians.composite import composite
from lionlora.pipelines.gaussians.sh import sh_to_rgb

RENDER_MODES = ("RGB", "D", "ED", "RGB+D", "RGB+ED")


def quat_to_rotmat(quats: Tensor) -> Tensor:
    """Rotation matrices ``[..., 3, 3]`` of w-x-y-z quaternions ``[..., 4]`` (normalised here)."""
    w, x, y, z = F.normalize(quats, dim=-1).unbind(-1)
    return torch.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - w * z),
            2 * (x * z + w * y),
            2 * (x * y + w * z),
            1 - 2 * (x * x + z * z),
            2 * (y * z - w * x),
            2 * (x * z - w * y),
            2 * (y * z + w * x),
            1 - 2 * (x * x + y * y),
        ],
        -1,
    ).reshape(quats.shape[:-1] + (3, 3))


def covariances(quats: Tensor, scales: Tensor) -> Tensor:
    """World covariances ``[N, 3, 3]`` of Gaussians with rotations ``quats [N, 4]`` and std ``scales [N, 3]``."""
    M = quat_to_rotmat(quats) * scales[..., None, :]
    return M @ M.transpose(-1, -2)


def project(
    means: Tensor,
    covars: Tensor,
    viewmats: Tensor,
    Ks: Tensor,
    width: int,
    height: int,
    near_plane: float = 0.01,
    far_plane: float = 1e10,
    eps2d: float = 0.3,
    opacities: Tensor | None = None,
    alpha_min: float = 1.0 / 255.0,
):
    """Project Gaussians into ``C`` cameras (EWA / local affine approximation).

    Args:
        means: world centres. ``[N, 3]``.
        covars: world covariances. ``[N, 3, 3]``.
        viewmats: world-to-camera matrices, OpenCV camera frame. ``[C, 4, 4]``.
        Ks: pinhole matrices in pixels. ``[C, 3, 3]``.
        opacities: ``[N]``; when given, a Gaussian's footprint ends where its alpha falls below
            ``alpha_min`` (at most 3 standard deviations), else at 3 standard deviations.
    Returns:
        ``means2d [C, N, 2]`` (pixels), ``conics [C, N, 3]`` (a, b, c of the inverse 2D
        covariance ``[[a, b], [b, c]]``), ``depths [C, N]`` (camera z) and ``radii [C, N, 2]``
        (int half sizes of the footprint's box along x and y; 0 for culled Gaussians).
    """
    R = viewmats[:, :3, :3]
    t = viewmats[:, :3, 3]
    pc = torch.einsum("cij,nj->cni", R, means) + t[:, None, :]
    cov_c = R[:, None] @ covars[None] @ R.transpose(-1, -2)[:, None]
    x, y, z = pc.unbind(-1)
    fx, fy = Ks[:, 0, 0, None], Ks[:, 1, 1, None]
    cx, cy = Ks[:, 0, 2, None], Ks[:, 1, 2, None]
    zs = torch.where(z > near_plane, z, torch.full_like(z, near_plane))
    tan_x, tan_y = 0.5 * width / fx, 0.5 * height / fy
    tx = zs * torch.minimum(torch.maximum(x / zs, -(cx / fx + 0.3 * tan_x)), (width - cx) / fx + 0.3 * tan_x)
    ty = zs * torch.minimum(torch.maximum(y / zs, -(cy / fy + 0.3 * tan_y)), (height - cy) / fy + 0.3 * tan_y)
    zero = torch.zeros_like(zs)
    J = torch.stack([fx / zs, zero, -fx * tx / zs**2, zero, fy / zs, -fy * ty / zs**2], -1)
    J = J.reshape(z.shape + (2, 3))
    cov2 = J @ cov_c @ J.transpose(-1, -2)
    a = cov2[..., 0, 0] + eps2d
    b = cov2[..., 0, 1]
    c = cov2[..., 1, 1] + eps2d
    det = a * c - b * b
    det_safe = torch.where(det > 0, det, torch.ones_like(det))
    conics = torch.stack([c / det_safe, -b / det_safe, a / det_safe], -1)
    means2d = torch.stack([fx * x / zs + cx, fy * y / zs + cy], -1)
    with torch.no_grad():
        extend = torch.full_like(z, 3.0)
        if opacities is not None and alpha_min > 0:
            ratio = (opacities.detach() / alpha_min).clamp_min(1.0)
            extend = torch.clamp(torch.sqrt(2.0 * torch.log(ratio)), max=3.0).expand_as(z)
        radii = torch.ceil(extend[..., None] * torch.sqrt(torch.stack([a, c], -1).clamp_min(0))).to(torch.int64)
        m = means2d.detach()
        valid = (
            (z > near_plane)
            & (z < far_plane)
            & (det > 0)
            & (extend > 0)
            & (m[..., 0] + radii[..., 0] > 0)
            & (m[..., 0] - radii[..., 0] < width)
            & (m[..., 1] + radii[..., 1] > 0)
            & (m[..., 1] - radii[..., 1] < height)
        )
        radii = torch.where(valid[..., None], radii, torch.zeros_like(radii))
    return means2d, conics, z, radii


def _intersections(
    means2d: Tensor, radii: Tensor, depths: Tensor, tile_size: int, tiles_x: int, tiles_y: int
) -> tuple[Tensor, Tensor]:
    """(tile id, Gaussian id) of every tile a Gaussian's box touches, sorted by tile then depth."""
    ids = torch.nonzero(radii[:, 0] > 0).squeeze(1)
    if ids.numel() == 0:
        empty = torch.zeros(0, dtype=torch.int64, device=radii.device)
        return empty, empty
    m, r = means2d[ids], radii[ids]
    x0 = torch.floor((m[:, 0] - r[:, 0]) / tile_size).clamp(0, tiles_x - 1).long()
    x1 = torch.floor((m[:, 0] + r[:, 0]) / tile_size).clamp(0, tiles_x - 1).long()
    y0 = torch.floor((m[:, 1] - r[:, 1]) / tile_size).clamp(0, tiles_y - 1).long()
    y1 = torch.floor((m[:, 1] + r[:, 1]) / tile_size).clamp(0, tiles_y - 1).long()
    bw = x1 - x0 + 1
    count = bw * (y1 - y0 + 1)
    g = torch.repeat_interleave(torch.arange(len(ids), device=ids.device), count)
    k = torch.arange(len(g), device=ids.device) - (torch.cumsum(count, 0) - count)[g]
    tile = (y0[g] + k // bw[g]) * tiles_x + x0[g] + k % bw[g]
    rank = torch.empty_like(ids)
    rank[torch.argsort(depths[ids])] = torch.arange(len(ids), device=ids.device)
    order = torch.argsort(tile * len(ids) + rank[g])
    return tile[order], ids[g[order]]


def _chunks(tiles: Tensor, n_tiles: int, pixels: int, budget: int) -> list[tuple[int, int, int, int]]:
    """Split the sorted intersection list at tile boundaries into pieces of about ``budget`` (pair, pixel) elements.

    Returns ``(first tile, end tile, first intersection, end intersection)`` per piece; the
    pieces cover all tiles in order.
    """
    per_tile = torch.bincount(tiles, minlength=n_tiles).cpu()
    ends = torch.cumsum(per_tile, 0)
    piece = torch.div((ends - per_tile) * pixels, max(budget, pixels), rounding_mode="floor")
    starts = [0] + (torch.nonzero(piece[1:] != piece[:-1]).squeeze(1) + 1).tolist()
    bounds = starts + [n_tiles]
    first = (ends - per_tile).tolist()
    return [(t0, t1, first[t0], int(ends[t1 - 1])) for t0, t1 in zip(bounds[:-1], bounds[1:])]


def rasterize(
    means: Tensor,
    quats: Tensor,
    scales: Tensor,
    opacities: Tensor,
    colors: Tensor,
    viewmats: Tensor,
    Ks: Tensor,
    width: int,
    height: int,
    *,
    sh_degree: int | None = None,
    backgrounds: Tensor | None = None,
    render_mode: str = "RGB",
    near_plane: float = 0.01,
    far_plane: float = 1e10,
    eps2d: float = 0.3,
    tile_size: int = 4,
    alpha_min: float = 1.0 / 255.0,
    chunk_elements: int = 1 << 23,
) -> tuple[Tensor, Tensor, dict]:
    """Render Gaussians into ``C`` pinhole cameras (differentiable; gsplat's argument names).

    Args:
        means: centres. ``[N, 3]``.
        quats: w-x-y-z rotations (normalised here). ``[N, 4]``.
        scales: standard deviations (activated). ``[N, 3]``.
        opacities: opacities in (0, 1). ``[N]``.
        colors: RGB ``[N, D]`` when ``sh_degree`` is None, else SH coefficients ``[N, K, 3]``.
        viewmats: world-to-camera, OpenCV frame. ``[C, 4, 4]``.
        Ks: intrinsics. ``[C, 3, 3]``.
        sh_degree: SH degree to evaluate (view-dependent colour), or None for plain colours.
        backgrounds: background colours ``[C, D]`` (default black).
        render_mode: ``RGB``, ``D`` (accumulated depth), ``ED`` (expected depth, divided by
            the accumulated alpha), ``RGB+D`` or ``RGB+ED``: depth is the last channel.
        tile_size: tile side in pixels.
        alpha_min: per-Gaussian alpha below which a pixel is skipped (gsplat: 1/255).
        chunk_elements: memory bound, (Gaussian, pixel) pairs evaluated at once.
    Returns:
        ``render_colors [C, H, W, X]``, ``render_alphas [C, H, W, 1]`` and ``info`` with
        ``means2d [C, N, 2]`` (call ``retain_grad`` on it for densification), ``radii [C, N, 2]``,
        ``width``, ``height``, ``n_cameras``.
    """
    if render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be one of {RENDER_MODES}, got {render_mode!r}")
    C = viewmats.shape[0]
    means2d, conics, depths, radii = project(
        means,
        covariances(quats, scales),
        viewmats,
        Ks,
        width,
        height,
        near_plane,
        far_plane,
        eps2d,
        opacities,
        alpha_min,
    )
    tiles_x, tiles_y = math.ceil(width / tile_size), math.ceil(height / tile_size)
    n_tiles = tiles_x * tiles_y
    P = tile_size * tile_size
    campos = -torch.einsum("cji,cj->ci", viewmats[:, :3, :3], viewmats[:, :3, 3])
    images, alphas = [], []
    for ci in range(C):
        if sh_degree is None:
            rgb = colors
        else:
            rgb = sh_to_rgb(sh_degree, means - campos[ci], colors)
        feats = [rgb] if "RGB" in render_mode else []
        if "D" in render_mode:
            feats.append(depths[ci, :, None])
        features = torch.cat(feats, -1)
        with torch.no_grad():
            tile_ids, gauss_ids = _intersections(
                means2d[ci].detach(), radii[ci], depths[ci].detach(), tile_size, tiles_x, tiles_y
            )
        out_f, out_a = [], []
        for t0, t1, i0, i1 in _chunks(tile_ids, n_tiles, P, chunk_elements):
            f, a = composite(
                tile_ids[i0:i1],
                gauss_ids[i0:i1],
                means2d[ci],
                conics[ci],
                opacities,
                features,
                tile_size,
                tiles_x,
                t0,
                t1,
                alpha_min,
            )
            out_f.append(f)
            out_a.append(a)
        feat = torch.cat(out_f, 0)
        acc = torch.cat(out_a, 0)[..., None]
        img = torch.cat([feat, acc], -1).reshape(tiles_y, tiles_x, tile_size, tile_size, -1)
        img = img.permute(0, 2, 1, 3, 4).reshape(tiles_y * tile_size, tiles_x * tile_size, -1)[:height, :width]
        rgbd, alpha = img[..., :-1], img[..., -1:]
        if render_mode in ("ED", "RGB+ED"):
            rgbd = torch.cat([rgbd[..., :-1], rgbd[..., -1:] / alpha.clamp_min(1e-10)], -1)
        if "RGB" in render_mode:
            bg = torch.zeros(3, dtype=rgbd.dtype, device=rgbd.device) if backgrounds is None else backgrounds[ci]
            rgbd = torch.cat([rgbd[..., :3] + (1.0 - alpha) * bg, rgbd[..., 3:]], -1)
        images.append(rgbd)
        alphas.append(alpha)
    info = {"means2d": means2d, "radii": radii, "depths": depths, "width": width, "height": height, "n_cameras": C}
    return torch.stack(images), torch.stack(alphas), info
