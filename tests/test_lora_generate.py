"""Inference on the tiny model (same seed, same video; baselines; GT cameras) and the analyses."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lionlora.apps.generate import GenerateConfig, LoraSpec, VideoGenerator, generate_to_file
from lionlora.lora.config import AdapterConfig
from lionlora.lora.io import save_adapter
from lionlora.lora.lion import LionLoRA

pytestmark = pytest.mark.usefixtures("torch_single_thread")


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory):
    """Two random adapters 'dolly_in' and 'orbit_left', and 'orbit_twice' = orbit_left with B x 2."""
    from diffusers import CogVideoXTransformer3DModel

    root = tmp_path_factory.mktemp("adapters")
    lion = LionLoRA(CogVideoXTransformer3DModel.from_pretrained(tiny_model_dir / "transformer"))
    gen = torch.Generator().manual_seed(0)
    for name in ("dolly_in", "orbit_left", "orbit_twice"):
        lion.add_adapter(AdapterConfig(name=name, rank=4, s_min=0.25, fourier_freqs=4))
    for name in ("dolly_in", "orbit_left"):
        for p in lion.adapter_parameters(name).values():
            p.data = torch.randn(p.shape, generator=gen) * 0.5
    for (key, p), q in zip(
        lion.adapter_parameters("orbit_twice").items(), lion.adapter_parameters("orbit_left").values()
    ):
        p.data = q.data * (2.0 if key.endswith("lora_B.weight") else 1.0)
    for name in ("dolly_in", "orbit_left", "orbit_twice"):
        save_adapter(lion, name, root / name)
    return root


@pytest.fixture(scope="module")
def image():
    y, x = np.mgrid[0:40, 0:60]
    return np.stack([x * 4, y * 6, (x + y) * 2], axis=-1).astype(np.uint8)


def specs(root, *items):
    return [LoraSpec(n, root / n, s) for n, s in items]


def test_same_seed_same_video_and_baselines(tiny_model_dir, adapters, image):
    cfg = GenerateConfig(model=str(tiny_model_dir), steps=2, seed=7)
    two = specs(adapters, ("dolly_in", 0.5), ("orbit_left", 1.0))
    lion_a = VideoGenerator(cfg, two)(image, "the camera moves forward")
    lion_b = VideoGenerator(cfg, two)(image, "the camera moves forward")  # a fresh pipeline
    assert lion_a.shape == (9, 32, 48, 3) and lion_a.dtype == np.uint8
    assert np.array_equal(lion_a, lion_b)
    other_seed = VideoGenerator(GenerateConfig(model=str(tiny_model_dir), steps=2, seed=8), two)(
        image, "the camera moves forward"
    )
    assert not np.array_equal(lion_a, other_seed)
    for variant in (dict(fusion="vanilla"), dict(adapter_scale=True)):
        video = VideoGenerator(GenerateConfig(model=str(tiny_model_dir), steps=2, seed=7, **variant), two)(
            image, "the camera moves forward"
        )
        assert video.shape == lion_a.shape and not np.array_equal(video, lion_a)


def test_generate_to_file_writes_video_record_and_gt_cameras(tiny_model_dir, adapters, image, tmp_path):
    from lionlora.geometry import Intrinsics, Trajectory
    from lionlora.io.cameras_json import read_cameras, write_cameras
    from lionlora.io.video import read_video, write_image

    c2w = np.tile(np.eye(4), (40, 1, 1))
    c2w[:, 2, 3] = np.arange(40) * 0.1  # dolly in along +z
    write_cameras(
        tmp_path / "gt.json", Trajectory(c2w, Intrinsics(50, 50, 30, 20, 60, 40)), metadata={"primitive": "dolly_in"}
    )
    write_image(tmp_path / "first.png", image)
    out = tmp_path / "gen" / "clip.mp4"
    rec = generate_to_file(
        GenerateConfig(model=str(tiny_model_dir), steps=2),
        tmp_path / "first.png",
        "x",
        specs(adapters, ("dolly_in", 0.5)),
        out,
        cameras=tmp_path / "gt.json",
    )
    assert read_video(out).shape == (9, 32, 48, 3)
    assert json.loads(out.with_suffix(".json").read_text())["loras"][0]["scale"] == 0.5 == rec["cameras"]["scale"]
    gt = read_cameras(out.parent / "cameras.json")
    assert len(gt) == 9 and gt.metadata["primitive"] == "dolly_in"
    assert gt.metadata["source_frames"] == [0, 2, 5, 7, 10, 12, 14, 17, 19]  # linspace(0, 19, 9): 20 = 40 * 0.5
    np.testing.assert_allclose(gt.centers[:, 2], np.array(gt.metadata["source_frames"]) * 0.1)
    assert (gt.intrinsics.width, gt.intrinsics.height) == (48, 32) and gt.intrinsics.fx == pytest.approx(40.0)


def test_analyze_known_answers(tiny_model_dir, adapters, image, tmp_path):
    """orbit_twice = orbit_left with B x 2: cosine 1 and twice the norm in every block."""
    import pandas as pd

    from lionlora.cli import main
    from lionlora.io.video import write_image

    write_image(tmp_path / "a.png", image)
    loras = [f"{n}={adapters / n}" for n in ("dolly_in", "orbit_left", "orbit_twice")]
    loras[0] += ":0.5"  # an S suffix is accepted and ignored
    assert (
        main(
            [
                "-q",
                "analyze",
                "--model",
                str(tiny_model_dir),
                "--image",
                str(tmp_path / "a.png"),
                "--set",
                "timesteps=[300, 700]",
                "--out",
                str(tmp_path / "out"),
                *[a for lora in loras for a in ("--lora", lora)],
            ]
        )
        == 0
    )
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    sims = pd.read_csv(tmp_path / "out" / "similarity.csv")
    norms = pd.read_csv(tmp_path / "out" / "norms.csv")
    assert len(sims) == 2 * 2 * 3 and len(norms) == 2 * 2 * 3  # samples x blocks x (pairs | adapters)
    same = sims[(sims.lora_a == "orbit_left") & (sims.lora_b == "orbit_twice")]
    np.testing.assert_allclose(same.cosine, 1.0, atol=1e-5)
    assert (sims.cosine.abs() <= 1 + 1e-6).all()
    wide = norms.pivot_table(index=["sample", "block"], columns="lora", values="norm")
    np.testing.assert_allclose(wide.orbit_twice / wide.orbit_left, 2.0, rtol=1e-5)
    assert summary["samples"] == 2 and "cosine_shallow_mean" in summary
    assert (tmp_path / "out" / "similarity.png").is_file() and (tmp_path / "out" / "norms.png").is_file()


def test_guidance_with_identical_prompts_is_refused(tiny_model_dir, adapters, image, tmp_path, capsys):
    """CFG 6 with an empty prompt and an empty negative prompt guides nothing: a ConfigError that
    says why, before any model is loaded; cfg 1 or a real prompt is fine."""
    from lionlora.apps.generate import check_guidance
    from lionlora.cli import main
    from lionlora.errors import ConfigError
    from lionlora.io.video import write_image

    with pytest.raises(ConfigError, match="guidance does nothing"):
        check_guidance(GenerateConfig(cfg=6.0), "")
    with pytest.raises(ConfigError, match="cfg 2.0 with prompt and negative prompt both 'blurry'"):
        check_guidance(GenerateConfig(cfg=2.0, negative_prompt="blurry"), " blurry")
    check_guidance(GenerateConfig(cfg=1.0), "")
    check_guidance(GenerateConfig(cfg=6.0), "a room")
    write_image(tmp_path / "first.png", image)
    argv = ["-q", "generate", "--model", str(tiny_model_dir), "--image", str(tmp_path / "first.png")]
    argv += ["--prompt", "", "--lora", f"dolly_in={adapters / 'dolly_in'}:0.5", "--out", str(tmp_path / "v.mp4")]
    assert main(argv) != 0
    assert "guidance does nothing" in capsys.readouterr().err and not (tmp_path / "v.mp4").exists()


def test_a_batch_writes_what_one_call_per_video_writes(tiny_model_dir, adapters, image, tmp_path):
    """`generate --video ...` (one model, each adapter loaded once) gives every video, record and GT
    camera file that `generate` gives for that video alone: same frames, same cameras."""
    from lionlora.cli import main
    from lionlora.geometry import Intrinsics, Trajectory
    from lionlora.io.cameras_json import read_cameras, write_cameras
    from lionlora.io.video import read_video, write_image

    c2w = np.tile(np.eye(4), (40, 1, 1))
    c2w[:, 0, 3] = np.arange(40) * 0.05
    write_cameras(tmp_path / "gt.json", Trajectory(c2w, Intrinsics(50, 50, 30, 20, 60, 40)))
    write_image(tmp_path / "a.png", image)
    write_image(tmp_path / "b.png", image[::-1].copy())
    dolly, orbit = (f"{n}={adapters / n}" for n in ("dolly_in", "orbit_left"))
    common = [
        "-q",
        "generate",
        "--model",
        str(tiny_model_dir),
        "--steps",
        "2",
        "--seed",
        "3",
    ]
    videos = {  # name -> fields of its --video
        "one": [f"lora={dolly}:0.5", f"cameras={tmp_path / 'gt.json'}"],
        "fused": [f"lora={dolly}:1.0", f"lora={orbit}:0.5", f"image={tmp_path / 'b.png'}"],
        "base": ["prompt=another prompt", f"cameras={tmp_path / 'gt.json'}"],
    }
    weight = ["--weight", "dolly_in=0.7"]  # for every video with dolly_in
    batch = common + weight + ["--image", str(tmp_path / "a.png"), "--prompt", "the camera moves"]
    for name, fields in videos.items():
        batch += ["--video", f"out={tmp_path / 'batch' / name / 'clip.mp4'}", *fields]
    assert main(batch) == 0
    for name, fields in videos.items():
        kv = dict(f.split("=", 1) for f in fields if not f.startswith("lora="))
        alone = common + ["--image", kv.get("image", str(tmp_path / "a.png"))]
        alone += [
            "--prompt",
            kv.get("prompt", "the camera moves"),
            "--out",
            str(tmp_path / "alone" / name / "clip.mp4"),
        ]
        alone += [a for f in fields if f.startswith("lora=") for a in ("--lora", f[5:])]
        alone += ["--cameras", kv["cameras"]] if "cameras" in kv else []
        alone += weight if any("dolly_in" in f for f in fields) else []
        assert main(alone) == 0, name
        a, b = (tmp_path / d / name for d in ("batch", "alone"))
        assert np.array_equal(read_video(a / "clip.mp4"), read_video(b / "clip.mp4")), name
        ra, rb = (json.loads((d / "clip.json").read_text()) for d in (a, b))
        assert {k: v for k, v in ra.items() if k != "seconds"} == {k: v for k, v in rb.items() if k != "seconds"}
        assert (a / "cameras.json").exists() == ("cameras" in kv) == (b / "cameras.json").exists()
        if "cameras" in kv:
            np.testing.assert_array_equal(read_cameras(a / "cameras.json").c2w, read_cameras(b / "cameras.json").c2w)
    fused = json.loads((tmp_path / "batch" / "fused" / "clip.json").read_text())["loras"]
    assert [(x["name"], x["scale"], x["weight"]) for x in fused] == [("dolly_in", 1.0, 0.7), ("orbit_left", 0.5, 1.0)]
    # the three videos differ: each had its own adapters (or none), image or prompt
    frames = [read_video(tmp_path / "batch" / n / "clip.mp4") for n in videos]
    assert not np.array_equal(frames[0], frames[1]) and not np.array_equal(frames[0], frames[2])
