"""Where the demo's pretraining (``lionlora demo-model --pretrain``) spends its time, per unit.

Prints, for the demo's sizes (:class:`~lionlora.apps.pretrain.PretrainConfig` defaults):

* ray-casting ``--clips`` clips with 1 and with 2 render workers (the frames are the same);
* one VAE training step (4 windows of 5 frames, fp32);
* one transformer training step (8 clips, 540 tokens each at 48x80) in fp32 and under bf16 autocast,
  median of ``--steps`` steps after one warm-up step.

Multiply by the config's counts (240 clips, 150 VAE steps, 1400 transformer steps) for the
phases of ``pretrain.json``'s ``seconds``. Run::

    .venv/bin/python benchmarks/pretrain_step.py [--clips 24] [--steps 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time


def _median_time(fn, steps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def render(clips: int) -> None:
    from lionlora.apps.pretrain import PretrainConfig, render_clips

    for workers in (1, 2):
        t0 = time.perf_counter()
        render_clips(PretrainConfig(render_workers=workers), clips, seed=3)
        dt = time.perf_counter() - t0
        print(f"render {clips} clips, {workers} worker(s): {dt:.1f} s ({dt / clips:.3f} s a clip)")


def steps(n: int) -> None:
    import torch

    from lionlora.apps.demo_model import build_tiny_pipeline
    from lionlora.apps.pretrain import PretrainConfig
    from lionlora.apps.train import diffusion_loss

    cfg = PretrainConfig()
    m = cfg.model
    pipe = build_tiny_pipeline(m)
    gen = torch.Generator().manual_seed(0)

    vae = pipe.vae.train()
    x = torch.rand(cfg.vae_batch_size, 3, cfg.vae_frames, m.height, m.width, generator=gen) * 2 - 1
    vae_opt = torch.optim.AdamW(vae.parameters(), lr=1e-4)

    def vae_step():
        post = vae.encode(x).latent_dist
        loss = (vae.decode(post.mean).sample - x).abs().mean()
        vae_opt.zero_grad()
        loss.backward()
        vae_opt.step()

    print(f"VAE step ({cfg.vae_batch_size} x {cfg.vae_frames} frames, fp32): {_median_time(vae_step, n):.3f} s")

    tr = pipe.transformer.train()
    t = (m.frames - 1) // m.temporal_compression + 1
    h, w = m.height // m.spatial_compression, m.width // m.spatial_compression
    batch = {
        "latents": torch.randn(cfg.batch_size, t, m.latent_channels, h, w, generator=gen),
        "image_latents": torch.randn(cfg.batch_size, t, m.latent_channels, h, w, generator=gen),
        "prompt_embeds": torch.randn(cfg.batch_size, m.text_tokens, tr.config.text_embed_dim, generator=gen),
    }
    rope = pipe._prepare_rotary_positional_embeddings(m.height, m.width, t, torch.device("cpu"))
    tr_opt = torch.optim.AdamW(tr.parameters(), lr=1e-4)
    tokens = t * (h // m.patch_size) * (w // m.patch_size)
    for precision in ("no", "bf16"):

        def tr_step(precision: str = precision) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = diffusion_loss(tr, pipe.scheduler, batch, gen, rope)
            tr_opt.zero_grad()
            loss.backward()
            tr_opt.step()

        label = "fp32" if precision == "no" else "bf16 autocast"
        print(f"transformer step ({cfg.batch_size} clips x {tokens} tokens, {label}): {_median_time(tr_step, n):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from lionlora.device import limit_threads

    limit_threads(args.threads)
    render(args.clips)
    steps(args.steps)


if __name__ == "__main__":
    main()
