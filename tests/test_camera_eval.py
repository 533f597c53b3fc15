"""Camera evaluation end to end: SfM on clips rendered exactly from the embedded scene, the
``lionlora eval poses|camera`` commands, and failures recorded as data."""

import json

import numpy as np
import pytest

from lionlora.cli import main
from lionlora.errors import CameraError, VideoError
from lionlora.eval.camera.config import CameraEvalConfig
from lionlora.eval.camera.evaluate import evaluate_camera
from lionlora.geometry import Intrinsics, Trajectory, interpolate_poses, look_at
from lionlora.io.cameras_json import read_cameras, write_cameras
from lionlora.io.files import read_json
from lionlora.io.video import write_image, write_video

FRAMES, WIDTH, HEIGHT = 20, 360, 240
DOWN = np.array([0.0, 1.0, 0.0])  # the embedded room: y down

# Noise floor on this clip (sums over 20 frames), measured with the default settings: rot_err
# 0.011-0.016, trans_err 0.029-0.038, cam_mc 0.037-0.043, ate 0.0010-0.0011 (intrinsics fixed or
# estimated, mp4 or PNG frames, seeds 0-13). Asserted with a margin of about 3x.
FLOOR = {"rot_err": 0.05, "trans_err": 0.12, "cam_mc": 0.15, "ate": 0.004}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 20-frame 360x240 truck-and-pan clip rendered exactly, as mp4 + cameras.json + frame folder."""
    from lionlora.pipelines.synth import build_room, render_view

    out = tmp_path_factory.mktemp("clip")
    room = build_room(0)
    K = Intrinsics.from_fov(68.0, WIDTH, HEIGHT)
    c2w = interpolate_poses(
        look_at([-0.9, -0.3, -1.0], [0.4, 0.2, 6.0], DOWN),
        look_at([0.9, -0.4, -0.5], [-0.4, 0.2, 6.0], DOWN),
        np.linspace(0, 1, FRAMES),
    )
    frames = np.stack([render_view(room, c, K, supersample=1)[0] for c in c2w])
    write_video(out / "clip.mp4", frames, fps=8)
    for i, f in enumerate(frames):
        write_image(out / "frames" / f"{i:03d}.png", f)
    write_cameras(out / "cameras.json", Trajectory(c2w, K), metadata={"primitive": "truck_right"})
    # the same cameras at twice the resolution, as a nerfstudio file would hold them
    write_cameras(out / "cameras_2x.json", Trajectory(c2w, K.scaled(2 * WIDTH, 2 * HEIGHT)))
    return out


@pytest.fixture(scope="module")
def video_result(clip):
    out = clip / "eval" / "clip.json"
    # intrinsics estimated (the default fixes them; the frame-folder test covers that)
    assert (
        main(
            [
                "eval",
                "camera",
                "--video",
                str(clip / "clip.mp4"),
                "--gt",
                str(clip / "cameras.json"),
                "--out",
                str(out),
                "--no-fix-intrinsics",
            ]
        )
        == 0
    )
    return out


def test_sfm_recovers_the_rendered_path(video_result, clip):
    res = read_json(video_result)
    assert res["status"] == "ok" and res["reason"] == ""
    assert res["registered"] == FRAMES and res["n_frames"] == FRAMES
    assert (res["convention"], res["reduce"]) == ("cami2v", "sum")
    assert res["primitive"] == "truck_right"
    for key, limit in FLOOR.items():
        assert 0.0 <= res[key] < limit, (key, res[key])
    # the contract: cameras.json beside OUT, named relative to OUT's folder
    assert res["cameras"] == "cameras.json"
    cams = read_cameras(clip / "eval" / "cameras.json")
    assert len(cams) == FRAMES and cams.metadata["registered_frames"] == list(range(FRAMES))
    # focal length recovered from the images alone within 3 %
    assert cams.intrinsics.fx == pytest.approx(Intrinsics.from_fov(68.0, WIDTH, HEIGHT).fx, rel=0.03)


def test_eval_poses_on_recovered_cameras_matches(video_result, clip, capsys):
    res = read_json(video_result)
    out = clip / "eval" / "poses.json"
    assert (
        main(
            [
                "eval",
                "poses",
                "--pred",
                str(clip / "eval" / res["cameras"]),
                "--gt",
                str(clip / "cameras.json"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    poses = read_json(out)
    assert set(poses) == {"rot_err", "trans_err", "cam_mc", "ate", "n_frames", "convention", "reduce"}
    for key in ("rot_err", "trans_err", "cam_mc", "ate"):
        assert poses[key] == pytest.approx(res[key], abs=1e-6)
    assert (
        main(
            [
                "eval",
                "poses",
                "--pred",
                str(clip / "eval" / res["cameras"]),
                "--gt",
                str(clip / "cameras.json"),
                "--out",
                str(out),
                "--reduce",
                "mean",
            ]
        )
        == 0
    )
    assert read_json(out)["rot_err"] == pytest.approx(res["rot_err"] / FRAMES, abs=1e-6)


def test_frame_folder_fixed_intrinsics_and_trials(clip):
    cfg = CameraEvalConfig(trials=2)
    assert cfg.fix_intrinsics and cfg.mapper == "global"
    res = evaluate_camera(clip / "frames", clip / "cameras_2x.json", cfg, cameras_out=clip / "f" / "c.json")
    assert res["status"] == "ok" and res["trials_ok"] == 2 and len(res["trials"]) == res["trials_run"] == 2
    assert [t["seed"] for t in res["trials"]] == [0, 1]
    assert res["rot_err"] == pytest.approx(np.mean([t["rot_err"] for t in res["trials"]]))
    for key, limit in FLOOR.items():
        assert res[key] < limit, (key, res[key])
    cams = read_cameras(clip / "f" / "c.json")
    # the fixed camera is the ground truth's, rescaled to the frames' size, and not refined
    assert (cams.intrinsics.fx, cams.intrinsics.cx) == pytest.approx(
        (Intrinsics.from_fov(68.0, WIDTH, HEIGHT).fx, 180.0)
    )
    assert cams.names[0] == "000.png"


def test_refined_keypoints_through_the_cli(clip, tmp_path):
    """``--refine-keypoints true``: every frame registers within the floor and the result records
    the refinement (most matched keypoints move, by a fraction of a pixel)."""
    out = tmp_path / "refined.json"
    args = ["eval", "camera", "--video", str(clip / "clip.mp4"), "--gt", str(clip / "cameras.json")]
    assert main([*args, "--out", str(out), "--refine-keypoints", "true"]) == 0
    res = read_json(out)
    assert res["status"] == "ok" and res["registered"] == FRAMES and res["config"]["refine_keypoints"] is True
    for key, limit in FLOOR.items():
        assert res[key] < limit, (key, res[key])
    sfm = res["sfm"]
    assert sfm["refined_tracks"] > 100 and 0.5 < sfm["refined_keypoints"] <= 1.0
    assert 0.02 < sfm["median_shift_px"] < 1.0
    plain = evaluate_camera(clip / "clip.mp4", clip / "cameras.json", CameraEvalConfig())
    assert "refined_keypoints" not in plain["sfm"]


def test_noise_video_is_a_failed_row(tmp_path, clip, capsys):
    rng = np.random.default_rng(0)
    # noise at the clip's aspect ratio (3:2): a valid input whose SfM fails
    write_video(tmp_path / "noise.mp4", rng.integers(0, 256, size=(FRAMES, 96, 144, 3), dtype=np.uint8))
    out = tmp_path / "noise.json"
    (tmp_path / "cameras.json").write_text("{}")  # from an earlier run: must not survive
    assert (
        main(
            [
                "eval",
                "camera",
                "--video",
                str(tmp_path / "noise.mp4"),
                "--gt",
                str(clip / "cameras.json"),
                "--out",
                str(out),
                "--max-features",
                "256",
            ]
        )
        == 0
    )
    res = read_json(out)
    assert res["status"] == "failed" and res["registered"] == 0
    assert res["reason"] == f"SfM registered 0 of {FRAMES} frames ({FRAMES} required)"
    assert all(res[k] is None for k in ("rot_err", "trans_err", "cam_mc", "ate"))
    assert res["cameras"] is None and not (tmp_path / "cameras.json").exists()
    assert res["config"]["max_features"] == 256
    assert "failed" in capsys.readouterr().out


def test_bad_inputs_are_named_errors(tmp_path, clip, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    with pytest.raises(VideoError, match="broken.mp4"):
        evaluate_camera(bad, clip / "cameras.json")
    # the command prints one line and exits 1
    assert (
        main(
            [
                "eval",
                "camera",
                "--video",
                str(bad),
                "--gt",
                str(clip / "cameras.json"),
                "--out",
                str(tmp_path / "o.json"),
            ]
        )
        == 1
    )
    assert "broken.mp4" in capsys.readouterr().err and not (tmp_path / "o.json").exists()

    assert (
        main(
            [
                "eval",
                "camera",
                "--frames",
                str(tmp_path / "no_frames"),
                "--gt",
                str(clip / "cameras.json"),
                "--out",
                str(tmp_path / "o.json"),
            ]
        )
        == 1
    )
    assert "no_frames" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a video or a frame folder, not both
        main(["eval", "camera", "--video", str(bad), "--frames", str(tmp_path), "--gt", "g", "--out", "o"])

    frame = np.full((64, 64, 3), 128, np.uint8)
    write_video(tmp_path / "one.mp4", frame[None])
    with pytest.raises(VideoError, match="at least 2 frames"):
        evaluate_camera(tmp_path / "one.mp4", clip / "cameras.json")

    with pytest.raises(CameraError, match=f"one camera per frame.*{FRAMES - 1}"):
        evaluate_camera(clip / "clip.mp4", _subset(clip / "cameras.json", tmp_path / "short.json", FRAMES - 1))

    data = json.loads((clip / "cameras.json").read_text())
    data["frames"][3]["transform_matrix"][0][0] = float("nan")
    (tmp_path / "nan.json").write_text(json.dumps(data).replace("NaN", "NaN"))
    with pytest.raises(CameraError, match=r"frames\[3\].transform_matrix.*finite"):
        evaluate_camera(clip / "clip.mp4", tmp_path / "nan.json")
    assert (
        main(
            [
                "eval",
                "poses",
                "--pred",
                str(tmp_path / "nan.json"),
                "--gt",
                str(clip / "cameras.json"),
                "--out",
                str(tmp_path / "p.json"),
            ]
        )
        == 1
    )

    assert (
        main(
            [
                "eval",
                "poses",
                "--pred",
                str(_subset(clip / "cameras.json", tmp_path / "s.json", 5)),
                "--gt",
                str(clip / "cameras.json"),
                "--out",
                str(tmp_path / "p.json"),
            ]
        )
        == 1
    )
    assert "5" in capsys.readouterr().err


def _subset(src, dst, n):
    traj = read_cameras(src)
    write_cameras(dst, traj.subset(range(n)))
    return dst


def test_partial_registration_and_trial_records():
    """min_registered: metrics over the registered frames, with the reason saying so."""
    from lionlora.eval.camera.evaluate import _trial_record
    from lionlora.eval.camera.sfm import SfmTrial

    K = Intrinsics.from_fov(60.0, 64, 48)
    c2w = interpolate_poses(
        look_at([0, 0, 0], [0, 0, 5], DOWN), look_at([1, 0, 0], [0, 0, 5], DOWN), np.linspace(0, 1, 6)
    )
    gt = Trajectory(c2w, K)
    registered = np.array([False, True, True, True, False, True])
    pred = c2w.copy()
    pred[~registered] = np.eye(4)  # what an unregistered frame holds; never used
    trial = SfmTrial(seed=3, c2w=pred, registered=registered)
    full = _trial_record(trial, gt, CameraEvalConfig(), "gt.json", "v.mp4")
    assert full["status"] == "failed" and full["reason"] == "SfM registered 4 of 6 frames (6 required)"
    part = _trial_record(trial, gt, CameraEvalConfig(min_registered=4), "gt.json", "v.mp4")
    assert part["status"] == "ok" and part["reason"] == "metrics over the 4 registered frames of 6"
    assert part["rot_err"] == pytest.approx(0.0, abs=1e-9) and part["ate"] == pytest.approx(0.0, abs=1e-9)
    assert CameraEvalConfig(min_registered=1).required_frames(6) == 2


def test_trials_stop_once_two_agree(clip):
    """With a loose tolerance the second successful trial agrees with the first: 2 of 4 run."""
    res = evaluate_camera(clip / "clip.mp4", clip / "cameras.json", CameraEvalConfig(trials=4, trials_agree=0.9))
    assert res["status"] == "ok" and res["trials_run"] == len(res["trials"]) == 2
    assert [t["seed"] for t in res["trials"]] == [0, 1]
    assert res["config"]["trials"] == 4


def test_trials_agree_rule():
    from lionlora.eval.camera.evaluate import trials_agree

    def rec(rot, trans, status="ok"):
        return {"status": status, "rot_err": rot, "trans_err": trans}

    failed = {"status": "failed", "rot_err": None, "trans_err": None}
    assert not trials_agree([rec(1.0, 2.0)], 0.1)  # one trial agrees with nothing
    assert trials_agree([rec(1.0, 2.0), rec(1.05, 1.9)], 0.1)  # 0.05 <= 0.105, 0.1 <= 0.2
    assert not trials_agree([rec(1.0, 2.0), rec(1.05, 1.7)], 0.1)  # TransErr 0.3 > 0.2
    assert not trials_agree([rec(1.0, 2.0), rec(1.0, 2.0)], 0.0)  # 0: never stop early
    assert trials_agree([rec(1.0, 2.0), failed, rec(5.0, 5.0), rec(1.02, 2.02)], 0.1)  # with the first
    assert not trials_agree([rec(1.0, 2.0), rec(1.0, 2.0), failed], 0.1)  # the newest failed: go on


def test_source_frames_score_what_a_generated_video_shows(tmp_path, clip, capsys):
    """`--source-frames`: the clip frames that a generated video's GT cameras list, at their size."""
    from lionlora.apps.generate import write_gt_cameras
    from lionlora.eval.camera.evaluate import shown_frames
    from lionlora.io.video import load_frames, resize_cover

    # a 10-frame 200x240 video at S = 0.5: cameras of frames 0, 1, ..., 9 of the 20 (first half)
    gt = write_gt_cameras(clip / "cameras.json", tmp_path / "gen" / "clip.mp4", 0.5, 10, 200, 240, {"primitive": "p"})
    meta = read_cameras(gt).metadata
    assert meta["source_frames"] == list(range(10))
    shown = shown_frames(clip / "frames", gt)
    assert shown.shape == (10, 200, 240, 3)
    np.testing.assert_array_equal(shown, resize_cover(load_frames(clip / "frames")[:10], 200, 240))
    # the mp4 gives its decoded frames, picked in one pass
    np.testing.assert_array_equal(
        shown_frames(clip / "clip.mp4", gt), resize_cover(load_frames(clip / "clip.mp4")[:10], 200, 240)
    )

    res = evaluate_camera(clip / "frames", gt, CameraEvalConfig(trials=1), source_frames=True)
    assert res["status"] == "ok" and res["n_frames"] == 10 and res["registered"] == 10
    assert res["primitive"] == "p" and res["rot_err"] < FLOOR["rot_err"]

    # a GT without source_frames (a clip's own cameras) is a named error, one line from the CLI
    with pytest.raises(CameraError, match="metadata.source_frames"):
        evaluate_camera(clip / "clip.mp4", clip / "cameras.json", source_frames=True)
    two = read_cameras(clip / "cameras.json").subset([0, 1])
    write_cameras(tmp_path / "far.json", two, metadata={"source_frames": [0, 20]})  # 20 frames: 0-19
    with pytest.raises(CameraError, match=r"metadata.source_frames.*into the 20 frames of .*clip.mp4"):
        evaluate_camera(clip / "clip.mp4", tmp_path / "far.json", source_frames=True)
    args = ["eval", "camera", "--video", str(clip / "clip.mp4"), "--gt", str(clip / "cameras.json")]
    assert main([*args, "--out", str(tmp_path / "r.json"), "--source-frames"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "source_frames" in err and "cameras.json" in err
    assert not (tmp_path / "r.json").exists()
