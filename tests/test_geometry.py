import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lionlora.errors import CameraError
from lionlora.geometry import (
    Intrinsics,
    Sim3,
    check_rigid,
    interpolate_poses,
    look_at,
    make_pose,
    relative_to_first,
    rotation_angle,
    se3_inverse,
    umeyama,
)
from lionlora.geometry.convert import (
    NERFSTUDIO_COLMAP_APPLIED_TRANSFORM,
    apply_transform,
    c2w_to_colmap,
    c2w_to_viewmat,
    colmap_to_c2w,
    matrix_to_quat_wxyz,
    opencv_to_opengl,
    opengl_to_opencv,
    quat_wxyz_to_matrix,
    undo_applied_transform,
    viewmat_to_c2w,
)


def random_poses(n, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    return make_pose(Rotation.random(n, random_state=seed).as_matrix(), rng.normal(size=(n, 3)) * scale)


def test_inverse_round_trip():
    T = random_poses(20)
    assert np.allclose(se3_inverse(T) @ T, np.eye(4), atol=1e-12)
    assert np.allclose(se3_inverse(se3_inverse(T)), T)


def test_relative_to_first_identity_and_invariance():
    T = random_poses(10, seed=1)
    rel = relative_to_first(T)
    assert np.allclose(rel[0], np.eye(4))
    # left-multiplying by any rigid transform (a change of world frame) leaves relatives unchanged
    G = random_poses(1, seed=2)[0]
    assert np.allclose(relative_to_first(G @ T), rel, atol=1e-10)
    # batched over leading dimensions: each sequence relative to its own first pose
    batch = np.stack([T, random_poses(10, seed=3)])
    assert np.allclose(relative_to_first(batch)[0], rel) and np.allclose(relative_to_first(batch)[1, 0], np.eye(4))


@pytest.mark.parametrize("deg", [0.0, 1.0, 30.0, 90.0, 179.0])
def test_rotation_angle_known(deg):
    R = Rotation.from_rotvec(np.deg2rad(deg) * np.array([0.2, -0.5, 0.8]) / np.linalg.norm([0.2, -0.5, 0.8]))
    assert rotation_angle(R.as_matrix()) == pytest.approx(np.deg2rad(deg), abs=1e-7)


@pytest.mark.parametrize("seed", range(5))
def test_umeyama_recovers_random_sim3(seed):
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(30, 3))
    true = Sim3(float(rng.uniform(0.2, 5.0)), Rotation.random(random_state=seed).as_matrix(), rng.normal(size=3))
    est = umeyama(src, true.apply(src))
    assert est.scale == pytest.approx(true.scale, rel=1e-9)
    assert np.allclose(est.R, true.R, atol=1e-9)
    assert np.allclose(est.t, true.t, atol=1e-9)
    assert np.allclose(est.apply(src), true.apply(src), atol=1e-9)
    inv = true.inverse()
    assert np.allclose(inv.apply(true.apply(src)), src, atol=1e-9)


def test_umeyama_rigid_and_degenerate():
    rng = np.random.default_rng(3)
    src = rng.normal(size=(10, 3))
    R = Rotation.random(random_state=4).as_matrix()
    est = umeyama(src, 2.0 * src @ R.T, with_scale=False)
    assert est.scale == 1.0
    assert np.allclose(est.R, R, atol=1e-9)
    with pytest.raises(CameraError, match="at least 3"):
        umeyama(src[:2], src[:2])
    with pytest.raises(CameraError, match="not all identical"):
        umeyama(np.ones((5, 3)), src[:5])


def test_sim3_on_poses_stays_rigid():
    T = random_poses(5, seed=5)
    S = Sim3(2.5, Rotation.random(random_state=6).as_matrix(), np.array([1.0, 2.0, 3.0]))
    out = S.apply_to_poses(T)
    check_rigid(out, "test", "out")
    assert np.allclose(out[:, :3, 3], S.apply(T[:, :3, 3]))


def test_interpolate_poses_endpoints_and_midpoint():
    T0 = np.eye(4)
    T1 = make_pose(Rotation.from_rotvec([0, 0, np.pi / 2]).as_matrix(), [2.0, 0, 0])
    out = interpolate_poses(T0, T1, [0.0, 0.5, 1.0])
    assert np.allclose(out[0], T0) and np.allclose(out[2], T1)
    assert rotation_angle(out[1, :3, :3]) == pytest.approx(np.pi / 4)
    assert np.allclose(out[1, :3, 3], [1.0, 0, 0])


def test_check_rigid_errors_name_the_field():
    T = random_poses(3)
    T[1, 0, 0] = np.nan
    with pytest.raises(CameraError, match=r"poses\[1\].*finite"):
        check_rigid(T, "file.json", "poses")
    S = np.eye(4)
    S[:3, :3] *= 2
    with pytest.raises(CameraError, match="rigid"):
        check_rigid(S, "file.json", "m")
    with pytest.raises(CameraError, match="4x4"):
        check_rigid(np.eye(3), "file.json", "m")
    assert check_rigid(np.eye(4)[:3], "f", "m").shape == (4, 4)


def test_opengl_opencv_round_trip_and_meaning():
    T = random_poses(8, seed=7)
    assert np.allclose(opengl_to_opencv(opencv_to_opengl(T)), T)
    gl = opencv_to_opengl(T)
    # OpenGL looks along -z: its -z axis is OpenCV's +z axis; y flips
    assert np.allclose(-gl[:, :3, 2], T[:, :3, 2])
    assert np.allclose(-gl[:, :3, 1], T[:, :3, 1])
    assert np.allclose(gl[:, :3, 3], T[:, :3, 3])


def test_colmap_round_trip_and_known_pose():
    T = random_poses(8, seed=8)
    q, t = c2w_to_colmap(T)
    assert np.all(q[:, 0] >= 0)
    assert np.allclose(colmap_to_c2w(q, t), T, atol=1e-10)
    # a camera at (0,0,-5) looking along +z: cam_from_world has identity rotation and t = (0,0,5)
    c2w = make_pose(np.eye(3), [0, 0, -5.0])
    q, t = c2w_to_colmap(c2w)
    assert np.allclose(q, [1, 0, 0, 0]) and np.allclose(t, [0, 0, 5])
    R = Rotation.from_euler("xyz", [10, 20, 30], degrees=True).as_matrix()
    assert np.allclose(quat_wxyz_to_matrix(matrix_to_quat_wxyz(R)), R)


def test_viewmat_round_trip():
    T = random_poses(4, seed=9)
    V = c2w_to_viewmat(T)
    p_world = np.array([0.3, -0.2, 1.5, 1.0])
    # the viewmat maps world points into the camera frame
    p_cam = V[0] @ p_world
    assert np.allclose(T[0] @ p_cam, p_world)
    assert np.allclose(viewmat_to_c2w(V), T)


def test_applied_transform_undo():
    T = random_poses(6, seed=10)
    A = NERFSTUDIO_COLMAP_APPLIED_TRANSFORM
    assert np.allclose(undo_applied_transform(apply_transform(T, A), A), T)
    scaled = np.array(A) * 0.5
    assert np.allclose(undo_applied_transform(apply_transform(T, scaled)[:, :, :], scaled)[:, :3, :3], T[:, :3, :3])


def test_intrinsics_rescale_is_consistent_with_projection():
    K = Intrinsics(800.0, 820.0, 640.0, 360.0, 1280, 720)
    p = np.array([[0.4, -0.3, 2.0]])
    uv = K.project(p)
    K2 = K.scaled(320, 180)
    assert np.allclose(K2.project(p), uv / 4)
    assert (K2.width, K2.height) == (320, 180)
    with pytest.raises(CameraError):
        Intrinsics(-1.0, 1.0, 0, 0, 10, 10)


def test_look_at():
    T = look_at(np.array([0.0, 0, 0]), np.array([0.0, 0, 5]), down=np.array([0.0, 1, 0]))
    assert np.allclose(T, np.eye(4))
    T = look_at(np.array([1.0, 2, 3]), np.array([4.0, -1, 7]), down=np.array([0.0, 1, 0]))
    check_rigid(T, "t", "T")
    z = T[:3, 2]
    assert np.allclose(z, np.array([3.0, -3, 4]) / np.linalg.norm([3.0, -3, 4]))
    assert T[:3, 1] @ np.array([0.0, 1, 0]) > 0  # image-down points world-down
    with pytest.raises(CameraError):
        look_at(np.zeros(3), np.zeros(3), np.array([0.0, 1, 0]))
