"""Camera primitives: geometry, depth scaling, constant speed, fusion, CLI and bad names."""

import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lionlora.cli import main
from lionlora.errors import CameraError, ConfigError
from lionlora.geometry import Intrinsics
from lionlora.io.cameras_json import read_cameras
from lionlora.pipelines.trajectories import PRIMITIVES, TrajectoryConfig, primitive_trajectory, relative_poses

START = np.eye(4)
START[:3, :3] = Rotation.from_euler("xyz", [10, -35, 5], degrees=True).as_matrix()
START[:3, 3] = [0.3, -1.2, 2.0]
K = Intrinsics.from_fov(60, 96, 64)
D = 3.7


def traj(name, n=25, depth=D, cfg=None):
    return primitive_trajectory(name, START, K, n, depth, cfg).c2w


@pytest.mark.parametrize(
    "name,axis,sign",
    [
        ("pan_left", 0, -1),
        ("pan_right", 0, 1),
        ("pan_up", 1, -1),
        ("pan_down", 1, 1),
        ("dolly_in", 2, 1),
        ("dolly_out", 2, -1),
    ],
)
def test_translations_move_along_the_start_camera_axes(name, axis, sign):
    c2w = traj(name)
    assert np.allclose(c2w[:, :3, :3], START[:3, :3])  # orientation fixed
    disp = c2w[:, :3, 3] - START[:3, 3]
    local = disp @ START[:3, :3]  # displacement in the start camera's frame
    k = TrajectoryConfig().k[name]
    assert np.allclose(local[-1, axis], sign * k * D)
    others = [i for i in range(3) if i != axis]
    assert np.allclose(local[:, others], 0, atol=1e-12)  # pans: perpendicular to the optical axis
    steps = np.linalg.norm(np.diff(c2w[:, :3, 3], axis=0), axis=1)
    assert np.allclose(steps, steps[0])  # constant speed


@pytest.mark.parametrize("name,side", [("orbit_left", -1), ("orbit_right", 1)])
def test_orbit_keeps_radius_and_looks_at_the_pivot(name, side):
    c2w = traj(name, n=31)
    pivot = START[:3, 3] + D * START[:3, 2]
    up = -START[:3, 1]
    rel = c2w[:, :3, 3] - pivot
    assert np.allclose(np.linalg.norm(rel, axis=1), D)  # radius = median depth
    assert np.allclose(rel @ up, 0, atol=1e-12)  # circle about the vertical axis through the pivot
    # the pivot stays on every camera's optical axis, in front of it at distance D
    to_pivot = pivot - c2w[:, :3, 3]
    assert np.allclose(np.einsum("ni,ni->n", to_pivot, c2w[:, :3, 2]), D)
    assert np.allclose(np.cross(to_pivot, c2w[:, :3, 2]), 0, atol=1e-12)
    assert np.allclose(c2w[:, :3, 1] @ up, -1)  # no roll: the camera's up stays vertical
    first_step = (c2w[1, :3, 3] - c2w[0, :3, 3]) @ START[:3, 0]
    assert np.sign(first_step) == side  # towards the camera's own left / right
    angle = np.degrees(np.arccos(np.clip(rel[0] @ rel[-1] / D**2, -1, 1)))
    assert np.isclose(angle, TrajectoryConfig().angle_deg[name])
    steps = np.linalg.norm(np.diff(c2w[:, :3, 3], axis=0), axis=1)
    assert np.allclose(steps, steps[0])


@pytest.mark.parametrize("name", list(PRIMITIVES) + ["dolly_in+orbit_left", "pan_up+orbit_right+dolly_out"])
def test_magnitudes_scale_linearly_with_median_depth(name):
    a = relative_poses(name, 9, 1.0)
    b = relative_poses(name, 9, 2.5)
    assert np.allclose(b[:, :3, 3], 2.5 * a[:, :3, 3])
    assert np.allclose(b[:, :3, :3], a[:, :3, :3])
    assert np.allclose(a[0], np.eye(4))


def test_fused_trajectory_composes_its_parts_at_constant_speed():
    c2w = traj("dolly_in+orbit_left", n=41)
    assert np.allclose(c2w, traj("orbit_left+dolly_in", n=41))  # order of names does not matter
    pivot = START[:3, 3] + D * START[:3, 2]
    to_pivot = pivot - c2w[:, :3, 3]
    # orbiting while dollying towards the pivot: still looking at it, distance shrinking to (1 - k) D
    assert np.allclose(np.cross(to_pivot, c2w[:, :3, 2]), 0, atol=1e-9)
    assert np.isclose(np.linalg.norm(to_pivot[-1]), (1 - TrajectoryConfig().k["dolly_in"]) * D)
    steps = np.linalg.norm(np.diff(c2w[:, :3, 3], axis=0), axis=1)
    assert steps.std() / steps.mean() < 2e-3  # even spacing along the path (chords of a curve)


def test_configured_magnitudes_are_used():
    cfg = TrajectoryConfig(k={"dolly_in": 0.2}, angle_deg={"orbit_left": 60.0})
    assert np.isclose(np.linalg.norm(relative_poses("dolly_in", 5, 2.0, cfg)[-1, :3, 3]), 0.4)
    rel = relative_poses("orbit_left", 5, 2.0, cfg)
    assert np.isclose(np.degrees(Rotation.from_matrix(rel[-1, :3, :3]).magnitude()), 60.0)


@pytest.mark.parametrize("name", ["spin", "dolly_in+dolly_in", "pan_left+pan_right", "orbit_left+orbit_right", ""])
def test_unknown_or_contradictory_primitives_are_named_errors(name):
    with pytest.raises(ConfigError, match="primitive"):
        relative_poses(name, 5, 1.0)


def test_bad_depth_and_config_are_named_errors():
    with pytest.raises(CameraError, match="median_depth"):
        relative_poses("dolly_in", 5, 0.0)
    with pytest.raises(ConfigError, match="k.dolly_in"):
        TrajectoryConfig(k={"dolly_in": -1.0})
    with pytest.raises(ConfigError, match="orbit_left"):
        TrajectoryConfig(k={"orbit_left": 1.0})


def test_trajectory_cli_writes_cameras_from_the_identity(tmp_path, capsys):
    out = tmp_path / "cams.json"
    assert (
        main(
            [
                "trajectory",
                "--primitive",
                "pan_right",
                "--frames",
                "7",
                "--median-depth",
                "2.0",
                "--out",
                str(out),
                "--k",
                "0.25",
            ]
        )
        == 0
    )
    cams = read_cameras(out)
    assert len(cams) == 7 and cams.intrinsics.width == 720
    assert np.allclose(cams.c2w[0], np.eye(4))
    assert np.allclose(cams.c2w[-1, :3, 3], [0.5, 0, 0])
    data = json.loads(out.read_text())
    assert np.allclose(data["frames"][0]["transform_matrix"], np.diag([1.0, -1, -1, 1]))  # OpenGL on disk
    assert data["lionlora"]["primitive"] == "pan_right" and data["lionlora"]["k"] == {"pan_right": 0.25}
    assert (
        main(
            [
                "trajectory",
                "--primitive",
                "orbit_left",
                "--frames",
                "5",
                "--median-depth",
                "2.0",
                "--out",
                str(out),
                "--angle",
                "90",
            ]
        )
        == 0
    )
    c = read_cameras(out).c2w
    assert np.allclose(c[-1, :3, 3], [-2.0, 0, 2.0])
    assert main(["trajectory", "--primitive", "zoom", "--frames", "5", "--median-depth", "2", "--out", str(out)]) == 1
    assert "primitive" in capsys.readouterr().err
