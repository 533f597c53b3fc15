"""Motion and camera linearity (Pearson of S vs magnitude), the figures, and the RAFT flow option."""

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

from lionlora.cli import main
from lionlora.errors import ConfigError, DependencyError, InputError
from lionlora.eval.quality.config import MotionConfig
from lionlora.eval.quality.figures import plot_correlation_vs_step, plot_magnitude_vs_scale
from lionlora.eval.quality.motion import camera_linearity, linear_fit, motion_linearity
from lionlora.flow import FLOW_BACKENDS, FlowConfig, raft_flow
from lionlora.geometry import Intrinsics, Trajectory, look_at
from lionlora.io.cameras_json import write_cameras
from lionlora.io.files import write_json
from lionlora.io.video import write_video
from tests.test_flow import translating

SMALL_FLOW = {"flow": {"height": 96, "width": 144}}


def motion_set(folder, scales, px_per_unit_s=8, extra_rows=()):
    """Videos whose translation speed is px_per_unit_s * S pixels per frame, and their manifest."""
    rows = []
    for i, s in enumerate(scales):
        name = f"s{i}.mp4"
        write_video(folder / name, translating(int(round(px_per_unit_s * s)), t=8, h=96, w=144))
        rows.append((name, s))
    rows += list(extra_rows)
    pd.DataFrame(rows, columns=["video", "scale"]).to_csv(folder / "manifest.csv", index=False)
    return folder / "manifest.csv"


def test_linear_fit_known_answer_and_errors():
    s = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    fit = linear_fit(s, 3.0 * s + 0.5)
    assert fit["pearson_r"] == pytest.approx(1.0) and fit["n"] == 5
    assert fit["slope"] == pytest.approx(3.0) and fit["intercept"] == pytest.approx(0.5)
    assert linear_fit(s, -s)["pearson_r"] == pytest.approx(-1.0)
    with pytest.raises(InputError, match="at least 3"):
        linear_fit(s[:2], s[:2])
    with pytest.raises(InputError, match="distinct scale"):
        linear_fit(np.ones(4), np.arange(4.0))
    with pytest.raises(InputError, match="vary"):
        linear_fit(s, np.ones(5))


def test_motion_pearson_of_speed_proportional_to_s(tmp_path):
    scales = [0.25, 0.375, 0.5, 0.625, 0.75, 1.0]
    manifest = motion_set(tmp_path, scales, extra_rows=[("missing.mp4", 0.5)])
    out = tmp_path / "eval" / "token" / "motion.json"
    rec = motion_linearity(manifest, out, MotionConfig(**{"flow": FlowConfig(**SMALL_FLOW["flow"])}), step=500)
    assert rec["pearson_r"] >= 0.99 and rec["n"] == 6 and rec["n_failed"] == 1
    assert rec["slope"] == pytest.approx(8.0, rel=0.05)  # 8 px per frame per unit S at analysis size
    assert abs(rec["intercept"]) < 0.3 and rec["p_value"] < 1e-3
    assert (rec["label"], rec["step"]) == ("token", 500)
    saved = json.loads(out.read_text())
    assert {"pearson_r", "p_value", "n", "slope", "intercept"} <= set(saved)
    per_video = pd.read_csv(tmp_path / "eval" / "token" / "motion_per_video.csv")
    assert list(per_video["status"]) == ["ok"] * 6 + ["failed"]
    assert "missing.mp4" in per_video["reason"].iloc[-1]
    np.testing.assert_allclose(per_video["magnitude"][:6], np.array(scales) * 8, rtol=0.05)


def test_motion_cli_and_bad_manifests(tmp_path, capsys):
    manifest = motion_set(tmp_path, [0.25, 0.5, 1.0])
    out = tmp_path / "m.json"
    assert (
        main(
            [
                "eval",
                "motion",
                "--manifest",
                str(manifest),
                "--out",
                str(out),
                "--flow-backend",
                "farneback",
                "--set",
                "flow.height=96",
                "--set",
                "flow.width=144",
                "--label",
                "adapter",
            ]
        )
        == 0
    )
    rec = json.loads(out.read_text())
    assert rec["flow_backend"] == "farneback" and rec["label"] == "adapter" and rec["n"] == 3
    assert "Pearson r" in capsys.readouterr().out
    (tmp_path / "bad.csv").write_text("clip,scale\na.mp4,0.5\n")
    assert main(["eval", "motion", "--manifest", str(tmp_path / "bad.csv"), "--out", str(out)]) == 1
    assert "'video'" in capsys.readouterr().err
    (tmp_path / "bad.csv").write_text("video,scale\na.mp4,big\n")
    assert main(["eval", "motion", "--manifest", str(tmp_path / "bad.csv"), "--out", str(out)]) == 1
    assert "scale (row 1)" in capsys.readouterr().err
    # too few readable videos: the per-video CSV is still written, the summary is an error
    (tmp_path / "few.csv").write_text("video,scale\ns0.mp4,0.25\nnope.mp4,0.5\ns2.mp4,1.0\n")
    assert main(["eval", "motion", "--manifest", str(tmp_path / "few.csv"), "--out", str(tmp_path / "few.json")]) == 1
    assert "at least 3" in capsys.readouterr().err
    # no correlation: nothing is written (issue 14); the failed video's reason was logged as a warning
    assert not (tmp_path / "few_per_video.csv").exists() and not (tmp_path / "few.json").exists()
    assert (tmp_path / "few.csv").read_text().startswith("video,scale\ns0.mp4")  # the input is untouched
    assert main(["eval", "motion", "--manifest", str(manifest), "--out", str(manifest)]) == 1
    assert "overwrite the manifest" in capsys.readouterr().err


def sideways(length, n=9, yaw_deg=0.0):
    """Cameras moving `length` along x while turning `yaw_deg` in total."""
    poses = []
    for _i, a in enumerate(np.linspace(0, 1, n)):
        eye = np.array([length * a, 0.0, 0.0])
        yaw = np.deg2rad(yaw_deg * a)
        poses.append(look_at(eye, eye + [np.sin(yaw), 0.0, np.cos(yaw)], np.array([0.0, 1.0, 0.0])))
    return Trajectory(np.stack(poses), Intrinsics(100, 100, 64, 48, 128, 96))


def test_camera_linearity_from_eval_camera_outputs(tmp_path):
    rows = []
    for i, s in enumerate([0.2, 0.4, 0.6, 1.0]):
        # eval camera's layout: cameras.json beside the result, which names it in `cameras`
        write_cameras(tmp_path / f"v{i}" / "cameras.json", sideways(2.0 * s, yaw_deg=30.0 * s))
        write_json(tmp_path / f"v{i}" / "camera.json", {"status": "ok", "reason": "", "rot_err": 0.1})
        if i == 0:  # a flat result pointing at its cameras elsewhere (--cameras)
            (tmp_path / "v0" / "camera.json").unlink()
            write_json(tmp_path / "v0.json", {"status": "ok", "cameras": "v0/cameras.json"})
        rows.append(("v0.json" if i == 0 else f"v{i}/camera.json", s))
    write_json(tmp_path / "v9.json", {"status": "failed", "reason": "SfM registered 3 of 49 frames"})
    rows.append(("v9.json", 0.8))
    write_json(tmp_path / "v8" / "camera.json", {"status": "ok", "cameras": "cameras.json"})  # cameras lost
    rows.append(("v8/camera.json", 0.5))
    write_cameras(tmp_path / "direct.json", sideways(1.6, yaw_deg=24.0))
    rows.append(("direct.json", 0.8))
    pd.DataFrame(rows, columns=["camera", "scale"]).to_csv(tmp_path / "cams.csv", index=False)

    rec = camera_linearity(tmp_path / "cams.csv", tmp_path / "out" / "camera.json")
    assert rec["n"] == 5 and rec["n_failed"] == 2 and rec["pearson_r"] == pytest.approx(1.0)
    assert rec["slope"] == pytest.approx(2.0) and rec["intercept"] == pytest.approx(0.0, abs=1e-9)
    per_video = pd.read_csv(tmp_path / "out" / "camera_per_video.csv")
    reasons = per_video.loc[per_video["status"] == "failed", "reason"].tolist()
    assert any("registered 3 of 49" in r for r in reasons) and any("v8/cameras.json missing" in r for r in reasons)
    assert (
        main(
            [
                "eval",
                "camera-linearity",
                "--manifest",
                str(tmp_path / "cams.csv"),
                "--out",
                str(tmp_path / "rot.json"),
                "--measure",
                "rotation",
            ]
        )
        == 0
    )
    rot = json.loads((tmp_path / "rot.json").read_text())
    assert rot["slope"] == pytest.approx(30.0, rel=1e-6) and rot["units"] == "degrees"


def test_figures(tmp_path):
    inputs = []
    for label, slope, rs in (("scaling token", 8.0, [0.6, 0.9, 0.98]), ("adapter scale", 1.0, [0.1, 0.2, 0.15])):
        for step, r in zip([100, 200, 400], rs):
            d = tmp_path / f"{label}-{step}"
            d.mkdir()
            pd.DataFrame(
                {
                    "video": ["a", "b", "c"],
                    "scale": [0.2, 0.6, 1.0],
                    "magnitude": [0.2 * slope, 0.6 * slope, 1.0 * slope],
                    "status": ["ok"] * 3,
                    "reason": [""] * 3,
                }
            ).to_csv(d / "motion_per_video.csv", index=False)
            write_json(
                d / "motion.json",
                {
                    "pearson_r": r,
                    "p_value": 0.1,
                    "n": 3,
                    "slope": slope,
                    "intercept": 0.0,
                    "label": label,
                    "step": step,
                    "magnitude": "optical-flow magnitude",
                    "units": "px/frame",
                },
            )
            inputs.append(d / "motion.json")
    import matplotlib.image as mpimg

    for fn, name in ((plot_correlation_vs_step, "fig6.png"), (plot_magnitude_vs_scale, "fig10.png")):
        png = fn(inputs if name == "fig6.png" else inputs[2::3], tmp_path / name)
        img = mpimg.imread(png)
        assert img.ndim == 3 and img.shape[0] > 300 and img[..., :3].std() > 0.05
    bad = tmp_path / "nostep.json"
    write_json(bad, {"pearson_r": 0.5, "p_value": 0.1, "n": 3, "slope": 1.0, "intercept": 0.0})
    with pytest.raises(InputError, match="step"):
        plot_correlation_vs_step([bad], tmp_path / "x.png")
    write_json(bad, {"pearson_r": "high"})
    with pytest.raises(InputError, match="pearson_r"):
        plot_magnitude_vs_scale([bad], tmp_path / "x.png")
    assert main(["eval", "figures", "fig6", "--inputs", *map(str, inputs), "--out", str(tmp_path / "cli.png")]) == 0


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is not None, reason="torchvision is installed")
def test_raft_without_torchvision_is_a_dependency_error():
    assert "raft" not in FLOW_BACKENDS
    with pytest.raises(DependencyError, match="torchvision.*pip install"):
        FlowConfig(backend="raft")
    with pytest.raises(DependencyError, match="torchvision"):
        MotionConfig(flow=FlowConfig(backend="raft"))


def test_raft_adapter_with_a_stand_in_model():
    import torch

    seen = []

    def model(a, b):  # RAFT's call: two [B, 3, H, W] images in [-1, 1] -> list of [B, 2, H, W] refinements
        seen.append((a, b))
        final = torch.zeros(1, 2, *a.shape[2:])
        final[:, 0], final[:, 1] = 3.0, -4.0
        return [torch.zeros_like(final), final]

    prev = np.zeros((16, 24), dtype=np.uint8)
    nxt = np.full((16, 24), 255, dtype=np.uint8)
    flow = raft_flow(model, prev, nxt)
    assert flow.shape == (16, 24, 2) and flow.dtype == np.float32
    assert np.linalg.norm(flow, axis=2).mean() == pytest.approx(5.0)
    a, b = seen[0]
    assert a.shape == (1, 3, 16, 24) and float(a.min()) == -1.0 and float(b.max()) == 1.0
    if "raft" in FLOW_BACKENDS:
        with pytest.raises(ConfigError, match="multiples of 8"):
            FlowConfig(backend="raft", height=100, width=150)
