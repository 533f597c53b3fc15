import json
import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lionlora.errors import CameraError, InputError
from lionlora.geometry import Intrinsics, Trajectory, make_pose
from lionlora.geometry.convert import NERFSTUDIO_COLMAP_APPLIED_TRANSFORM, apply_transform, opencv_to_opengl
from lionlora.io.cameras_json import read_cameras, write_cameras


def traj(n=5, seed=0):
    rng = np.random.default_rng(seed)
    c2w = make_pose(Rotation.random(n, random_state=seed).as_matrix(), rng.normal(size=(n, 3)))
    return Trajectory(c2w, Intrinsics(500.0, 510.0, 360.0, 240.0, 720, 480), names=[f"f{i}.png" for i in range(n)])


def test_write_read_round_trip(tmp_path):
    t = traj()
    p = write_cameras(tmp_path / "cameras.json", t, metadata={"stage": "test"})
    back = read_cameras(p)
    assert np.allclose(back.c2w, t.c2w, atol=1e-12)
    assert back.intrinsics == t.intrinsics
    assert back.names == t.names
    assert back.metadata == {"stage": "test"}
    data = json.loads(p.read_text())
    assert data["camera_model"] == "PINHOLE"
    # the stored matrix is the OpenGL camera-to-world
    assert np.allclose(data["frames"][0]["transform_matrix"], opencv_to_opengl(t.c2w[0]))
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


def test_nerfstudio_applied_transform_is_undone(tmp_path):
    """A nerfstudio transforms.json stores A @ c2w_gl; reading returns the COLMAP-world OpenCV pose."""
    t = traj(4, seed=1)
    A = NERFSTUDIO_COLMAP_APPLIED_TRANSFORM
    stored = apply_transform(opencv_to_opengl(t.c2w), A)
    data = {
        "w": 720,
        "h": 480,
        "fl_x": 500.0,
        "fl_y": 510.0,
        "cx": 360.0,
        "cy": 240.0,
        "k1": 0.01,
        "k2": 0.0,
        "p1": 0.0,
        "p2": 0.0,
        "camera_model": "OPENCV",
        "applied_transform": A.tolist(),
        "frames": [{"file_path": f"images/f{i}.png", "transform_matrix": stored[i].tolist()} for i in range(4)],
    }
    (tmp_path / "transforms.json").write_text(json.dumps(data))
    back = read_cameras(tmp_path / "transforms.json")
    assert np.allclose(back.c2w, t.c2w, atol=1e-12)
    assert back.intrinsics.dist == (0.01, 0.0, 0.0, 0.0)
    # without applied_transform the poses are taken as they are
    del data["applied_transform"]
    (tmp_path / "t2.json").write_text(json.dumps(data))
    assert np.allclose(read_cameras(tmp_path / "t2.json").c2w, stored @ np.diag([1.0, -1, -1, 1]))


def test_instant_ngp_camera_angle(tmp_path):
    t = traj(2)
    data = {
        "camera_angle_x": 2 * math.atan(360 / 500.0),
        "frames": [{"file_path": "a", "transform_matrix": opencv_to_opengl(t.c2w[i]).tolist()} for i in range(2)],
    }
    (tmp_path / "transforms.json").write_text(json.dumps(data))
    with pytest.raises(CameraError, match="'w/h'"):
        read_cameras(tmp_path / "transforms.json")
    back = read_cameras(tmp_path / "transforms.json", image_size=(720, 480))
    assert back.intrinsics.fx == pytest.approx(500.0)
    assert back.intrinsics.cx == 360.0


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d.pop("frames"), "frames"),
        (lambda d: d.update(frames=[]), "frames"),
        (lambda d: d.pop("fl_x"), "fl_x"),
        (lambda d: d.update(fl_x="big"), "fl_x"),
        (lambda d: d["frames"][2].update(transform_matrix=[[float("nan")] * 4] * 4), r"frames\[2\]"),
        (lambda d: d["frames"][1].update(transform_matrix=(2 * np.eye(4)).tolist()), r"frames\[1\].*rigid"),
        (lambda d: d["frames"][0].pop("transform_matrix"), r"frames\[0\]"),
        (lambda d: d["frames"][0].update(fl_x=123.0), r"frames\[0\]\.fl_x"),
    ],
)
def test_bad_camera_files(tmp_path, mutate, match):
    p = write_cameras(tmp_path / "c.json", traj())
    data = json.loads(p.read_text())
    mutate(data)
    p.write_text(json.dumps(data))
    with pytest.raises(CameraError, match=match) as info:
        read_cameras(p)
    assert str(p) in str(info.value)


def test_unreadable_json(tmp_path):
    p = tmp_path / "c.json"
    p.write_text("{not json")
    with pytest.raises(InputError, match="valid JSON"):
        read_cameras(p)
    with pytest.raises(InputError, match="existing file"):
        read_cameras(tmp_path / "missing.json")
