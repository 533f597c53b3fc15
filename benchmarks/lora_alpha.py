"""Stability of LoRA training against the scale alpha / rank at the paper's lr 5e-4, on the tiny model.

The paper trains rank-256 LoRAs at lr 5e-4 and does not state alpha. This script trains one
rank-256 adapter (attention + FFN, scaling token) of the demo's tiny random-init CogVideoX I2V on
a fixed random batch with the training loss (``lionlora.apps.train.diffusion_loss``), AdamW with
CogVideoX's fine-tuning betas (0.9, 0.95), weight decay 1e-4 and gradient clipping at 1, for each
alpha, and prints the loss at the start, its maximum, the mean of the last steps and the relative
size of the learned update ``||Delta W|| / ||W||`` of the first block's q projection. Run::

    .venv/bin/python benchmarks/lora_alpha.py [--steps N] [--alphas 1,16,256]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import torch
from train_step import make_batch

from lionlora.apps.demo_model import SCHEDULER_CONFIG
from lionlora.apps.train import diffusion_loss
from lionlora.lora.config import AdapterConfig
from lionlora.lora.fusion import ActiveAdapter
from lionlora.lora.inject import lora_layers
from lionlora.lora.lion import LionLoRA


def run(model_dir: Path, alpha: float, rank: int, lr: float, steps: int) -> dict:
    from diffusers import CogVideoXDDIMScheduler

    from lionlora.apps.model import load_pipeline

    torch.manual_seed(0)
    pipe = load_pipeline(model_dir, device="cpu")
    lion = LionLoRA(pipe.transformer)
    lion.add_adapter(AdapterConfig(name="a", rank=rank, lora_alpha=alpha, fourier_freqs=4, s_min=0.1))
    params = lion.trainable("a", torch.float32)
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
    scheduler = CogVideoXDDIMScheduler(**SCHEDULER_CONFIG)
    batch, rope = make_batch(dict(pipe.transformer.config), 3, 2, torch.device("cpu"), torch.float32)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(steps):
        with lion.activate([ActiveAdapter("a", scale=torch.tensor([0.5, 1.0]))]):
            loss = diffusion_loss(lion, scheduler, batch, gen, rope)
            loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    layer = lora_layers(lion.transformer)["transformer_blocks.0.attn1.to_q"]
    delta = layer.scaling["a"] * layer.lora_B["a"].weight @ layer.lora_A["a"].weight
    tail = losses[-max(1, steps // 10) :]
    return {
        "first": losses[0],
        "max": max(losses),
        "last": sum(tail) / len(tail),
        "finite": all(math.isfinite(v) for v in losses),
        "update": float(delta.detach().norm() / layer.base_layer.weight.norm()),
    }


def main() -> None:
    from lionlora.apps.demo_model import save_tiny_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rank", type=int, default=256)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--alphas", default="1,16,256")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        save_tiny_model(Path(tmp) / "tiny")
        print(f"tiny model, rank {args.rank}, lr {args.lr}, {args.steps} steps (noise and timesteps drawn per step)")
        print("| alpha | scale | first loss | max loss | mean of last 10% | finite | ||dW||/||W|| (block 0 q) |")
        print("|---|---|---|---|---|---|---|")
        for alpha in (float(a) for a in args.alphas.split(",")):
            r = run(Path(tmp) / "tiny", alpha, args.rank, args.lr, args.steps)
            print(
                f"| {alpha:g} | {alpha / args.rank:.4g} | {r['first']:.4f} | {r['max']:.4f} | {r['last']:.4f} | "
                f"{r['finite']} | {r['update']:.3g} |"
            )


if __name__ == "__main__":
    main()
