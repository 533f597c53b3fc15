"""The pure-PyTorch rasteriser against closed forms, finite differences and gsplat (GPU)."""

import math

import numpy as np
import pytest
import torch

from lionlora.pipelines.gaussians.raster_torch import rasterize
from lionlora.pipelines.gaussians.sh import sh_basis, sh_rotation, sh_to_rgb
from tests.torch_threads import one_torch_thread  # noqa: F401 (autouse fixture)

W, H, F = 64, 48, 50.0


def camera(dtype=torch.float32, width=W, height=H, f=F):
    K = torch.tensor([[[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]]], dtype=dtype)
    return torch.eye(4, dtype=dtype)[None], K


def pixel_grid(width=W, height=H):
    v, u = torch.meshgrid(torch.arange(height) + 0.5, torch.arange(width) + 0.5, indexing="ij")
    return u.double(), v.double()


def closed_form(center, cov2, opacity, eps2d=0.3):
    """o * exp(-d^T (cov2 + eps I)^-1 d / 2) at every pixel centre."""
    u, v = pixel_grid()
    S = np.asarray(cov2, dtype=np.float64) + eps2d * np.eye(2)
    Si = torch.from_numpy(np.linalg.inv(S))
    du, dv = u - center[0], v - center[1]
    q = Si[0, 0] * du * du + 2 * Si[0, 1] * du * dv + Si[1, 1] * dv * dv
    return opacity * torch.exp(-0.5 * q)


@pytest.mark.parametrize("angle,sx,sy", [(0.0, 0.1, 0.1), (0.6, 0.2, 0.05)])
def test_single_gaussian_matches_closed_form(angle, sx, sy):
    # a Gaussian on the optical axis, rotated about it: its image is exactly a 2D Gaussian
    z, o = 2.0, 0.8
    half = angle / 2
    quat = torch.tensor([[math.cos(half), 0.0, 0.0, math.sin(half)]])
    scales = torch.tensor([[sx, sy, 0.3]])
    img, alpha, info = rasterize(
        torch.tensor([[0.0, 0.0, z]]),
        quat,
        scales,
        torch.tensor([o]),
        torch.tensor([[1.0, 0.5, 0.25]]),
        *camera(),
        W,
        H,
        alpha_min=0.0,
    )
    R = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    cov2 = (F / z) ** 2 * R @ np.diag([sx**2, sy**2]) @ R.T
    ref = closed_form((W / 2, H / 2), cov2, o)
    inside = ref > 0.02  # within the 3-sigma footprint, every pixel is rendered exactly
    assert torch.allclose(img[0, ..., 0].double()[inside], ref[inside], atol=1e-5)
    assert torch.allclose(img[0, ..., 1].double()[inside], 0.5 * ref[inside], atol=1e-5)
    assert torch.allclose(alpha[0, ..., 0].double()[inside], ref[inside], atol=1e-5)
    assert float((img[0, ..., 0].double() - ref).abs().max()) < 0.012 * o  # outside: at most exp(-4.5) o


def test_off_axis_centre_projects_with_intrinsics():
    img, _, info = rasterize(
        torch.tensor([[0.41, -0.21, 2.0]]),
        torch.tensor([[1.0, 0, 0, 0]]),
        torch.full((1, 3), 0.05),
        torch.tensor([0.9]),
        torch.ones(1, 3),
        *camera(),
        W,
        H,
    )
    u, v = F * 0.205 + W / 2, -F * 0.105 + H / 2  # (42.25, 18.75): inside pixel (42, 18)
    assert torch.allclose(info["means2d"][0, 0], torch.tensor([u, v]))
    peak = torch.nonzero(img[0, ..., 0] == img[0, ..., 0].max())[0]
    assert (int(peak[1]), int(peak[0])) == (int(u), int(v))


def test_front_to_back_compositing_and_expected_depth():
    # two large flat Gaussians: the near red one over the far green one, on a blue background
    means = torch.tensor([[0.0, 0.0, 3.0], [0.0, 0.0, 2.0]])  # listed far first: order must come from depth
    scales = torch.tensor([[5.0, 5.0, 0.01], [5.0, 5.0, 0.01]])
    quats = torch.tensor([[1.0, 0, 0, 0]] * 2)
    op = torch.tensor([0.5, 0.6])
    col = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    bg = torch.tensor([[0.0, 0.0, 1.0]])
    out, alpha, _ = rasterize(means, quats, scales, op, col, *camera(), W, H, backgrounds=bg, render_mode="RGB+ED")
    c = out[0, H // 2, W // 2]
    a_near, a_far = 0.6, 0.5  # exp(-tiny) at the centre
    assert torch.allclose(c[:3], torch.tensor([a_near, (1 - a_near) * a_far, (1 - a_near) * (1 - a_far)]), atol=1e-3)
    expected_depth = (a_near * 2.0 + (1 - a_near) * a_far * 3.0) / (a_near + (1 - a_near) * a_far)
    assert abs(float(c[3]) - expected_depth) < 1e-3
    assert abs(float(alpha[0, H // 2, W // 2, 0]) - (a_near + (1 - a_near) * a_far)) < 1e-3


def test_tiling_and_chunking_do_not_change_the_image():
    g = torch.Generator().manual_seed(1)
    n = 200
    means = torch.cat([torch.rand(n, 2, generator=g) * 2 - 1, torch.rand(n, 1, generator=g) * 3 + 2], 1)
    args = (
        means,
        torch.randn(n, 4, generator=g),
        torch.rand(n, 3, generator=g) * 0.1 + 0.01,
        torch.rand(n, generator=g) * 0.9,
        torch.rand(n, 3, generator=g),
        *camera(),
    )
    ref, _, _ = rasterize(*args, W, H, tile_size=4)
    for ts, chunk in ((8, 1 << 23), (16, 1 << 23), (4, 2000)):
        img, _, _ = rasterize(*args, W, H, tile_size=ts, chunk_elements=chunk)
        # footprints are cut at tile granularity: only pixels near the alpha = 1/255 edge can differ
        assert float((img - ref).abs().max()) < 1.5 / 255
        assert float((img - ref).abs().mean()) < 1e-4


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    dt = torch.float64
    n, w, h = 4, 16, 12
    viewmats, Ks = camera(dt, w, h, f=12.0)
    means = torch.tensor([[0.1, 0.0, 2.0], [-0.2, 0.1, 2.5], [0.0, -0.15, 3.0], [0.25, 0.2, 2.2]], dtype=dt)
    quats = torch.randn(n, 4, dtype=dt)
    scales = torch.tensor([[0.2, 0.1, 0.15], [0.15, 0.25, 0.1], [0.3, 0.2, 0.2], [0.1, 0.1, 0.3]], dtype=dt)
    opac = torch.tensor([0.6, 0.5, 0.7, 0.4], dtype=dt)
    coeffs = torch.randn(n, 4, 3, dtype=dt) * 0.3
    inputs = [t.clone().requires_grad_(True) for t in (means, quats, scales, opac, coeffs)]

    def fn(m, q, s, o, c):
        out, alpha, _ = rasterize(
            m, q, s, o, c, viewmats, Ks, w, h, sh_degree=1, render_mode="RGB+ED", tile_size=16, alpha_min=0.0
        )
        return torch.cat([out, alpha], -1)

    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_sh_rotation_is_exact_and_degree0_is_constant():
    rng = np.random.default_rng(0)
    from scipy.spatial.transform import Rotation

    R = Rotation.random(random_state=1).as_matrix()
    coeffs = torch.from_numpy(rng.normal(size=(16, 3)))
    D = torch.from_numpy(sh_rotation(3, R))
    dirs = torch.from_numpy(rng.normal(size=(50, 3)))
    dirs = dirs / dirs.norm(dim=-1, keepdim=True)
    # f'(R d) == f(d)
    f = sh_basis(3, dirs) @ coeffs
    f_rot = sh_basis(3, dirs @ torch.from_numpy(R).T) @ (D @ coeffs)
    assert torch.allclose(f, f_rot, atol=1e-9)
    rgb = sh_to_rgb(0, dirs, coeffs[None, :1].expand(50, 1, 3))
    assert torch.allclose(rgb, (0.28209479177387814 * coeffs[0] + 0.5).clamp_min(0).expand(50, 3))


@pytest.mark.gpu
def test_torch_engine_matches_gsplat():
    gsplat_raster = pytest.importorskip("lionlora.pipelines.gaussians.raster_gsplat")
    pytest.importorskip("gsplat")
    g = torch.Generator().manual_seed(0)
    n = 2000
    means = torch.cat([torch.rand(n, 2, generator=g) * 2 - 1, torch.rand(n, 1, generator=g) * 3 + 2], 1)
    args = dict(
        means=means,
        quats=torch.randn(n, 4, generator=g),
        scales=torch.rand(n, 3, generator=g) * 0.05 + 0.01,
        opacities=torch.rand(n, generator=g),
        colors=torch.randn(n, 4, 3, generator=g) * 0.3,
    )
    viewmats, Ks = camera(width=96, height=64, f=80.0)
    ref, ref_a, _ = rasterize(**args, viewmats=viewmats, Ks=Ks, width=96, height=64, sh_degree=1, render_mode="RGB+ED")
    cuda = {k: v.cuda() for k, v in args.items()}
    out, out_a, _ = gsplat_raster.rasterize(
        **cuda, viewmats=viewmats.cuda(), Ks=Ks.cuda(), width=96, height=64, sh_degree=1, render_mode="RGB+ED"
    )
    diff = (out.cpu()[..., :3] - ref[..., :3]).abs()
    print(f"torch vs gsplat: max |diff| {float(diff.max()):.4f}, mean {float(diff.mean()):.6f}")
    assert float(diff.mean()) < 2e-3 and float(diff.max()) < 0.05
    assert float((out_a.cpu() - ref_a).abs().mean()) < 2e-3
