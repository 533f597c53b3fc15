"""Benchmark of one LiON-LoRA training step: time and peak memory.

Two configurations:

* ``tiny`` (always): the demo's tiny random-init CogVideoX I2V (2 blocks, width 32, 9 frames at
  32x48), rank 4, on CPU, with 1 and 2 intra-op threads;
* ``5b`` (where CUDA exists, or with ``--gpu``): a transformer with CogVideoX-5B-I2V's
  configuration (random init, bf16 weights, fp32 LoRA, bf16 autocast, gradient checkpointing),
  49 frames at 480x720 -> 13x60x90 latents (17 550 video + 226 text tokens), LoRA rank 256 on the
  six linear layers of all 42 blocks plus the scaling token, batch 1 per forward pass.

Without CUDA the ``5b`` part prints analytic figures instead: exact parameter counts (the model
is built on the meta device), a memory estimate and the FLOPs of a step. Run::

    .venv/bin/python benchmarks/train_step.py [--steps N] [--gpu] [--rank R]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import torch

from lionlora.apps.demo_model import SCHEDULER_CONFIG
from lionlora.apps.train import diffusion_loss
from lionlora.lora.config import AdapterConfig
from lionlora.lora.fusion import ActiveAdapter
from lionlora.lora.lion import LionLoRA

# The transformer of THUDM/CogVideoX-5b-I2V (its transformer/config.json).
COGVIDEOX_5B_I2V = dict(
    num_attention_heads=48,
    attention_head_dim=64,
    in_channels=32,
    out_channels=16,
    time_embed_dim=512,
    text_embed_dim=4096,
    num_layers=42,
    sample_width=90,
    sample_height=60,
    sample_frames=49,
    patch_size=2,
    temporal_compression_ratio=4,
    max_text_seq_length=226,
    use_rotary_positional_embeddings=True,
    use_learned_positional_embeddings=True,
    attention_bias=True,
    flip_sin_to_cos=True,
    freq_shift=0,
)


def make_batch(cfg: dict, latent_frames: int, batch: int, device, dtype) -> tuple[dict, tuple]:
    """A random training batch of the model's size (the layout ``lionlora.apps.train.collate``
    builds from cached latents) and the 3D RoPE tables of its latent grid."""
    from diffusers.models.embeddings import get_3d_rotary_pos_embed

    gen = torch.Generator().manual_seed(0)
    h, w, c = cfg["sample_height"], cfg["sample_width"], cfg["out_channels"]
    grid = (h // cfg["patch_size"], w // cfg["patch_size"])
    image = torch.zeros(batch, latent_frames, c, h, w)
    image[:, :1] = torch.randn(batch, 1, c, h, w, generator=gen)  # first-frame latents, zero-padded
    data = {
        "latents": torch.randn(batch, latent_frames, c, h, w, generator=gen).to(device, dtype),
        "image_latents": image.to(device, dtype),
        "prompt_embeds": torch.randn(batch, cfg["max_text_seq_length"], cfg["text_embed_dim"], generator=gen).to(
            device, dtype
        ),
    }
    rope = get_3d_rotary_pos_embed(
        embed_dim=cfg["attention_head_dim"],
        crops_coords=((0, 0), grid),
        grid_size=grid,
        temporal_size=latent_frames,
        device=device,
    )
    return data, rope


def measure(lion: LionLoRA, batch: dict, rope, steps: int, autocast_dtype=None) -> tuple[float, float]:
    """Mean seconds of a training step (the training loss ``diffusion_loss``: forward, backward,
    AdamW) after one warm-up step; and the peak memory in GiB (CUDA: max allocated during the timed
    steps; CPU: the process' peak RSS)."""
    from diffusers import CogVideoXDDIMScheduler

    scheduler = CogVideoXDDIMScheduler(**SCHEDULER_CONFIG)
    params = lion.trainable("bench", torch.float32)
    opt = torch.optim.AdamW(params, lr=1e-4)
    device = batch["latents"].device
    n = batch["latents"].shape[0]
    gen = torch.Generator().manual_seed(0)
    times = []
    for i in range(steps + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
            if i == 1:
                torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        with lion.activate([ActiveAdapter("bench", scale=torch.full((n,), 0.7))]):
            with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
                loss = diffusion_loss(lion, scheduler, batch, gen, rope)
            loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i > 0:
            times.append(time.perf_counter() - t0)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB
    return sum(times) / len(times), peak


def tiny(steps: int) -> None:
    from lionlora.apps.demo_model import save_tiny_model
    from lionlora.apps.model import load_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        save_tiny_model(Path(tmp) / "tiny")
        pipe = load_pipeline(Path(tmp) / "tiny", device="cpu")
    cfg = dict(pipe.transformer.config)
    lion = LionLoRA(pipe.transformer)
    lion.add_adapter(AdapterConfig(name="bench", rank=4, fourier_freqs=4))
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for batch in (1, 2):
            data, rope = make_batch(cfg, 3, batch, torch.device("cpu"), torch.float32)
            sec, peak = measure(lion, data, rope, steps)
            print(
                f"tiny  CPU  threads={threads} batch={batch}  step {sec * 1000:7.1f} ms   "
                f"process peak RSS {peak * 1024:6.0f} MiB"
            )


def analytic_5b(rank: int) -> None:
    """Exact parameter counts (meta device) and estimates of memory and FLOPs for the 5B step."""
    from diffusers import CogVideoXTransformer3DModel

    with torch.device("meta"):
        lion = LionLoRA(CogVideoXTransformer3DModel(**COGVIDEOX_5B_I2V))
        lion.add_adapter(AdapterConfig(name="bench", rank=rank))
        lion.add_adapter(AdapterConfig(name="attention_only", rank=rank, target_modules=["attention"]))
    attention_only = sum(p.numel() for p in lion.adapter_parameters("attention_only").values())
    c = COGVIDEOX_5B_I2V
    d, layers = c["num_attention_heads"] * c["attention_head_dim"], c["num_layers"]
    base = sum(p.numel() for p in lion.transformer.parameters())
    adapter = sum(p.numel() for p in lion.adapter_parameters("bench").values())
    base -= adapter + attention_only - sum(p.numel() for p in lion.tokens.parameters())
    video = 13 * (c["sample_height"] // 2) * (c["sample_width"] // 2)
    tokens = video + c["max_text_seq_length"] + 1
    block_linear = 4 * d * d + 2 * 4 * d * d  # q, k, v, out + the 4x feed-forward
    fwd = 2 * tokens * (layers * block_linear + adapter) + layers * 4 * tokens**2 * d
    weights_gib = (2 * base + 16 * adapter) / 2**30  # bf16 base; fp32 LoRA + grad + 2 Adam moments
    saved_gib = layers * tokens * d * 2 / 2**30  # checkpointed block inputs (bf16)
    block_gib = tokens * d * 2 * (6 + 2 * 4) / 2**30  # ~14 d per token saved inside the block recomputed
    print(
        f"5B-I2V transformer: {base / 1e9:.3f} B base parameters, {adapter / 1e6:.1f} M adapter parameters "
        f"(rank {rank}, {layers} blocks x 6 linears + token), sequence {tokens} tokens"
    )
    print(
        f"  target_modules [attention, ffn] (the paper): {adapter / 1e6:.1f} M adapter parameters; "
        f"[attention] (DimensionX): {attention_only / 1e6:.1f} M"
    )
    print(
        f"  estimate: weights + adapter + AdamW {weights_gib:.1f} GiB, checkpointed activations {saved_gib:.1f} GiB, "
        f"one block's recompute ~{block_gib:.1f} GiB -> about {weights_gib + saved_gib + block_gib:.0f} GiB "
        f"per sample"
    )
    print(
        f"  FLOPs: forward {fwd / 1e15:.2f} PFLOP; a step with checkpointing ~4x = {4 * fwd / 1e15:.2f} PFLOP "
        f"per sample -> {4 * fwd / 1e15 / 0.4:.1f} s per sample at 40% of 1 PFLOP/s (H200 bf16 dense)"
    )


def bf16_step(config: dict, steps: int, rank: int, device: torch.device) -> tuple[float, float]:
    """The production recipe: bf16 weights, fp32 adapter, bf16 autocast, gradient checkpointing."""
    from diffusers import CogVideoXTransformer3DModel

    torch.manual_seed(0)
    with device:
        transformer = CogVideoXTransformer3DModel(**config).to(torch.bfloat16)
    transformer.enable_gradient_checkpointing()
    lion = LionLoRA(transformer)
    lion.add_adapter(AdapterConfig(name="bench", rank=rank))
    frames = (config["sample_frames"] - 1) // config["temporal_compression_ratio"] + 1
    data, rope = make_batch(config, frames, 1, device, torch.bfloat16)
    return measure(lion, data, rope, steps, autocast_dtype=torch.bfloat16)


def gpu_5b(steps: int, rank: int) -> None:
    sec, peak = bf16_step(COGVIDEOX_5B_I2V, steps, rank, torch.device("cuda"))
    print(
        f"5B-I2V CUDA ({torch.cuda.get_device_name()}) rank {rank}, 49x480x720, batch 1, bf16 + checkpointing: "
        f"step {sec:.2f} s, peak memory {peak:.1f} GiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps after one warm-up step")
    parser.add_argument("--rank", type=int, default=256, help="LoRA rank of the 5B configuration")
    parser.add_argument("--gpu", action="store_true", help="require CUDA for the 5B measurement")
    args = parser.parse_args()
    tiny(args.steps)
    analytic_5b(args.rank)
    if torch.cuda.is_available():
        gpu_5b(args.steps, args.rank)
    elif args.gpu:
        raise SystemExit("--gpu: CUDA is not available")
    else:
        print("5B-I2V on CUDA: not measured (no CUDA device here)")


if __name__ == "__main__":
    main()
