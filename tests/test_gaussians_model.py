"""Gaussians: .ply round trip, similarity transforms, initialisation, SSIM, densification bookkeeping."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from lionlora.errors import InputError, SceneError
from lionlora.geometry import Intrinsics, Sim3
from lionlora.geometry.se3 import make_pose
from lionlora.pipelines.gaussians.config import DensifyConfig
from lionlora.pipelines.gaussians.engines import get_engine
from lionlora.pipelines.gaussians.metrics import ssim, ssim_reference
from lionlora.pipelines.gaussians.model import Gaussians, init_from_points, init_from_scene
from lionlora.pipelines.gaussians.ply import property_names, read_ply, write_ply
from lionlora.pipelines.gaussians.strategy import Densifier
from lionlora.pipelines.gaussians.view import render
from tests.torch_threads import one_torch_thread  # noqa: F401 (autouse fixture)


def random_gaussians(n=300, degree=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    means = torch.cat([torch.rand(n, 2, generator=g) * 2 - 1, torch.rand(n, 1, generator=g) * 2 + 2], 1)
    return Gaussians(
        means=means,
        scales=torch.log(torch.rand(n, 3, generator=g) * 0.06 + 0.01),
        quats=torch.randn(n, 4, generator=g),
        opacities=torch.randn(n, generator=g),
        sh0=torch.randn(n, 1, 3, generator=g),
        shN=torch.randn(n, (degree + 1) ** 2 - 1, 3, generator=g) * 0.2,
    )


@pytest.mark.parametrize("degree", [0, 1, 3])
def test_ply_round_trip(tmp_path, degree):
    g = random_gaussians(50, degree)
    path = write_ply(tmp_path / "point_cloud.ply", g)
    header = path.read_bytes().split(b"end_header\n")[0].decode()
    names = [ln.split()[-1] for ln in header.splitlines() if ln.startswith("property")]
    assert names == property_names(degree)  # the layout 3DGS viewers read, in order
    assert names[:9] == ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    assert names[-8:] == ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    back = read_ply(path)
    assert back.sh_degree == degree
    for name, value in g.params().items():
        assert torch.equal(getattr(back, name), value), name
    if degree == 1:  # f_rest is channel-major: f_rest_0..2 are the red coefficients 1..3
        raw = np.frombuffer(path.read_bytes().split(b"end_header\n")[1], dtype="<f4").reshape(50, -1)
        assert np.array_equal(raw[:, 9:12], g.shN[:, :, 0].numpy())


def test_read_ply_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.ply"
    bad.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n0\n")
    with pytest.raises(InputError, match="format"):
        read_ply(bad)
    write_ply(bad, random_gaussians(10, 0))
    bad.write_bytes(bad.read_bytes()[:-20])
    with pytest.raises(InputError, match="truncated"):
        read_ply(bad)
    with pytest.raises(InputError, match="no such file"):
        read_ply(tmp_path / "missing.ply")


def test_similarity_transform_renders_the_same_image():
    g = random_gaussians(400, 2)
    engine = get_engine("torch")
    K = Intrinsics.from_fov(60, 64, 48)
    c2w = np.eye(4)
    sim = Sim3(1.7, Rotation.from_euler("xyz", [20, -40, 70], degrees=True).as_matrix(), np.array([0.3, -2.0, 1.0]))
    moved = sim.apply_to_poses(c2w)  # the camera follows the world (distances scale, the image does not change)
    with torch.no_grad():
        a, _, _ = render(g, engine, c2w, K)
        b, _, _ = render(g.transformed(sim), engine, moved, K)
    assert float((a - b).abs().max()) < 1e-3  # SH colours rotate with the world


def test_init_from_points_and_missing_points(scene):
    g = init_from_scene(scene, sh_degree=2)
    assert len(g) == len(scene.points) and g.sh_degree == 2
    rgb = (g.sh0[:, 0] * 0.28209479177387814 + 0.5) * 255
    assert torch.allclose(rgb, torch.from_numpy(scene.colors).float(), atol=1e-3)
    assert torch.allclose(torch.sigmoid(g.opacities), torch.tensor(0.1))
    # the initial size is the mean distance to the 3 nearest neighbours
    pts = np.array([[0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 3], [10, 10, 10]], dtype=float)
    g = init_from_points(pts, np.zeros((5, 3)), 0)
    assert np.isclose(float(torch.exp(g.scales[0, 0])), 2.0)
    scene_without = type(scene)(
        root=scene.root, cameras=scene.cameras, image_paths=scene.image_paths, downsample=scene.downsample
    )
    with pytest.raises(SceneError, match="SfM points"):
        init_from_scene(scene_without, 0)
    g = init_from_scene(scene_without, 0, random_fallback=True, random_points_count=500)
    assert len(g) == 500


def test_ssim_matches_scikit_image():
    rng = np.random.default_rng(0)
    a = rng.uniform(size=(40, 52, 3))
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1)
    assert abs(float(ssim(torch.from_numpy(a), torch.from_numpy(b))) - ssim_reference(a, b)) < 1e-9
    assert abs(float(ssim(torch.from_numpy(a), torch.from_numpy(a))) - 1.0) < 1e-12


def test_densifier_clones_splits_prunes_and_keeps_optimiser_moments():
    g = random_gaussians(6, 0)
    g.scales[:] = np.log(0.01)
    g.scales[1] = np.log(0.5)  # large: split
    g.opacities[:] = 2.0
    g.opacities[5] = -10.0  # transparent: pruned
    params = {k: torch.nn.Parameter(v.clone()) for k, v in g.params().items()}
    opts = {k: torch.optim.Adam([p], lr=1e-3) for k, p in params.items()}
    sum(p.sum() for p in params.values()).backward()
    for o in opts.values():
        o.step()
    d = Densifier(DensifyConfig(refine_start_iter=0, refine_every=1, reset_every=0), scene_scale=1.0)
    state = d.initialize_state()
    means2d = torch.zeros(1, 6, 2, requires_grad=True)
    means2d.grad = torch.zeros(1, 6, 2)
    means2d.grad[0, :2, 0] = 1.0  # Gaussians 0 (small: clone) and 1 (large: split) have high gradients
    info = {
        "means2d": means2d,
        "radii": torch.ones(1, 6, 2, dtype=torch.long),
        "width": 10,
        "height": 10,
        "n_cameras": 1,
    }
    old_mean0 = params["means"][0].detach().clone()
    child_std = torch.exp(params["scales"][1].detach()) / 1.6
    exp_avg0 = opts["means"].state[params["means"]]["exp_avg"][0].clone()
    d.step_post_backward(params, opts, state, step=1, info=info)
    # 6 - 1 split parent + 1 clone + 2 children - 1 pruned = 7
    assert len(params["means"]) == 7
    assert all(len(p) == 7 for p in params.values())
    assert torch.equal(params["means"][0], old_mean0)
    st = opts["means"].state[params["means"]]
    assert st["exp_avg"].shape == (7, 3) and torch.equal(st["exp_avg"][0], exp_avg0)
    assert torch.all(st["exp_avg"][-3:] == 0)  # new Gaussians start with zero moments
    assert torch.allclose(torch.exp(params["scales"][-1]), child_std)
    assert opts["means"].param_groups[0]["params"][0] is params["means"]


def test_nerfstudio_world_is_mapped_back_to_the_scene_world(scene, tmp_path):
    from lionlora.geometry.convert import NERFSTUDIO_COLMAP_APPLIED_TRANSFORM as A
    from lionlora.io.files import read_json, write_json
    from lionlora.pipelines.gaussians.nerfstudio import _prepare_data, to_scene_world

    T = make_pose(Rotation.from_euler("xyz", [5, 10, -20], degrees=True).as_matrix(), [0.1, -0.3, 0.2])
    write_json(tmp_path / "dataparser_transforms.json", {"transform": T[:3].tolist(), "scale": 0.25})
    world = np.random.default_rng(0).normal(size=(10, 3))
    # nerfstudio's model world: scale * (T @ A @ world)
    json_world = np.c_[world, np.ones(10)] @ A.T
    model = 0.25 * (np.c_[json_world, np.ones(10)] @ T[:3].T)
    assert np.allclose(to_scene_world(tmp_path, A).apply(model), world)
    data = _prepare_data(scene, tmp_path / "work")
    meta = read_json(data / "transforms.json")
    assert meta["ply_file_path"] == "sparse_pc.ply" and (data / "images_2").is_dir()
    raw = (data / "sparse_pc.ply").read_bytes().split(b"end_header\n")[1]
    v = np.frombuffer(raw, dtype=[("xyz", "<f4", 3), ("rgb", "u1", 3)])
    assert np.allclose(v["xyz"], scene.points @ A[:, :3].T, atol=1e-4) and np.array_equal(v["rgb"], scene.colors)


@pytest.mark.parametrize("prune_scale2d, expected", [(0.15, 5), (0.0, 6)])
def test_densifier_prunes_gaussians_large_on_screen(prune_scale2d, expected):
    """A footprint over prune_scale2d x max(W, H) in any step since the last refinement is pruned
    before growing; the other Gaussians keep their gradient statistics (0 is still cloned)."""
    g = random_gaussians(6, 0)
    g.scales[:] = np.log(0.01)
    g.opacities[:] = 2.0
    g.opacities[5] = -10.0  # transparent: pruned
    means = g.means.clone()
    params = {k: torch.nn.Parameter(v.clone()) for k, v in g.params().items()}
    opts = {k: torch.optim.Adam([p], lr=1e-3) for k, p in params.items()}
    cfg = DensifyConfig(refine_start_iter=0, refine_every=2, reset_every=0, prune_scale2d=prune_scale2d)
    d = Densifier(cfg, scene_scale=1.0)
    state = d.initialize_state()
    for step, big in ((1, 4), (2, 1)):  # Gaussian 3 covers 0.4 of the image in step 1 only
        means2d = torch.zeros(1, 6, 2, requires_grad=True)
        means2d.grad = torch.zeros(1, 6, 2)
        means2d.grad[0, 0, 0] = 1.0
        radii = torch.ones(1, 6, 2, dtype=torch.long)
        radii[0, 3] = big
        info = {"means2d": means2d, "radii": radii, "width": 10, "height": 8, "n_cameras": 1}
        d.step_post_backward(params, opts, state, step=step, info=info)
    # 6 + 1 clone of Gaussian 0 - 1 transparent (- 1 large on screen)
    assert len(params["means"]) == expected
    survivors = params["means"].detach()
    assert any(torch.allclose(survivors[i], means[3]) for i in range(len(survivors))) == (prune_scale2d == 0)
    assert torch.allclose(survivors[-1], means[0])  # the clone
