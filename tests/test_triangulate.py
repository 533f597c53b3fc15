"""Captures without SfM points: points triangulated with the known poses become the 3DGS init."""

import shutil

import numpy as np
import pytest
from scipy.spatial import cKDTree

from lionlora.pipelines.gaussians import ReconstructConfig, reconstruct
from lionlora.pipelines.gaussians.model import random_points
from lionlora.scenes import load_scene
from lionlora.scenes.dl3dv import colmap_points, read_colmap_model
from lionlora.scenes.triangulate import MODEL, TriangulateConfig, triangulated_points
from tests.torch_threads import one_torch_thread  # noqa: F401 (autouse fixture)


@pytest.fixture(scope="module")
def bare(scene_dir, tmp_path_factory):
    """The embedded scene exported as a transforms.json-only capture (images_4, no COLMAP model)."""
    root = tmp_path_factory.mktemp("capture") / "bare"
    shutil.copytree(scene_dir, root, ignore=shutil.ignore_patterns("colmap", "images_2"))
    return root


def test_triangulated_points_lie_on_the_scene(bare, scene_dir):
    scene = load_scene(bare, downsample=4)
    assert scene.points is None
    xyz, rgb = triangulated_points(scene, TriangulateConfig(num_threads=1))
    assert len(xyz) >= 300 and rgb.shape == (len(xyz), 3) and rgb.dtype == np.uint8
    # compared with the scene's true surface points (its COLMAP model): close, unlike random points
    truth, _ = colmap_points(read_colmap_model(scene_dir / "colmap" / "sparse" / "0"))
    extent = np.linalg.norm(truth - truth.mean(0), axis=1).max()
    tree = cKDTree(truth)
    near = np.median(tree.query(xyz)[0]) / extent
    rand = np.median(tree.query(random_points(scene.cameras.c2w, len(xyz), seed=0)[0])[0]) / extent
    assert near < 0.05 and near < rand / 3, (near, rand)
    # cached beside the scene, reused
    stamp = (bare / MODEL / "points3D.bin").stat().st_mtime_ns
    again, _ = triangulated_points(scene)
    np.testing.assert_array_equal(again, xyz)
    assert (bare / MODEL / "points3D.bin").stat().st_mtime_ns == stamp


def test_reconstruct_initialises_a_bare_capture_from_triangulated_points(bare, tmp_path):
    metrics = reconstruct(bare, tmp_path / "out", ReconstructConfig(engine="torch", steps=0, downsample=4, sh_degree=0))
    assert metrics["init"] == "triangulated"
    points, _ = colmap_points(read_colmap_model(bare / MODEL))
    assert metrics["n_gaussians_init"] == len(points)
