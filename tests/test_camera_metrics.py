"""Camera metrics (lionlora.eval.camera.metrics): known answers, invariances, degenerate and bad inputs."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lionlora.errors import CameraError
from lionlora.eval.camera.metrics import camera_errors, per_frame_errors
from lionlora.geometry import Sim3, make_pose, rotation_angle, umeyama_batched


def random_trajectory(rng, n=12):
    R = Rotation.random(n, random_state=int(rng.integers(1 << 30))).as_matrix()
    t = np.cumsum(rng.normal(size=(n, 3)), axis=0)
    return make_pose(R, t)


def translations(*ts):
    return make_pose(np.eye(3), np.array(ts, dtype=float))


def test_pure_rotations_by_known_angles():
    angles = np.deg2rad([0.0, 5.0, 10.0, 30.0, 90.0, 179.0])
    axis = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    first = make_pose(Rotation.from_euler("xyz", [0.2, -1.0, 0.4]).as_matrix(), [3.0, -2.0, 5.0])
    gt = np.repeat(first[None], len(angles), axis=0)  # a static camera
    pred = first @ make_pose(Rotation.from_rotvec(angles[:, None] * axis).as_matrix(), np.zeros(3))
    e = camera_errors(gt, pred)
    assert e["rot_err"] == pytest.approx(angles.sum(), abs=1e-9)
    assert e["trans_err"] == 0.0 and e["ate"] == 0.0
    # ||I - R(a)||_F = 2 sqrt(2) sin(a / 2)
    assert e["cam_mc"] == pytest.approx((2 * np.sqrt(2) * np.sin(angles / 2)).sum(), abs=1e-9)
    m = camera_errors(gt, pred, reduce="mean")
    assert m["rot_err"] == pytest.approx(angles.mean(), abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_similarity_copy_has_zero_error(seed):
    rng = np.random.default_rng(seed)
    gt = random_trajectory(rng)
    sim = Sim3(float(rng.uniform(0.01, 100.0)), Rotation.random(random_state=seed).as_matrix(), rng.normal(size=3) * 10)
    e = camera_errors(gt, sim.apply_to_poses(gt))
    for key in ("rot_err", "trans_err", "cam_mc", "ate"):
        assert e[key] == pytest.approx(0.0, abs=1e-6), key


def test_hand_computed_translation_case():
    # GT centres 0, 1, 2 along x (s = 2); prediction 0, 0, 3 (s = 3); the 3rd frame turned 90 deg about z
    gt = translations([0, 0, 0], [1, 0, 0], [2, 0, 0])
    pred = translations([0, 0, 0], [0, 0, 0], [3, 0, 0])
    pred[2, :3, :3] = Rotation.from_euler("z", 90, degrees=True).as_matrix()
    e = camera_errors(gt, pred)
    # normalised: gt 0, 0.5, 1 ; pred 0, 0, 1 -> per-frame translation errors 0, 0.5, 0
    assert e["trans_err"] == pytest.approx(0.5)
    assert e["rot_err"] == pytest.approx(np.pi / 2)
    # frame 2: ||I - Rz(90)||_F^2 = 4, translation part 0 ; frame 1: 0.5
    assert e["cam_mc"] == pytest.approx(0.5 + 2.0)
    # 1-D least squares of g = a p + b: a = 3/4, b = 1/4, residuals -1/4, 1/4, 0
    assert e["ate"] == pytest.approx(np.sqrt(1 / 24))
    m = camera_errors(gt, pred, reduce="mean")
    assert m["trans_err"] == pytest.approx(0.5 / 3)
    assert m["rot_err"] == pytest.approx(np.pi / 6)
    assert m["cam_mc"] == pytest.approx(2.5 / 3)
    assert m["ate"] == e["ate"]  # ATE is an RMSE for both reductions


def test_metrics_are_relative_to_the_first_frame():
    rng = np.random.default_rng(3)
    gt, pred = random_trajectory(rng), random_trajectory(rng)
    world = make_pose(Rotation.random(random_state=1).as_matrix(), rng.normal(size=3))
    a = camera_errors(gt, pred)
    b = camera_errors(world @ gt, make_pose(np.eye(3), [5.0, 0, 0]) @ pred)
    for key in a:
        assert b[key] == pytest.approx(a[key], abs=1e-9)


def test_static_trajectories_give_documented_finite_values():
    static = np.repeat(np.eye(4)[None], 4, axis=0)
    moving = translations([0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 4])
    both = camera_errors(static, static.copy())
    assert all(v == 0.0 for v in both.values())
    # prediction static: TransErr is how far the (normalised) ground truth moved;
    # ATE is the spread of the normalised ground truth around its centroid
    e = camera_errors(moving, static)
    tn = np.array([0, 0.25, 0.5, 1.0])
    assert e["trans_err"] == pytest.approx(tn.sum())
    assert e["ate"] == pytest.approx(np.sqrt(((tn - tn.mean()) ** 2).mean()))
    # ground truth static: Sim(3) shrinks the prediction onto it (ATE 0), TransErr still counts
    e = camera_errors(static, moving)
    assert e["ate"] == 0.0 and e["trans_err"] == pytest.approx(tn.sum())
    assert all(np.isfinite(v) for v in e.values())


def test_batched_equals_one_by_one_and_recovers_known_sim3():
    rng = np.random.default_rng(7)
    gt = np.stack([random_trajectory(rng, 9) for _ in range(6)]).reshape(2, 3, 9, 4, 4)
    pred = np.stack([random_trajectory(rng, 9) for _ in range(6)]).reshape(2, 3, 9, 4, 4)
    batch = camera_errors(gt, pred, reduce="mean")
    for i in range(2):
        for j in range(3):
            one = camera_errors(gt[i, j], pred[i, j], reduce="mean")
            for key in one:
                assert batch[key][i, j] == pytest.approx(one[key], abs=1e-12)
    # the batched alignment recovers a different known Sim(3) in every batch element
    src = gt[..., :3, 3]
    truth = [
        [
            Sim3(0.5 + i + j, Rotation.random(random_state=3 * i + j).as_matrix(), np.array([i, -j, 1.0]))
            for j in range(3)
        ]
        for i in range(2)
    ]
    dst = np.stack([np.stack([truth[i][j].apply(src[i, j]) for j in range(3)]) for i in range(2)])
    scale, R, t = umeyama_batched(src, dst)
    for i in range(2):
        for j in range(3):
            assert scale[i, j] == pytest.approx(truth[i][j].scale, rel=1e-9)
            np.testing.assert_allclose(R[i, j], truth[i][j].R, atol=1e-9)
            np.testing.assert_allclose(t[i, j], truth[i][j].t, atol=1e-9)
    # the per-frame rotation error is the geodesic angle of R_gt^T R_pred
    rel = np.linalg.inv(gt[0, 0, :1]) @ gt[0, 0]
    relp = np.linalg.inv(pred[0, 0, :1]) @ pred[0, 0]
    ref_rot = rotation_angle(np.swapaxes(rel[:, :3, :3], -1, -2) @ relp[:, :3, :3])
    np.testing.assert_allclose(per_frame_errors(gt[0, 0], pred[0, 0])["rot"], ref_rot, atol=1e-7)


@pytest.mark.parametrize("case", ["nan", "shape", "one_frame", "convention", "reduce"])
def test_bad_inputs_raise_camera_error(case):
    gt = translations([0, 0, 0], [1, 0, 0], [2, 0, 0])
    pred = gt.copy()
    kwargs = {}
    if case == "nan":
        pred[1, 0, 3] = np.nan
    elif case == "shape":
        pred = pred[:2]
    elif case == "one_frame":
        gt, pred = gt[:1], pred[:1]
    elif case == "convention":
        kwargs["convention"] = "cameractrl-degrees"
    else:
        kwargs["reduce"] = "max"
    with pytest.raises(CameraError) as info:
        camera_errors(gt, pred, **kwargs)
    if case == "nan":
        assert info.value.source == "pred" and info.value.field == "c2w[1]"
