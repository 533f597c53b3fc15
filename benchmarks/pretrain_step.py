"""Where the demo's pretraining (``lionlora demo-model --pretrain``) spends its time, per unit.

Prints, for the demo's sizes (:class:`~lionlora.apps.pretrain.PretrainConfig` defaults):

* ray-casting ``--clips`` clips with 1 and with 2 render workers (the frames are the same);
* one VAE training step (4 and 2 windows of 5 frames, fp32: the default and the demo's ``vae_batch_size``);
* one transformer training step (8 clips, 540 tokens each at 48x80) in fp32 and under bf16 autocast,
  median of ``--steps`` steps after one warm-up step, and in fp32 on the clips' first 9 and 5
  frames (the ``short_frames`` curriculum's steps);
* with ``--loop N``: the pretraining's own VAE and transformer loops
  (:func:`~lionlora.apps.pretrain.train_vae`'s and :func:`~lionlora.apps.pretrain.train_transformer`'s
  steps, on random data) in 1 and in ``train_processes`` = 2 data-parallel processes: seconds a
  step, from runs of 0 and N steps (so without the processes' start-up), and that start-up.

Multiply by the config's counts (240 clips, 150 VAE steps, 1400 transformer steps; the demo runs
1100 of them on 9 frames, configs/demo.yaml) for the phases of ``pretrain.json``'s ``seconds``. Run::

    .venv/bin/python benchmarks/pretrain_step.py [--clips 24] [--steps 5] [--threads 2] [--loop 0]
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
    from lionlora.apps.pretrain import PretrainConfig, _latent_frames
    from lionlora.apps.train import diffusion_loss

    cfg = PretrainConfig()
    m = cfg.model
    pipe = build_tiny_pipeline(m)
    gen = torch.Generator().manual_seed(0)

    vae = pipe.vae.train()
    vae_opt = torch.optim.AdamW(vae.parameters(), lr=1e-4)
    for windows in (cfg.vae_batch_size, 2):  # the default and the demo's vae_batch_size
        x = torch.rand(windows, 3, cfg.vae_frames, m.height, m.width, generator=gen) * 2 - 1

        def vae_step(x=x):
            post = vae.encode(x).latent_dist
            loss = (vae.decode(post.mean).sample - x).abs().mean()
            vae_opt.zero_grad()
            loss.backward()
            vae_opt.step()

        print(f"VAE step ({windows} x {cfg.vae_frames} frames, fp32): {_median_time(vae_step, n):.3f} s")

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
    for frames in (9, 5):  # the short-clip curriculum's steps (short_frames): the clips' first latent frames
        k = _latent_frames(frames, m)
        short = {key: value[:, :k] if key != "prompt_embeds" else value for key, value in batch.items()}
        short_rope = pipe._prepare_rotary_positional_embeddings(m.height, m.width, k, torch.device("cpu"))

        def short_step(short: dict = short, short_rope=short_rope) -> None:
            loss = diffusion_loss(tr, pipe.scheduler, short, gen, short_rope)
            tr_opt.zero_grad()
            loss.backward()
            tr_opt.step()

        label = f"{cfg.batch_size} clips x {k * tokens // t} tokens, {frames} frames, fp32"
        print(f"transformer step ({label}): {_median_time(short_step, n):.3f} s")


def loops(n: int, threads: int) -> None:
    """Seconds a step of the pretraining loops in 1 and 2 processes (differences of 0- and n-step runs)."""
    import torch

    from lionlora.apps.data_parallel import run_data_parallel
    from lionlora.apps.demo_model import build_tiny_pipeline
    from lionlora.apps.pretrain import PretrainConfig, _transformer_steps, _vae_steps

    gen = torch.Generator().manual_seed(0)
    m = PretrainConfig().model
    pipe = build_tiny_pipeline(m)
    t = (m.frames - 1) // m.temporal_compression + 1
    h, w = m.height // m.spatial_compression, m.width // m.spatial_compression
    clips = torch.rand(16, 3, m.frames, m.height, m.width, generator=gen) * 2 - 1
    data = {
        "latents": torch.randn(32, t, m.latent_channels, h, w),
        "image_latents": torch.randn(32, 1, m.latent_channels, h, w),
    }
    prompts = {"prompt": torch.randn(m.text_tokens, m.text_dim), "negative": torch.zeros(m.text_tokens, m.text_dim)}
    rope = {t: pipe._prepare_rotary_positional_embeddings(m.height, m.width, t, torch.device("cpu"))}
    for world in (1, 2):
        for phase, fn, args in (
            ("VAE", _vae_steps, (pipe.vae, clips)),
            ("transformer", _transformer_steps, (pipe.transformer, pipe.scheduler, data, prompts, rope)),
        ):
            seconds = []
            for steps in (0, n):
                cfg = PretrainConfig(vae_steps=steps, steps=steps, train_processes=world)
                t0 = time.perf_counter()
                run_data_parallel(fn, world, max(1, threads // world), *args, cfg, gen.get_state())
                seconds.append(time.perf_counter() - t0)
            per_step = (seconds[1] - seconds[0]) / n
            print(f"{phase} loop, {world} process(es): {per_step:.3f} s a step (start-up {seconds[0]:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--loop", type=int, default=0, help="steps of the 1- vs 2-process loop comparison (0: skip)")
    args = parser.parse_args()
    from lionlora.device import limit_threads

    limit_threads(args.threads)
    render(args.clips)
    steps(args.steps)
    if args.loop:
        loops(args.loop, args.threads)


if __name__ == "__main__":
    main()
