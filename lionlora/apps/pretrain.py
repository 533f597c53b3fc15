"""Pretraining the tiny CogVideoX image-to-video model on the embedded room (``demo-model --pretrain``).

The data are clips ray-cast exactly from the embedded room along random smooth camera paths
(:mod:`lionlora.pipelines.synth.paths`: translations, forward motion, orbits and turns of random
direction and size, and still clips; paths near a camera primitive are rejected). Two phases:

1. **VAE.** diffusers' ``AutoencoderKLCogVideoX`` at the size of :class:`TinyModelConfig`
   (by default 4x spatial and 2x temporal compression into 16 channels, so that the transformer's
   2x2 latent patches hold fewer numbers than its width), trained on
   ``vae_frames``-frame windows with an L1 reconstruction loss and a small KL term. Its
   ``scaling_factor`` is then set to 1 / std of the training latents.
2. **Transformer.** ``CogVideoXTransformer3DModel`` trained from scratch with the v-prediction
   loss of :func:`lionlora.apps.train.diffusion_loss`, the clip's first-frame latent on the
   channels (I2V), the prompt's T5 embedding replaced by the negative prompt's with probability
   ``text_dropout`` (so that classifier-free guidance has an unconditional branch), and random
   horizontal flips.

The pipeline is written with ``save_pretrained`` beside ``pretrain.json`` (losses, held-out VAE
PSNR, timings, the data's path kinds and their smallest distance to a primitive) and a loss plot;
:func:`lionlora.apps.model.load_pipeline` reads it like CogVideoX-5B-I2V. Everything is seeded:
the same config gives the same weights on the same machine and thread count.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from lionlora.apps.data_parallel import Shard, run_data_parallel
from lionlora.apps.demo_model import TinyModelConfig, build_tiny_pipeline, decodes_whole
from lionlora.config import opt
from lionlora.errors import ConfigError
from lionlora.pipelines.synth.paths import MOVING, PathConfig, primitive_distance, sample_path

log = logging.getLogger(__name__)


@dataclass
class PretrainModelConfig(TinyModelConfig):
    """:class:`TinyModelConfig` with the pretrained demo model's sizes as defaults.

    48x80 pixels and 17 frames: the smallest sizes at which the project's SfM evaluation
    registers ground-truth renders of the embedded room reliably (docs/method.md; 64x96 had
    10x smaller errors on them but cost 1.6x the training time). The VAE compresses 4x in space
    and 2x in time into 16 channels; 2x2 latent patches make 60 tokens a latent frame, 540 a
    clip, each of 64 numbers (128 with the first frame's latent) in a width of 128. (With 2x
    spatial compression, 12 channels and 4x4 patches, a token held 384 numbers in that width and
    the model never learned to carry the first frame into the video.)
    """

    height: int = opt(48, "native video height in pixels")
    width: int = opt(80, "native video width in pixels")
    frames: int = opt(17, "native number of frames")
    heads: int = opt(4, "attention heads of the transformer")
    head_dim: int = opt(32, "channels per head (a multiple of 8 for the 3D RoPE)")
    layers: int = opt(4, "transformer blocks")
    latent_channels: int = opt(16, "VAE latent channels")
    vae_channels: list[int] = opt([16, 32, 64], "VAE block widths; spatial compression 2^(blocks - 1)")
    temporal_compression: int = opt(2, "VAE and transformer temporal compression")
    patch_size: int = opt(2, "transformer patch size in latent pixels")


@dataclass
class PretrainConfig:
    """Data, sizes and schedules of :func:`pretrain` (the defaults are the demo's)."""

    model: PretrainModelConfig = field(default_factory=PretrainModelConfig)
    paths: PathConfig = field(default_factory=PathConfig)
    scene_seed: int = opt(0, "embedded room (lionlora scene synth --set seed)")
    fov_x_deg: float = opt(68.0, "horizontal field of view of the pretraining clips, degrees")
    clips: int = opt(240, "training clips (random paths)")
    holdout_clips: int = opt(8, "held-out clips for the VAE's PSNR and the transformer's eval loss")
    supersample: int = opt(
        2,
        "ray-casting anti-aliasing factor (1 aliases the room's fine textures at 64x96: SfM then registers "
        "9 of 15 moving held-out paths instead of 14 of 15)",
    )
    prompt: str = opt("a room with boxes and posters on the walls", "caption of every pretraining clip")
    negative_prompt: str = opt("", "the unconditional prompt (classifier-free guidance's negative prompt)")
    seed: int = opt(0, "seed of the paths, the weights and every training draw")
    vae_steps: int = opt(150, "VAE optimisation steps")
    vae_batch_size: int = opt(4, "VAE windows per step")
    vae_frames: int = opt(5, "frames per VAE training window (1 + k x temporal compression)")
    vae_learning_rate: float = opt(1e-3, "VAE AdamW learning rate")
    vae_crop: list[int] = opt(
        [],
        "[height, width] of random crops (on the latent grid) that the VAE trains on, a cheaper step "
        "for its convolutions; empty: whole frames",
    )
    kl_weight: float = opt(1e-6, "weight of the VAE's KL term (per latent element, summed)")
    steps: int = opt(1400, "transformer optimisation steps")
    short_frames: int = opt(
        0,
        "0: off; else the first short_steps transformer steps train on the clips' first short_frames frames "
        "(1 + k x temporal compression; the first latent frames of the clips, so nothing is re-encoded)",
    )
    short_steps: int = opt(0, "transformer steps at short_frames (counted in steps)")
    batch_size: int = opt(8, "clips per transformer step")
    learning_rate: float = opt(5e-4, "transformer AdamW learning rate (peak, after warm-up)")
    warmup_steps: int = opt(20, "linear learning-rate warm-up steps of the transformer")
    lr_scheduler: Literal["constant_with_warmup", "cosine", "linear"] = opt(
        "constant_with_warmup",
        "learning-rate schedule of both phases: after the warm-up (the VAE has none), constant, or a cosine "
        "or linear decay to 0 over the remaining steps",
    )
    ema_decay: float = opt(
        0.0,
        "0: off; else the saved transformer is an EMA of its weights with this decay (diffusers' EMAModel, "
        "decay min(ema_decay, (1 + step) / (10 + step)))",
    )
    text_dropout: float = opt(0.1, "probability of the negative prompt in place of the caption")
    flip: bool = opt(True, "random horizontal flips of whole clips")
    device: str = opt("cpu", "torch device (cpu, cuda)")
    mixed_precision: str = opt(
        "no",
        "no, or bf16: the transformer's training steps under bf16 autocast (weights stay fp32; the VAE "
        "trains in fp32: on CPU, torch 2.13's bf16 conv3d backward gave NaN gradients in its decoder)",
    )
    render_workers: int = opt(2, "processes that ray-cast the clips (the frames do not depend on it)")
    train_processes: int = opt(
        1,
        "processes that share each VAE and transformer batch (data parallel over CPU cores, gloo; the "
        "threads are split between them). The steps are those of one process up to float rounding; on "
        "2 cores two 1-thread processes were no faster than one 2-thread process (docs/benchmarks.md)",
    )

    def _check_vae_crop(self) -> None:
        m, c = self.model, self.model.spatial_compression
        if self.vae_crop and (
            len(self.vae_crop) != 2
            or any(int(v) < c or int(v) % c for v in self.vae_crop)
            or self.vae_crop[0] > m.height
            or self.vae_crop[1] > m.width
        ):
            raise ConfigError(
                "PretrainConfig",
                "vae_crop",
                f"[] or [height, width], multiples of the spatial compression {c}, at most [{m.height}, {m.width}]",
                got=self.vae_crop,
            )

    def __post_init__(self) -> None:
        if self.clips < 1 or self.holdout_clips < 1:
            raise ConfigError(
                "PretrainConfig", "clips/holdout_clips", "at least 1 each", got=(self.clips, self.holdout_clips)
            )
        t = self.model.temporal_compression
        if not decodes_whole(self.vae_frames, t) or self.vae_frames > self.model.frames:
            raise ConfigError(
                "PretrainConfig",
                "vae_frames",
                f"1 + 2k x {t} frames (an odd number of latent frames, which decode to the window's own "
                f"length), at most model.frames = {self.model.frames}",
                got=self.vae_frames,
            )
        self._check_vae_crop()
        if min(self.vae_steps, self.steps) < 0 or min(self.vae_batch_size, self.batch_size) < 1:
            raise ConfigError(
                "PretrainConfig",
                "steps/batch sizes",
                "steps >= 0 and batch sizes >= 1",
                got=(self.vae_steps, self.steps, self.vae_batch_size, self.batch_size),
            )
        if self.mixed_precision not in ("no", "bf16"):
            raise ConfigError("PretrainConfig", "mixed_precision", "no or bf16", got=self.mixed_precision)
        if self.short_frames and ((self.short_frames - 1) % t or not 1 < self.short_frames < self.model.frames):
            raise ConfigError(
                "PretrainConfig",
                "short_frames",
                f"0 (off) or 1 + k x {t} frames, k >= 1, below model.frames = {self.model.frames}",
                got=self.short_frames,
            )
        if not 0 <= self.short_steps <= self.steps:
            raise ConfigError("PretrainConfig", "short_steps", f"0 to steps = {self.steps}", got=self.short_steps)
        if self.render_workers < 1:
            raise ConfigError("PretrainConfig", "render_workers", "at least 1", got=self.render_workers)
        if not 1 <= self.train_processes <= min(self.batch_size, self.vae_batch_size):
            raise ConfigError(
                "PretrainConfig",
                "train_processes",
                f"1 to min(batch_size, vae_batch_size) = {min(self.batch_size, self.vae_batch_size)}",
                got=self.train_processes,
            )
        if self.train_processes > 1 and self.device != "cpu":
            raise ConfigError("PretrainConfig", "train_processes", "1 on a device other than cpu", got=self.device)
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError("PretrainConfig", "ema_decay", "0 (off) or a decay in (0, 1)", got=self.ema_decay)
        if not 0.0 <= self.text_dropout < 1.0:
            raise ConfigError("PretrainConfig", "text_dropout", "a probability in [0, 1)", got=self.text_dropout)


@dataclass
class PretrainData:
    """Clips ``[N, F, H, W, 3]`` uint8 with their cameras ``[N, F, 4, 4]`` and path kinds."""

    video: np.ndarray
    c2w: np.ndarray
    kinds: list[str]
    primitive_distance: list[float]


_ROOM: dict = {}  # the room of a render worker (set by its initializer)


def _render_worker_init(scene_seed: int) -> None:
    from lionlora.device import limit_threads
    from lionlora.pipelines.synth import build_room

    limit_threads(1)
    _ROOM["room"] = build_room(scene_seed)


def _render_path(room, c2w: np.ndarray, K, supersample: int) -> np.ndarray:
    """The frames ``[F, H, W, 3]`` of one path."""
    from lionlora.pipelines.synth import render_view

    return np.stack([render_view(room, c, K, supersample=supersample)[0] for c in c2w])


def _render_in_worker(c2w: np.ndarray, K, supersample: int) -> np.ndarray:
    return _render_path(_ROOM["room"], c2w, K, supersample)


def render_clips(cfg: PretrainConfig, count: int, seed: int) -> PretrainData:
    """``count`` clips of the embedded room along accepted random paths (seeded by ``seed``).

    The paths are drawn first, in order; their frames are then ray-cast by ``cfg.render_workers``
    processes. The frames do not depend on the worker count.
    """
    from tqdm.auto import tqdm

    from lionlora.geometry.camera import Intrinsics
    from lionlora.pipelines.synth import build_room, render_view

    m = cfg.model
    room = build_room(cfg.scene_seed)
    K = Intrinsics.from_fov(cfg.fov_x_deg, m.width, m.height)
    small = K.scaled(max(m.width // 4, 8), max(m.height // 4, 8))

    def depth(c2w: np.ndarray) -> np.ndarray:
        return render_view(room, c2w, small, supersample=1)[1]

    def median_depth(c2w: np.ndarray) -> float:
        d = depth(c2w)
        return float(np.median(d[np.isfinite(d)])) if np.isfinite(d).any() else math.nan

    def clearance(c2w: np.ndarray) -> float:
        d = depth(c2w)
        return float(d.min()) if np.isfinite(d).all() else 0.0

    rng = np.random.default_rng(seed)
    poses, kinds, dists = [], [], []
    for _ in tqdm(range(count), desc="pretraining paths", unit="path"):
        c2w, kind = sample_path(rng, m.frames, median_depth, clearance, cfg.paths)
        poses.append(c2w)
        kinds.append(kind)
        rel = np.linalg.inv(c2w[0])[None] @ c2w
        dists.append(
            primitive_distance(rel, median_depth(c2w[0]), cfg.paths.trajectory) if kind == MOVING else math.nan
        )
    bar = tqdm(total=count, desc="pretraining clips", unit="clip")
    if cfg.render_workers <= 1:
        videos = []
        for c2w in poses:
            videos.append(_render_path(room, c2w, K, cfg.supersample))
            bar.update()
    else:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        from lionlora.device import single_threaded_children

        with (
            single_threaded_children(),
            ProcessPoolExecutor(
                cfg.render_workers,
                mp_context=get_context("spawn"),
                initializer=_render_worker_init,
                initargs=(cfg.scene_seed,),
            ) as pool,
        ):
            videos = []
            for video in pool.map(_render_in_worker, poses, [K] * count, [cfg.supersample] * count):
                videos.append(video)
                bar.update()
    bar.close()
    return PretrainData(np.stack(videos), np.stack(poses), kinds, dists)


def _to_tensor(video: np.ndarray):
    """uint8 ``[N, F, H, W, 3]`` -> float ``[N, 3, F, H, W]`` in [-1, 1]."""
    import torch

    return torch.from_numpy(video).permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0


def _lr_factor(schedule: str, steps: int, warmup: int):
    """The learning rate of each step as a fraction of the peak: a linear warm-up from 1 / ``warmup``,
    then constant, or a cosine or linear decay towards 0 over the remaining steps."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(steps - warmup, 1)
        if schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return max(0.0, 1.0 - progress) if schedule == "linear" else 1.0

    return factor


def _optimizer(params, lr: float, schedule: str, steps: int, warmup: int, weight_decay: float):
    """AdamW and its ``schedule`` (a ``PretrainConfig.lr_scheduler``) over ``steps``."""
    import torch

    opt_ = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return opt_, torch.optim.lr_scheduler.LambdaLR(opt_, _lr_factor(schedule, steps, warmup))


def _autocast(cfg: PretrainConfig):
    import torch

    device = torch.device(cfg.device).type
    return torch.autocast(device, dtype=torch.bfloat16, enabled=cfg.mixed_precision == "bf16")


def train_vae(vae, clips, held_out, cfg: PretrainConfig, gen) -> dict:
    """Fit ``vae`` to random windows of ``clips`` (``[N, 3, F, H, W]``); returns losses and held-out PSNR.

    The steps run in ``cfg.train_processes`` processes (:mod:`lionlora.apps.data_parallel`).
    """
    import torch

    result = run_data_parallel(_vae_steps, cfg.train_processes, _threads(cfg), vae, clips, cfg, gen.get_state())
    vae.load_state_dict(result["state"])
    gen.set_state(result["generator"])
    vae.eval()
    with torch.no_grad():
        latents = encode(vae, clips)
        recon = torch.cat([vae.decode(encode(vae, held_out[i : i + 1])).sample for i in range(len(held_out))])
    mse = float(((recon.clamp(-1, 1) - held_out) / 2).pow(2).mean())
    std = float(latents.std())
    vae.register_to_config(scaling_factor=1.0 / std)
    return {"losses": result["losses"], "held_out_psnr": 10 * math.log10(1.0 / max(mse, 1e-12)), "latent_std": std}


def _vae_steps(shard: Shard, vae, clips, cfg: PretrainConfig, gen_state) -> dict:
    """The VAE's optimisation steps in one data-parallel process (L1 reconstruction + KL)."""
    import torch
    from tqdm.auto import tqdm

    gen = _generator(gen_state)
    vae = copy.deepcopy(vae).train()  # the processes' arguments share memory; their weights must not
    # weight decay 1e-2: torch's AdamW default, which the VAE has always trained with
    opt_, sched = _optimizer(vae.parameters(), cfg.vae_learning_rate, cfg.lr_scheduler, cfg.vae_steps, 0, 1e-2)
    n, frames, size = clips.shape[0], clips.shape[2], cfg.vae_batch_size
    mine, share = shard.part(size), shard.weight(size)
    losses = []
    for _ in tqdm(range(cfg.vae_steps), desc="VAE", unit="step", disable=not shard.main):
        idx = torch.randint(0, n, (size,), generator=gen)
        start = int(torch.randint(0, frames - cfg.vae_frames + 1, (1,), generator=gen))
        x = _crop(clips[idx[mine], :, start : start + cfg.vae_frames], cfg, gen)
        posterior = vae.encode(x).latent_dist
        eps = torch.randn((size, *posterior.mean.shape[1:]), generator=gen)[mine]
        z = posterior.mean + posterior.std * eps.to(posterior.mean)
        recon = vae.decode(z).sample
        loss = ((recon - x).abs().mean() + cfg.kl_weight * posterior.kl().mean()) * share
        opt_.zero_grad(set_to_none=True)
        loss.backward()
        losses.append(shard.sum_gradients(vae.parameters(), loss.item()))
        opt_.step()
        sched.step()
    return {"state": vae.state_dict(), "losses": losses, "generator": gen.get_state()}


def _crop(x, cfg: PretrainConfig, gen):
    """A random ``cfg.vae_crop`` window of ``x`` (``[B, C, F, H, W]``), its corner on the latent grid."""
    import torch

    if not cfg.vae_crop:
        return x
    (h, w), c = cfg.vae_crop, cfg.model.spatial_compression
    top = int(torch.randint(0, (x.shape[-2] - h) // c + 1, (1,), generator=gen)) * c
    left = int(torch.randint(0, (x.shape[-1] - w) // c + 1, (1,), generator=gen)) * c
    return x[..., top : top + h, left : left + w]


def _generator(state):
    import torch

    gen = torch.Generator()
    gen.set_state(state)
    return gen


def _threads(cfg: PretrainConfig) -> int:
    """Threads of each training process: this process's share of its threads."""
    import torch

    return max(1, torch.get_num_threads() // cfg.train_processes)


def encode(vae, clips, batch: int = 8):
    """Posterior means ``[N, C, T, h, w]`` of ``clips`` ``[N, 3, F, H, W]`` (unscaled)."""
    import torch

    with torch.no_grad():
        return torch.cat([vae.encode(clips[i : i + batch]).latent_dist.mode() for i in range(0, len(clips), batch)])


def clip_latents(vae, clips, gen, flip: bool, batch: int = 8) -> dict:
    """Scaled clip and first-frame latents of every clip (and of its mirror image when ``flip``),
    drawn from the VAE posterior like diffusers' CogVideoX I2V pipeline draws them.

    Returns ``latents`` ``[N', T, C, h, w]`` and ``image_latents`` ``[N', 1, C, h, w]``.
    """
    import torch
    from tqdm.auto import tqdm

    factor = vae.config.scaling_factor

    def draw(x):
        dist = vae.encode(x).latent_dist
        return (dist.mean + dist.std * torch.randn(dist.mean.shape, generator=gen).to(dist.mean)) * factor

    variants = [clips, clips.flip(-1)] if flip else [clips]
    latents, images = [], []
    with torch.no_grad():
        for v, data in enumerate(variants):
            for i in tqdm(range(0, len(data), batch), desc=f"latents {v + 1}/{len(variants)}", unit="batch"):
                x = data[i : i + batch]
                latents.append(draw(x).permute(0, 2, 1, 3, 4))
                images.append(draw(x[:, :, :1]).permute(0, 2, 1, 3, 4))
    return {"latents": torch.cat(latents), "image_latents": torch.cat(images)}


def train_transformer(pipe, data: dict, prompts: dict, cfg: PretrainConfig, gen) -> list[float]:
    """v-prediction training of ``pipe.transformer`` on ``data`` (from :func:`clip_latents`), in
    ``cfg.train_processes`` processes (:mod:`lionlora.apps.data_parallel`)."""
    import torch

    m = cfg.model
    device = torch.device(cfg.device)
    rope = {
        t: pipe._prepare_rotary_positional_embeddings(m.height, m.width, t, device)
        for t in {_latent_frames(m.frames, m), _latent_frames(cfg.short_frames or m.frames, m)}
    }
    result = run_data_parallel(
        _transformer_steps,
        cfg.train_processes,
        _threads(cfg),
        pipe.transformer,
        pipe.scheduler,
        data,
        prompts,
        rope,
        cfg,
        gen.get_state(),
    )
    pipe.transformer.load_state_dict(result["state"])
    gen.set_state(result["generator"])
    pipe.transformer.eval()
    return result["losses"]


def _latent_frames(frames: int, m: PretrainModelConfig) -> int:
    return (frames - 1) // m.temporal_compression + 1


def _transformer_steps(
    shard: Shard, transformer, scheduler, data: dict, prompts: dict, rope, cfg: PretrainConfig, gen_state
) -> dict:
    """The transformer's optimisation steps in one data-parallel process.

    Every process draws the whole batch's clips, text dropout, noise and timesteps, then computes
    the loss of its share. The first ``cfg.short_steps`` steps keep the first latent frames of
    ``cfg.short_frames`` video frames (``rope`` maps latent frame counts to rotary embeddings).
    """
    import torch
    from tqdm.auto import tqdm

    from lionlora.apps.train import collate, diffusion_loss

    gen = _generator(gen_state)
    transformer = copy.deepcopy(transformer).train()  # (see _vae_steps)
    opt_, sched = _optimizer(
        transformer.parameters(), cfg.learning_rate, cfg.lr_scheduler, cfg.steps, cfg.warmup_steps, 0.0
    )
    ema = None
    if cfg.ema_decay > 0:
        from diffusers.training_utils import EMAModel

        ema = EMAModel(transformer.parameters(), decay=cfg.ema_decay)
    n, size = data["latents"].shape[0], cfg.batch_size
    mine, share = shard.part(size), shard.weight(size)
    losses = []
    bar = tqdm(range(cfg.steps), desc="transformer", unit="step", disable=not shard.main)
    short = _latent_frames(cfg.short_frames or cfg.model.frames, cfg.model)
    for step in bar:
        frames = short if step < cfg.short_steps else data["latents"].shape[1]
        idx = torch.randint(0, n, (size,), generator=gen).tolist()
        drop = (torch.rand(size, generator=gen) < cfg.text_dropout).tolist()
        noise = torch.randn((size, *data["latents"].shape[1:]), generator=gen)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (size,), generator=gen)
        samples = [
            {"latents": data["latents"][i, :frames], "image_latents": data["image_latents"][i]} for i in idx[mine]
        ]
        embeds = [prompts["negative" if d else "prompt"] for d in drop[mine]]
        batch = collate(samples, embeds, cfg.device, torch.float32)
        with _autocast(cfg):
            loss = diffusion_loss(
                transformer, scheduler, batch, gen, rope[frames], timesteps=t[mine], noise=noise[mine, :frames]
            )
        loss = loss * share
        opt_.zero_grad(set_to_none=True)
        loss.backward()
        losses.append(shard.sum_gradients(transformer.parameters(), loss.item()))
        torch.nn.utils.clip_grad_norm_(transformer.parameters(), 1.0)
        opt_.step()
        sched.step()
        if ema is not None:
            ema.step(transformer.parameters())
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
    if ema is not None:
        ema.copy_to(transformer.parameters())
    return {"state": transformer.state_dict(), "losses": losses, "generator": gen.get_state()}


def _prompt_embeds(pipe, cfg: PretrainConfig) -> dict:
    import torch

    with torch.no_grad():
        pos, neg = pipe.encode_prompt(
            cfg.prompt,
            cfg.negative_prompt,
            do_classifier_free_guidance=True,
            max_sequence_length=cfg.model.text_tokens,
            device=torch.device(cfg.device),
        )
    return {"prompt": pos[0].float(), "negative": neg[0].float()}


def pretrain(cfg: PretrainConfig, out: str | Path) -> dict:
    """Render the data, train the VAE then the transformer, and write the pipeline to ``out``.

    Returns the summary written to ``out/pretrain.json``.
    """
    import torch

    from lionlora.config import dump_config, to_dict
    from lionlora.io.files import atomic_dir, write_json

    out = Path(out)
    t0 = time.perf_counter()
    train_data = render_clips(cfg, cfg.clips, cfg.seed)
    held_out = render_clips(cfg, cfg.holdout_clips, cfg.seed + 1)
    t_data = time.perf_counter()
    pipe = build_tiny_pipeline(cfg.model)
    pipe.to(cfg.device)
    gen = torch.Generator().manual_seed(cfg.seed)
    clips, held = _to_tensor(train_data.video).to(cfg.device), _to_tensor(held_out.video).to(cfg.device)
    vae_summary = train_vae(pipe.vae, clips, held, cfg, gen)
    t_vae = time.perf_counter()
    latents = clip_latents(pipe.vae, clips, gen, cfg.flip)
    prompts = _prompt_embeds(pipe, cfg)
    t_lat = time.perf_counter()
    losses = train_transformer(pipe, latents, prompts, cfg, gen)
    t_tr = time.perf_counter()
    kinds = {k: train_data.kinds.count(k) for k in sorted(set(train_data.kinds))}
    dists = [d for d in train_data.primitive_distance if math.isfinite(d)]
    summary = {
        "clips": cfg.clips,
        "path_kinds": kinds,
        "min_primitive_distance": min(dists) if dists else None,
        "min_primitive_distance_threshold": cfg.paths.min_primitive_distance,
        "vae_final_loss": float(np.mean(vae_summary["losses"][-20:])) if vae_summary["losses"] else None,
        "vae_held_out_psnr": vae_summary["held_out_psnr"],
        "vae_scaling_factor": 1.0 / vae_summary["latent_std"],
        "transformer_first_loss": float(np.mean(losses[:20])) if losses else None,
        "transformer_final_loss": float(np.mean(losses[-20:])) if losses else None,
        "seconds": {
            "data": t_data - t0,
            "vae": t_vae - t_data,
            "latents": t_lat - t_vae,
            "transformer": t_tr - t_lat,
            "total": t_tr - t0,
        },
        "threads": torch.get_num_threads(),
        "config": to_dict(cfg),
    }
    with atomic_dir(out, "model_index.json") as tmp:
        pipe.save_pretrained(tmp, safe_serialization=True)
        dump_config(cfg.model, tmp / "tiny_model_config.json")
        write_json(tmp / "pretrain.json", summary)
        _plot(vae_summary["losses"], losses, tmp / "pretrain_loss.png")
    log.info("pretrained tiny CogVideoX I2V in %.0f s -> %s", summary["seconds"]["total"], out)
    return summary


def _plot(vae_losses: list[float], losses: list[float], path: Path) -> None:
    from lionlora.plots import new_axes, save_figure

    fig, axes = new_axes(figsize=(9, 3.2), ncols=2)
    for ax, values, title in (
        (axes[0], vae_losses, "VAE (L1 + KL)"),
        (axes[1], losses, "transformer (v-prediction MSE)"),
    ):
        ax.plot(values, lw=0.6, alpha=0.5)
        if len(values) >= 10:
            k = max(len(values) // 20, 5)
            ax.plot(np.arange(k - 1, len(values)), np.convolve(values, np.ones(k) / k, mode="valid"), lw=1.5)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.set_yscale("log")
    save_figure(fig, path)
