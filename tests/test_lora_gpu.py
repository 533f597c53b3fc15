"""The production engine: CUDA, bf16, gradient checkpointing; and the real CogVideoX-5B-I2V weights.

Skipped without CUDA (``gpu``) or without ``LIONLORA_WEIGHTS/CogVideoX-5b-I2V`` (``weights``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from lionlora.apps.generate import GenerateConfig, LoraSpec, VideoGenerator
from lionlora.apps.train import TrainConfig, train
from lionlora.lora.config import AdapterConfig
from lionlora.lora.io import read_adapter


@pytest.mark.gpu
def test_cuda_bf16_training_and_generation(tiny_model_dir, tiny_pairs, tmp_path):
    out = tmp_path / "pan"
    summary = train(
        TrainConfig(
            model=str(tiny_model_dir),
            manifest=tiny_pairs,
            lora="pan",
            out=out,
            adapter=AdapterConfig(rank=4, fourier_freqs=4),
            steps=4,
            learning_rate=1e-2,
            warmup_steps=0,
            batch_size=2,
            checkpoint_every=2,
            gradient_checkpointing=True,
            device="cuda",
            mixed_precision="bf16",
            eval_pairs=2,
        )
    )
    assert np.isfinite(summary["final_loss"]) and np.isfinite(summary["eval_loss_after"])
    cfg, tensors, _ = read_adapter(out)
    assert all(np.isfinite(t.float().numpy()).all() for t in tensors.values())
    image = np.full((32, 48, 3), 128, np.uint8)
    gen_cfg = GenerateConfig(model=str(tiny_model_dir), steps=2, device="cuda", dtype="bfloat16")
    spec = [LoraSpec("pan", out, 0.7)]
    a = VideoGenerator(gen_cfg, spec)(image, "x")
    b = VideoGenerator(gen_cfg, spec)(image, "x")
    assert a.shape == (9, 32, 48, 3) and np.array_equal(a, b)


def _real_model() -> Path:
    path = Path(os.environ.get("LIONLORA_WEIGHTS", "")) / "CogVideoX-5b-I2V"
    if not (path / "model_index.json").is_file():
        pytest.skip(f"no CogVideoX-5b-I2V pipeline at {path}")
    return path


@pytest.mark.gpu
@pytest.mark.weights
def test_real_model_takes_a_fused_pair_of_adapters(tmp_path):
    """The 5B-I2V pipeline loads through the same code, takes two adapters and makes 9 frames."""
    import torch

    from lionlora.apps.model import load_pipeline
    from lionlora.lora.config import AdapterConfig
    from lionlora.lora.io import save_adapter
    from lionlora.lora.lion import LionLoRA

    model = _real_model()
    pipe = load_pipeline(model, dtype="bfloat16", device="cuda")
    lion = LionLoRA(pipe.transformer)
    for name in ("dolly_in", "orbit_left"):
        lion.add_adapter(AdapterConfig(name=name, rank=4, block_stop=4))
        save_adapter(lion, name, tmp_path / name)
    del lion, pipe
    torch.cuda.empty_cache()
    gen = VideoGenerator(
        GenerateConfig(model=str(model), steps=2, frames=9),
        [LoraSpec("dolly_in", tmp_path / "dolly_in", 1.0), LoraSpec("orbit_left", tmp_path / "orbit_left", 0.5)],
    )
    video = gen(np.full((480, 720, 3), 128, np.uint8), "a room")
    assert video.shape == (9, 480, 720, 3)
