"""Training one LiON-LoRA adapter (a camera primitive or the motion LoRA) on CogVideoX I2V.

The objective is CogVideoX's image-to-video one as diffusers trains it: VAE latents x0 of the
clip, the first frame's latents concatenated on the channel axis (zero-padded in time), a
timestep t uniform over the DDPM schedule, x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps, and the
transformer's v-prediction regressed on v = sqrt(a_t) eps - sqrt(1 - a_t) x0. (diffusers'
example writes the same loss as an x0-error weighted by 1 / (1 - a_t); the two are equal.) The
adapter's scaling token carries the pair's S. Only the adapter (LoRA + token projection) trains.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lionlora.apps.model import PAPER_MODEL, check_size_options
from lionlora.checks import is_4k_plus_1, scale_in_range
from lionlora.config import opt, to_dict
from lionlora.device import resolve_device
from lionlora.errors import ConfigError
from lionlora.lora.config import BLOCK_LINEARS, AdapterConfig, check_name

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Options of ``lionlora train`` (the ``train:`` section of the workflow config)."""

    model: str = opt(PAPER_MODEL, "CogVideoX I2V pipeline: hub id or local folder")
    manifest: Path | None = opt(None, "training-pairs manifest (CSV, contract 1)")
    lora: str | None = opt(None, "adapter to train: the manifest rows whose 'lora' column equals it")
    out: Path | None = opt(None, "output folder of the adapter (checkpoints and logs inside)")
    lora_rank: int = opt(256, "LoRA rank r")
    lora_alpha: float | None = opt(None, "LoRA alpha (default: the rank)")
    lora_dropout: float = opt(0.0, "dropout on the LoRA input")
    target_modules: list[str] = opt(BLOCK_LINEARS, "linear layers of each block that get the LoRA")
    block_start: int = opt(0, "first block with LoRA")
    block_stop: int | None = opt(None, "block after the last one with LoRA (default: all)")
    scaling_token: bool = opt(True, "train the scaling token (false: a vanilla LoRA for the adapter-scale baseline)")
    fourier_freqs: int = opt(8, "J of gamma(S) (eq. 5)")
    s_min: float | None = opt(None, "smallest S (default: the smallest S of the adapter's manifest rows)")
    steps: int = opt(4000, "optimisation steps")
    learning_rate: float = opt(5e-4, "peak learning rate")
    lr_scheduler: Literal["constant", "constant_with_warmup", "linear", "cosine"] = opt(
        "constant_with_warmup", "learning-rate schedule"
    )
    warmup_steps: int = opt(100, "linear warm-up steps")
    weight_decay: float = opt(1e-4, "AdamW weight decay")
    max_grad_norm: float = opt(1.0, "gradient clipping (0: off)")
    batch_size: int = opt(16, "clips per optimisation step over all devices")
    micro_batch_size: int = opt(1, "clips per forward pass on one device (the rest is gradient accumulation)")
    frames: int | None = opt(None, "frames per clip, 4k + 1 (default: the model's native 49)")
    height: int | None = opt(None, "clip height in pixels (default: the model's native 480)")
    width: int | None = opt(None, "clip width in pixels (default: the model's native 720)")
    seed: int = opt(0, "seed of sample order, noise and timesteps")
    checkpoint_every: int = opt(500, "write a checkpoint every N steps")
    keep_checkpoints: int = opt(2, "checkpoints kept on disk (older ones are deleted)")
    resume: bool = opt(True, "continue from the newest checkpoint in OUT/checkpoints when there is one")
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = opt("auto", "autocast precision (auto: bf16 on CUDA)")
    gradient_checkpointing: bool = opt(True, "recompute block activations in the backward pass (saves memory)")
    device: Literal["auto", "cpu", "cuda"] = opt("auto", "training device (accelerate decides with auto)")
    cache_dir: Path | None = opt(None, "latent cache (default: OUT/cache)")
    eval_pairs: int = opt(4, "pairs of the fixed before/after evaluation loss")
    log_every: int = opt(10, "TensorBoard logging interval in steps")

    def __post_init__(self) -> None:
        if self.lora is not None:
            check_name(self.lora, "TrainConfig", "lora")
        for key in ("steps", "batch_size", "micro_batch_size", "checkpoint_every", "log_every", "lora_rank"):
            if getattr(self, key) < 1:
                raise ConfigError("TrainConfig", key, "an integer >= 1", got=getattr(self, key))
        if self.learning_rate <= 0 or not math.isfinite(self.learning_rate):
            raise ConfigError("TrainConfig", "learning_rate", "a positive number", got=self.learning_rate)
        if self.batch_size % self.micro_batch_size:
            raise ConfigError(
                "TrainConfig",
                "batch_size",
                f"a multiple of micro_batch_size={self.micro_batch_size}",
                got=self.batch_size,
            )
        check_size_options("TrainConfig", self.frames, self.height, self.width)
        if self.frames is not None and not is_4k_plus_1(self.frames):
            raise ConfigError(
                "TrainConfig", "frames", "4k + 1 frames (CogVideoX's VAE compresses time by 4)", got=self.frames
            )
        if self.s_min is not None and not scale_in_range(self.s_min):
            raise ConfigError("TrainConfig", "s_min", "a value in (0, 1]", got=self.s_min)
        if self.warmup_steps < 0 or self.keep_checkpoints < 1 or self.eval_pairs < 0:
            raise ConfigError(
                "TrainConfig",
                "warmup_steps/keep_checkpoints/eval_pairs",
                "warmup_steps >= 0, keep_checkpoints >= 1, eval_pairs >= 0",
                got=(self.warmup_steps, self.keep_checkpoints, self.eval_pairs),
            )

    def adapter_config(self, s_min: float) -> AdapterConfig:
        return AdapterConfig(
            name=self.lora,
            rank=self.lora_rank,
            alpha=self.lora_alpha,
            dropout=self.lora_dropout,
            target_modules=list(self.target_modules),
            block_start=self.block_start,
            block_stop=self.block_stop,
            scaling_token=self.scaling_token,
            fourier_freqs=self.fourier_freqs,
            s_min=s_min,
        )


def diffusion_loss(
    model, noise_scheduler, batch: dict, generator: torch.Generator, rope, timesteps: torch.Tensor | None = None
) -> torch.Tensor:
    """v-prediction MSE of CogVideoX I2V on one batch (see the module docstring).

    Args:
        model: :class:`~lionlora.lora.lion.LionLoRA` (possibly wrapped by accelerate), with the
            adapter activated by the caller (around the backward pass too).
        batch: ``latents`` ``[B, T, C, h, w]``, ``image_latents`` ``[B, T, C, h, w]`` (padded),
            ``prompt_embeds`` ``[B, L, D]``.
        generator: CPU generator of the noise and timesteps.
        timesteps: fixed timesteps ``[B]`` (random when None).
    """
    import torch

    x0 = batch["latents"]
    n = x0.shape[0]
    noise = torch.randn(x0.shape, generator=generator).to(x0)
    if timesteps is None:
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (n,), generator=generator)
    timesteps = timesteps.to(x0.device)
    noisy = noise_scheduler.add_noise(x0, noise, timesteps)
    target = noise_scheduler.get_velocity(x0, noise, timesteps)
    inputs = torch.cat([noisy, batch["image_latents"]], dim=2)
    ofs = None
    transformer = getattr(model, "module", model).transformer
    if transformer.config.ofs_embed_dim:
        ofs = inputs.new_full((n,), 2.0)
    pred = model(
        hidden_states=inputs,
        encoder_hidden_states=batch["prompt_embeds"],
        timestep=timesteps,
        ofs=ofs,
        image_rotary_emb=rope,
        return_dict=False,
    )[0]
    return torch.nn.functional.mse_loss(pred.float(), target.float())


def collate(samples: list[dict], prompts: list[torch.Tensor], device, dtype) -> dict:
    """Stack cached pairs into a batch; the first-frame latents are zero-padded to the clip length."""
    import torch

    latents = torch.stack([s["latents"] for s in samples])
    image = torch.stack([s["image_latents"] for s in samples])
    pad = latents.new_zeros(latents.shape[0], latents.shape[1] - image.shape[1], *latents.shape[2:])
    return {
        "latents": latents.to(device, dtype),
        "image_latents": torch.cat([image, pad], dim=1).to(device, dtype),
        "prompt_embeds": torch.stack(prompts).to(device, dtype),
    }


def train(cfg: TrainConfig, callback: Callable[[int, float], None] | None = None) -> dict:
    """Train adapter ``cfg.lora`` on its manifest rows and write it to ``cfg.out``; returns the summary.

    A run that finds checkpoints in ``OUT/checkpoints`` continues from the newest one (unless
    ``resume`` is false) with the optimizer, LR-scheduler, sample-order and RNG state of that step.
    ``callback(step, loss)`` runs after every optimisation step (tests use it to interrupt a run).
    """
    for key in ("manifest", "lora", "out"):
        if getattr(cfg, key) is None:
            raise ConfigError("TrainConfig", key, f"a value (in the config file or --{key})", got=None)
    from lionlora.apps.data import read_pairs

    read_pairs(cfg.manifest, cfg.lora)  # a bad manifest fails before the model loads
    return _Trainer(cfg).run(callback)


class _Trainer:
    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.out = Path(cfg.out)

    def _accelerator(self):
        import torch
        from accelerate import Accelerator
        from accelerate.utils import ProjectConfiguration

        cfg = self.cfg
        cuda = resolve_device(cfg.device, "train").type == "cuda"
        mp = cfg.mixed_precision if cfg.mixed_precision != "auto" else ("bf16" if cuda else "no")
        acc = Accelerator(
            mixed_precision=mp,
            cpu=not cuda,
            log_with="tensorboard",
            project_config=ProjectConfiguration(project_dir=str(self.out), logging_dir=str(self.out / "logs")),
        )
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(mp, torch.float32)
        return acc, dtype

    def _data(self, pipe, acc, frames: int, height: int, width: int):
        from tqdm.auto import tqdm

        from lionlora.apps.data import LatentCache, read_pairs
        from lionlora.errors import InputError

        cfg = self.cfg
        pairs = read_pairs(cfg.manifest, cfg.lora)
        s_min = cfg.s_min if cfg.s_min is not None else min(p.scale for p in pairs)
        for p in pairs:
            if not scale_in_range(p.scale, s_min):
                raise InputError(cfg.manifest, f"row {p.row}: scale", f"S in [s_min, 1] = [{s_min}, 1]", got=p.scale)
            if len(p.frames) < frames:
                raise InputError(
                    cfg.manifest, f"row {p.row}: frames", f"at least {frames} frame indices", got=len(p.frames)
                )
        cache = LatentCache(cfg.cache_dir or self.out / "cache", pipe, cfg.model, frames, height, width)
        with acc.main_process_first():
            samples = [cache.pair_latents(p) for p in tqdm(pairs, desc=f"latents {cfg.lora}", **_bar(acc))]
            prompts = {p.prompt: cache.prompt_embeds(p.prompt) for p in pairs}
        # what the run trains on: a checkpoint made on other data is not resumed
        fingerprint = hashlib.sha256(
            json.dumps([[cache.pair_key(p), p.scale, p.prompt] for p in pairs]).encode()
        ).hexdigest()
        return pairs, samples, prompts, s_min, fingerprint

    def run(self, callback) -> dict:
        import torch
        from diffusers.optimization import get_scheduler
        from tqdm.auto import tqdm

        from lionlora.apps.checkpoint import list_checkpoints, load_checkpoint, prune_checkpoints, save_checkpoint
        from lionlora.apps.data import SampleOrder, step_generator
        from lionlora.apps.model import load_pipeline, video_size
        from lionlora.lora.fusion import ActiveAdapter
        from lionlora.lora.lion import LionLoRA

        cfg, started = self.cfg, time.time()
        acc, dtype = self._accelerator()
        world = acc.num_processes
        if cfg.batch_size % (cfg.micro_batch_size * world):
            raise ConfigError(
                "TrainConfig", "batch_size", f"a multiple of micro_batch_size x {world} processes", got=cfg.batch_size
            )
        accum = cfg.batch_size // (cfg.micro_batch_size * world)
        pipe = load_pipeline(
            cfg.model,
            dtype={torch.bfloat16: "bfloat16", torch.float16: "float16"}.get(dtype, "float32"),
            device=str(acc.device),
        )
        frames, height, width = video_size(pipe, cfg.frames, cfg.height, cfg.width, "TrainConfig")
        pairs, samples, prompts, s_min, fingerprint = self._data(pipe, acc, frames, height, width)
        pipe.vae.to("cpu")
        pipe.text_encoder.to("cpu")

        torch.manual_seed(cfg.seed)
        lion = LionLoRA(pipe.transformer)
        lion.add_adapter(cfg.adapter_config(s_min))
        params = lion.trainable(cfg.lora, torch.float32)
        if cfg.gradient_checkpointing:
            pipe.transformer.enable_gradient_checkpointing()
        optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        lr_sched = get_scheduler(
            cfg.lr_scheduler, optimizer, num_warmup_steps=cfg.warmup_steps, num_training_steps=cfg.steps
        )
        ckpt_dir = self.out / "checkpoints"
        start, losses, eval_before = 0, [], None
        found = list_checkpoints(ckpt_dir) if cfg.resume else []
        if found and _stale(found[-1][1], fingerprint, acc):
            found = []
        if found:
            state = load_checkpoint(found[-1][1], lion, cfg.lora, optimizer, lr_sched)
            start, losses, eval_before = state["step"], list(state["losses"]), state.get("eval_loss_before")
            _warn_config_change(state.get("train_config", {}), to_dict(cfg))
        model, optimizer = acc.prepare(lion, optimizer)

        latent_frames = (frames - 1) // pipe.vae_scale_factor_temporal + 1
        rope = None
        if pipe.transformer.config.use_rotary_positional_embeddings:
            rope = pipe._prepare_rotary_positional_embeddings(height, width, latent_frames, acc.device)

        def make_batch(idx):
            batch = collate([samples[i] for i in idx], [prompts[pairs[i].prompt] for i in idx], acc.device, dtype)
            scales = torch.tensor([pairs[i].scale for i in idx])
            return batch, [ActiveAdapter(cfg.lora, scale=scales if cfg.scaling_token else None)]

        def eval_loss() -> float | None:
            n = min(cfg.eval_pairs, len(pairs))
            if n == 0:
                return None
            model.eval()
            total = 0.0
            with torch.no_grad(), acc.autocast():
                for i in range(n):
                    batch, adapters = make_batch([i])
                    t = torch.tensor([int((i + 0.5) / n * pipe.scheduler.config.num_train_timesteps)])
                    gen = step_generator(cfg.seed, -1, i)
                    with lion.activate(adapters):
                        total += diffusion_loss(model, pipe.scheduler, batch, gen, rope, timesteps=t).item()
            model.train()
            return total / n

        if start == 0:
            eval_before = eval_loss()
        acc.init_trackers(
            "lionlora", config={k: v for k, v in to_dict(cfg).items() if isinstance(v, (int, float, str, bool))}
        )
        order = SampleOrder(len(pairs), cfg.seed)
        model.train()
        bar = tqdm(total=cfg.steps, initial=start, desc=f"train {cfg.lora}", **_bar(acc))
        for step in range(start, cfg.steps):
            torch.manual_seed(step_generator(cfg.seed, step, -1).initial_seed())  # LoRA dropout
            total = 0.0
            for micro in range(accum):
                first = step * cfg.batch_size + (micro * world + acc.process_index) * cfg.micro_batch_size
                batch, adapters = make_batch(order.indices(first, cfg.micro_batch_size))
                gen = step_generator(cfg.seed, step, micro, acc.process_index)
                sync = contextlib.nullcontext() if micro == accum - 1 else acc.no_sync(model)
                with sync, lion.activate(adapters):
                    with acc.autocast():
                        loss = diffusion_loss(model, pipe.scheduler, batch, gen, rope)
                    acc.backward(loss / accum)
                total += loss.detach().float() / accum
            if cfg.max_grad_norm > 0:
                acc.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            lr_sched.step()
            optimizer.zero_grad(set_to_none=True)
            value = float(acc.reduce(total.reshape(1), reduction="mean").item())
            losses.append(value)
            done = step + 1
            bar.update(1)
            bar.set_postfix(loss=f"{value:.4f}")
            if done % cfg.log_every == 0 or done == cfg.steps:
                acc.log({"loss": value, "lr": lr_sched.get_last_lr()[0]}, step=done)
            if done % cfg.checkpoint_every == 0 or done == cfg.steps:
                acc.wait_for_everyone()
                if acc.is_main_process:
                    save_checkpoint(
                        ckpt_dir,
                        done,
                        lion,
                        cfg.lora,
                        optimizer,
                        lr_sched,
                        {
                            "losses": losses,
                            "eval_loss_before": eval_before,
                            "train_config": to_dict(cfg),
                            "data_fingerprint": fingerprint,
                        },
                    )
                    prune_checkpoints(ckpt_dir, cfg.keep_checkpoints)
            if callback is not None:
                callback(done, value)
        bar.close()
        eval_after = eval_loss()
        summary = {
            "adapter": cfg.lora,
            "steps": cfg.steps,
            "resumed_from": start,
            "s_min": s_min,
            "pairs": len(pairs),
            "frames": frames,
            "height": height,
            "width": width,
            "final_loss": losses[-1] if losses else None,
            "eval_loss_before": eval_before,
            "eval_loss_after": eval_after,
            "seconds_this_run": round(time.time() - started, 2),
            "processes": world,
            "gradient_accumulation": accum,
        }
        if acc.is_main_process:
            self._write_outputs(lion, summary, losses)
        acc.end_training()
        return summary

    def _write_outputs(self, lion, summary: dict, losses: list[float]) -> None:
        from lionlora.config import dump_config
        from lionlora.io.files import write_text
        from lionlora.lora.io import save_adapter

        dump_config(self.cfg, self.out / "train_config.json")
        write_text(self.out / "loss.csv", "step,loss\n" + "".join(f"{i + 1},{v:.6g}\n" for i, v in enumerate(losses)))
        _plot_losses(losses, self.out / "loss.png", self.cfg.lora)
        save_adapter(lion, self.cfg.lora, self.out, extra={"training": summary})


def _bar(acc) -> dict:
    """Progress bars on the main process only (an explicit ``disable=False`` would override TQDM_DISABLE)."""
    return {} if acc.is_local_main_process else {"disable": True}


def _stale(checkpoint: Path, fingerprint: str, acc) -> bool:
    """True when the newest checkpoint was made on other training data (re-rendered clips, other
    pairs): its folder is then moved to ``checkpoints.stale`` and training starts from step 0."""
    import shutil

    from lionlora.apps.checkpoint import STATE_FILE
    from lionlora.io.files import read_json

    saved = read_json(checkpoint / STATE_FILE, "a training checkpoint").get("data_fingerprint")
    if saved == fingerprint:
        return False
    folder = checkpoint.parent
    log.warning(
        "%s: checkpoints made on other training data; starting from step 0 (old ones moved to %s)",
        folder,
        folder.with_name("checkpoints.stale"),
    )
    acc.wait_for_everyone()
    if acc.is_main_process:
        shutil.rmtree(folder.with_name("checkpoints.stale"), ignore_errors=True)
        folder.rename(folder.with_name("checkpoints.stale"))
    acc.wait_for_everyone()
    return True


def _warn_config_change(saved: dict, current: dict) -> None:
    changed = sorted(k for k in current if k not in ("out", "resume") and saved.get(k) != current.get(k))
    if changed:
        log.warning("resuming with changed options %s: the run will differ from an uninterrupted one", changed)


def _plot_losses(losses: list[float], path: Path, name: str) -> None:
    from lionlora.plots import finish, new_axes

    fig, ax = new_axes((6, 3.5))
    ax.plot(range(1, len(losses) + 1), losses, lw=1)
    finish(fig, ax, "step", "v-prediction MSE", f"training loss: {name}", path, legend=False)
