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
import dataclasses
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lionlora.apps.model import PAPER_MODEL, check_size_options
from lionlora.checks import is_4k_plus_1, scale_in_range
from lionlora.config import opt, to_dict
from lionlora.device import resolve_device
from lionlora.errors import ConfigError
from lionlora.lora.config import AdapterConfig, check_name

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def _adapter_defaults() -> AdapterConfig:
    return AdapterConfig()


@dataclass
class TrainConfig:
    """Options of ``lionlora train`` (the ``train:`` section of the workflow config).

    The adapter's architecture is one nested :class:`~lionlora.lora.config.AdapterConfig`
    (``adapter:``; on the command line ``--set adapter.rank=4``); its name is ``lora`` and an
    unset ``s_min`` becomes the smallest S of the adapter's manifest rows. The options the paper
    leaves open (noise on and dropout of the conditioning, AdamW betas/eps/weight decay, gradient
    clipping) default to diffusers' CogVideoX image-to-video LoRA fine-tuning script.
    """

    model: str = opt(PAPER_MODEL, "CogVideoX I2V pipeline: hub id or local folder")
    manifest: Path | None = opt(None, "training-pairs manifest (CSV, contract 1)")
    lora: str | None = opt(None, "adapter to train: the manifest rows whose 'lora' column equals it")
    out: Path | None = opt(None, "output folder of the adapter (checkpoints and logs inside)")
    adapter: AdapterConfig = field(
        default_factory=_adapter_defaults,
        metadata={"help": "the adapter's architecture (rank, lora_alpha, target_modules, ...; its name is `lora`)"},
    )
    variant: Literal["lion", "plain"] = opt(
        "lion",
        "lion: LoRA + scaling token (the method); plain: a plain LoRA without token (turns adapter.scaling_token "
        "off), the adapter of the paper's vanilla-fusion and adapter-scale baselines",
    )
    steps: int = opt(4000, "optimisation steps")
    learning_rate: float = opt(5e-4, "peak learning rate")
    lr_scheduler: Literal["constant", "constant_with_warmup", "linear", "cosine"] = opt(
        "constant_with_warmup", "learning-rate schedule"
    )
    warmup_steps: int = opt(100, "linear warm-up steps")
    adam_betas: tuple[float, float] = opt((0.9, 0.95), "AdamW betas (CogVideoX fine-tuning: 0.9, 0.95)")
    adam_epsilon: float = opt(1e-8, "AdamW epsilon (CogVideoX fine-tuning: 1e-8)")
    weight_decay: float = opt(1e-4, "AdamW weight decay (CogVideoX fine-tuning: 1e-4)")
    max_grad_norm: float = opt(1.0, "gradient clipping to this total norm (0: off; CogVideoX fine-tuning: 1.0)")
    image_noise: tuple[float, float] | None = opt(
        (-3.0, 0.5),
        "noise on the conditioning image before VAE encoding: sigma = exp(N(mean, std)) for (mean, std) "
        "(CogVideoX fine-tuning: (-3, 0.5)); one draw per pair, as the latents are cached; null: clean image",
    )
    image_dropout: float = opt(0.05, "probability of zeroing a sample's image latents (CogVideoX fine-tuning: 0.05)")
    text_dropout: float = opt(
        0.0, "probability of zeroing a sample's prompt embeddings (diffusers' script: 0; CogVideoX's SAT: 0.1)"
    )
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
        if self.variant not in ("lion", "plain"):
            raise ConfigError("TrainConfig", "variant", "'lion' or 'plain'", got=self.variant)
        if self.variant == "plain":  # a plain LoRA has no token (norm consistency only acts when fusing)
            self.adapter = dataclasses.replace(self.adapter, scaling_token=False)
        for key in ("steps", "batch_size", "micro_batch_size", "checkpoint_every", "log_every"):
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
        if self.warmup_steps < 0 or self.keep_checkpoints < 1 or self.eval_pairs < 0:
            raise ConfigError(
                "TrainConfig",
                "warmup_steps/keep_checkpoints/eval_pairs",
                "warmup_steps >= 0, keep_checkpoints >= 1, eval_pairs >= 0",
                got=(self.warmup_steps, self.keep_checkpoints, self.eval_pairs),
            )
        self._check_optimiser_and_conditioning()

    def _check_optimiser_and_conditioning(self) -> None:
        if not all(0 <= b < 1 for b in self.adam_betas):
            raise ConfigError("TrainConfig", "adam_betas", "two values in [0, 1)", got=list(self.adam_betas))
        if not self.adam_epsilon > 0 or self.weight_decay < 0 or self.max_grad_norm < 0:
            raise ConfigError(
                "TrainConfig",
                "adam_epsilon/weight_decay/max_grad_norm",
                "adam_epsilon > 0, weight_decay >= 0, max_grad_norm >= 0",
                got=(self.adam_epsilon, self.weight_decay, self.max_grad_norm),
            )
        for key in ("image_dropout", "text_dropout"):
            if not 0 <= getattr(self, key) < 1:
                raise ConfigError("TrainConfig", key, "a probability in [0, 1)", got=getattr(self, key))
        if self.image_noise is not None and not self.image_noise[1] >= 0:
            raise ConfigError("TrainConfig", "image_noise", "(mean, std) with std >= 0, or null", got=self.image_noise)

    def adapter_config(self, s_min: float) -> AdapterConfig:
        """The adapter as trained: the nested config with the adapter's name and its S range."""
        return dataclasses.replace(self.adapter, name=self.lora, s_min=s_min)


def diffusion_loss(
    model,
    noise_scheduler,
    batch: dict,
    generator: torch.Generator,
    rope,
    timesteps: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """v-prediction MSE of CogVideoX I2V on one batch (see the module docstring).

    Args:
        model: :class:`~lionlora.lora.lion.LionLoRA` (possibly wrapped by accelerate), with the
            adapter activated by the caller (around the backward pass too), or a bare
            ``CogVideoXTransformer3DModel`` (pretraining).
        batch: ``latents`` ``[B, T, C, h, w]``, ``image_latents`` ``[B, T, C, h, w]`` (padded),
            ``prompt_embeds`` ``[B, L, D]``.
        generator: CPU generator of the noise and timesteps.
        timesteps: fixed timesteps ``[B]`` (random when None).
        noise: fixed noise of ``latents``' shape (random when None, drawn before the timesteps).
    """
    import torch

    x0 = batch["latents"]
    n = x0.shape[0]
    noise = (torch.randn(x0.shape, generator=generator) if noise is None else noise).to(x0)
    if timesteps is None:
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (n,), generator=generator)
    timesteps = timesteps.to(x0.device)
    noisy = noise_scheduler.add_noise(x0, noise, timesteps)
    target = noise_scheduler.get_velocity(x0, noise, timesteps)
    inputs = torch.cat([noisy, batch["image_latents"]], dim=2)
    ofs = None
    net = getattr(model, "module", model)
    transformer = getattr(net, "transformer", net)  # a LionLoRA wrapper or the transformer itself
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


def drop_conditioning(batch: dict, image_p: float, text_p: float, generator: torch.Generator) -> dict:
    """Zero each sample's ``image_latents`` with probability ``image_p`` and its ``prompt_embeds``
    with probability ``text_p`` (CogVideoX fine-tuning's conditioning dropout), in place.

    Args:
        batch: as :func:`collate` returns it (``[B, ...]`` tensors).
        generator: CPU generator of the two ``[B]`` draws (image first, then text).
    """
    import torch

    n = batch["latents"].shape[0]
    u_image, u_text = torch.rand(n, generator=generator), torch.rand(n, generator=generator)
    for key, u, p in (("image_latents", u_image, image_p), ("prompt_embeds", u_text, text_p)):
        if p > 0:
            keep = (u >= p).to(batch[key].device, batch[key].dtype)
            batch[key] = batch[key] * keep.view(-1, *([1] * (batch[key].dim() - 1)))
    return batch


def _tracker_config(options: dict, prefix: str = "") -> dict:
    """The scalar options for TensorBoard, nested ones as ``adapter.rank``."""
    out = {}
    for k, v in options.items():
        if isinstance(v, dict):
            out.update(_tracker_config(v, f"{prefix}{k}."))
        elif isinstance(v, (int, float, str, bool)):
            out[prefix + k] = v
    return out


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
    """One training run, in the order :meth:`run` calls its parts: set-up, resume, steps, summary."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.out = Path(cfg.out)
        self.ckpt_dir = self.out / "checkpoints"

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
        s_min = cfg.adapter.s_min if cfg.adapter.s_min is not None else min(p.scale for p in pairs)
        for p in pairs:
            if not scale_in_range(p.scale, s_min):
                raise InputError(cfg.manifest, f"row {p.row}: scale", f"S in [s_min, 1] = [{s_min}, 1]", got=p.scale)
            if len(p.frames) < frames:
                raise InputError(
                    cfg.manifest, f"row {p.row}: frames", f"at least {frames} frame indices", got=len(p.frames)
                )
        cache = LatentCache(
            cfg.cache_dir or self.out / "cache", pipe, cfg.model, frames, height, width, image_noise=cfg.image_noise
        )
        with acc.main_process_first():
            samples = [cache.pair_latents(p) for p in tqdm(pairs, desc=f"latents {cfg.lora}", **_bar(acc))]
            prompts = {p.prompt: cache.prompt_embeds(p.prompt) for p in pairs}
        # what the run trains on: a checkpoint made on other data is not resumed
        fingerprint = hashlib.sha256(
            json.dumps([[cache.pair_key(p), p.scale, p.prompt] for p in pairs]).encode()
        ).hexdigest()
        return pairs, samples, prompts, s_min, fingerprint

    def run(self, callback) -> dict:
        started = time.time()
        self._setup()
        start, losses, eval_before = self._resume()
        if start == 0:
            eval_before = self._eval_loss()
        self._train(start, losses, eval_before, callback)
        summary = self._summary(start, losses, eval_before, self._eval_loss(), time.time() - started)
        if self.acc.is_main_process:
            self._write_outputs(self.lion, summary, losses)
        self.acc.end_training()
        return summary

    # -- set-up ---------------------------------------------------------------------------------

    def _setup(self) -> None:
        """Accelerator, pipeline, cached data, the adapter, optimizer and LR schedule."""
        import torch

        from lionlora.apps.model import load_pipeline, video_size
        from lionlora.lora.lion import LionLoRA

        cfg = self.cfg
        self.acc, self.dtype = self._accelerator()
        world = self.acc.num_processes
        if cfg.batch_size % (cfg.micro_batch_size * world):
            raise ConfigError(
                "TrainConfig", "batch_size", f"a multiple of micro_batch_size x {world} processes", got=cfg.batch_size
            )
        self.accum = cfg.batch_size // (cfg.micro_batch_size * world)
        pipe = load_pipeline(
            cfg.model,
            dtype={torch.bfloat16: "bfloat16", torch.float16: "float16"}.get(self.dtype, "float32"),
            device=str(self.acc.device),
        )
        self.pipe = pipe
        self.size = video_size(pipe, cfg.frames, cfg.height, cfg.width, "TrainConfig")
        self.pairs, self.samples, self.prompts, self.s_min, self.fingerprint = self._data(pipe, self.acc, *self.size)
        pipe.vae.to("cpu")
        pipe.text_encoder.to("cpu")
        torch.manual_seed(cfg.seed)
        self.lion = LionLoRA(pipe.transformer)
        self.lion.add_adapter(cfg.adapter_config(self.s_min))
        self.params = self.lion.trainable(cfg.lora, torch.float32)
        if cfg.gradient_checkpointing:
            pipe.transformer.enable_gradient_checkpointing()
        self.optimizer, self.lr_sched = self._optimizer(self.params)
        self.rope = self._rope()

    def _optimizer(self, params):
        import torch
        from diffusers.optimization import get_scheduler

        cfg = self.cfg
        optimizer = torch.optim.AdamW(
            params,
            lr=cfg.learning_rate,
            betas=tuple(cfg.adam_betas),
            eps=cfg.adam_epsilon,
            weight_decay=cfg.weight_decay,
        )
        lr_sched = get_scheduler(
            cfg.lr_scheduler, optimizer, num_warmup_steps=cfg.warmup_steps, num_training_steps=cfg.steps
        )
        return optimizer, lr_sched

    def _rope(self):
        frames, height, width = self.size
        pipe = self.pipe
        if not pipe.transformer.config.use_rotary_positional_embeddings:
            return None
        latent_frames = (frames - 1) // pipe.vae_scale_factor_temporal + 1
        return pipe._prepare_rotary_positional_embeddings(height, width, latent_frames, self.acc.device)

    def _resume(self) -> tuple[int, list[float], float | None]:
        """Step, losses and first evaluation loss of the newest checkpoint (0, [], None without one);
        wraps the model and optimizer for accelerate."""
        from lionlora.apps.checkpoint import list_checkpoints, load_checkpoint

        cfg = self.cfg
        start, losses, eval_before = 0, [], None
        found = list_checkpoints(self.ckpt_dir) if cfg.resume else []
        if found and _stale(found[-1][1], self.fingerprint, self.acc):
            found = []
        if found:
            state = load_checkpoint(found[-1][1], self.lion, cfg.lora, self.optimizer, self.lr_sched)
            start, losses, eval_before = state["step"], list(state["losses"]), state.get("eval_loss_before")
            _warn_config_change(state.get("train_config", {}), to_dict(cfg))
        self.model, self.optimizer = self.acc.prepare(self.lion, self.optimizer)
        return start, losses, eval_before

    # -- batches and losses ---------------------------------------------------------------------

    def _batch(self, idx: list[int], dropout: torch.Generator | None = None):
        """The collated batch of pairs ``idx`` and its active adapter; with a ``dropout`` generator,
        each sample's image latents / prompt embeddings are zeroed with their configured probability."""
        import torch

        from lionlora.lora.fusion import ActiveAdapter

        cfg, pairs = self.cfg, self.pairs
        batch = collate(
            [self.samples[i] for i in idx], [self.prompts[pairs[i].prompt] for i in idx], self.acc.device, self.dtype
        )
        if dropout is not None:
            drop_conditioning(batch, cfg.image_dropout, cfg.text_dropout, dropout)
        scales = torch.tensor([pairs[i].scale for i in idx])
        return batch, [ActiveAdapter(cfg.lora, scale=scales if cfg.adapter.scaling_token else None)]

    def _eval_loss(self) -> float | None:
        """Mean loss over the first ``eval_pairs`` pairs at fixed timesteps and noise."""
        import torch

        from lionlora.apps.data import step_generator

        cfg = self.cfg
        n = min(cfg.eval_pairs, len(self.pairs))
        if n == 0:
            return None
        self.model.eval()
        total = 0.0
        with torch.no_grad(), self.acc.autocast():
            for i in range(n):
                batch, adapters = self._batch([i])
                t = torch.tensor([int((i + 0.5) / n * self.pipe.scheduler.config.num_train_timesteps)])
                gen = step_generator(cfg.seed, -1, i)
                with self.lion.activate(adapters):
                    total += diffusion_loss(self.model, self.pipe.scheduler, batch, gen, self.rope, timesteps=t).item()
        self.model.train()
        return total / n

    # -- the loop -------------------------------------------------------------------------------

    def _train(self, start: int, losses: list[float], eval_before: float | None, callback) -> None:
        from tqdm.auto import tqdm

        from lionlora.apps.data import SampleOrder

        cfg, acc = self.cfg, self.acc
        acc.init_trackers("lionlora", config=_tracker_config(to_dict(cfg)))
        order = SampleOrder(len(self.pairs), cfg.seed)
        self.model.train()
        bar = tqdm(total=cfg.steps, initial=start, desc=f"train {cfg.lora}", **_bar(acc))
        for step in range(start, cfg.steps):
            value = self._step(step, order)
            losses.append(value)
            done = step + 1
            bar.update(1)
            bar.set_postfix(loss=f"{value:.4f}")
            if done % cfg.log_every == 0 or done == cfg.steps:
                acc.log({"loss": value, "lr": self.lr_sched.get_last_lr()[0]}, step=done)
            if done % cfg.checkpoint_every == 0 or done == cfg.steps:
                self._checkpoint(done, losses, eval_before)
            if callback is not None:
                callback(done, value)
        bar.close()

    def _step(self, step: int, order) -> float:
        """One optimisation step (gradient accumulation over the micro-batches); returns its loss."""
        import torch

        from lionlora.apps.data import step_generator

        cfg, acc = self.cfg, self.acc
        world, rank = acc.num_processes, acc.process_index
        torch.manual_seed(step_generator(cfg.seed, step, -1).initial_seed())  # LoRA dropout
        total = 0.0
        for micro in range(self.accum):
            first = step * cfg.batch_size + (micro * world + rank) * cfg.micro_batch_size
            dropout = step_generator(cfg.seed, step, micro, rank, 1)
            batch, adapters = self._batch(order.indices(first, cfg.micro_batch_size), dropout)
            gen = step_generator(cfg.seed, step, micro, rank)
            sync = contextlib.nullcontext() if micro == self.accum - 1 else acc.no_sync(self.model)
            with sync, self.lion.activate(adapters):
                with acc.autocast():
                    loss = diffusion_loss(self.model, self.pipe.scheduler, batch, gen, self.rope)
                acc.backward(loss / self.accum)
            total += loss.detach().float() / self.accum
        if cfg.max_grad_norm > 0:
            acc.clip_grad_norm_(self.params, cfg.max_grad_norm)
        self.optimizer.step()
        self.lr_sched.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(acc.reduce(total.reshape(1), reduction="mean").item())

    def _checkpoint(self, done: int, losses: list[float], eval_before: float | None) -> None:
        from lionlora.apps.checkpoint import prune_checkpoints, save_checkpoint

        acc, cfg = self.acc, self.cfg
        acc.wait_for_everyone()
        if not acc.is_main_process:
            return
        extra = {
            "losses": losses,
            "eval_loss_before": eval_before,
            "train_config": to_dict(cfg),
            "data_fingerprint": self.fingerprint,
        }
        save_checkpoint(self.ckpt_dir, done, self.lion, cfg.lora, self.optimizer, self.lr_sched, extra)
        prune_checkpoints(self.ckpt_dir, cfg.keep_checkpoints)

    def _summary(
        self, start: int, losses: list[float], eval_before: float | None, eval_after: float | None, seconds: float
    ) -> dict:
        frames, height, width = self.size
        return {
            "adapter": self.cfg.lora,
            "steps": self.cfg.steps,
            "resumed_from": start,
            "s_min": self.s_min,
            "pairs": len(self.pairs),
            "variant": self.cfg.variant,
            "scenes": training_scenes(self.pairs),
            "frames": frames,
            "height": height,
            "width": width,
            "final_loss": losses[-1] if losses else None,
            "eval_loss_before": eval_before,
            "eval_loss_after": eval_after,
            "seconds_this_run": round(seconds, 2),
            "processes": self.acc.num_processes,
            "gradient_accumulation": self.accum,
        }

    def _write_outputs(self, lion, summary: dict, losses: list[float]) -> None:
        from lionlora.config import dump_config
        from lionlora.io.files import write_text
        from lionlora.lora.io import save_adapter

        dump_config(self.cfg, self.out / "train_config.json")
        write_text(self.out / "loss.csv", "step,loss\n" + "".join(f"{i + 1},{v:.6g}\n" for i, v in enumerate(losses)))
        _plot_losses(losses, self.out / "loss.png", self.cfg.lora)
        save_adapter(lion, self.cfg.lora, self.out, extra={"training": summary})


def training_scenes(pairs) -> list[str]:
    """Scenes whose clips trained the adapter: the ``{scene}`` of camera pairs' ``.../{scene}/{primitive}/clip.mp4``
    (the render stage's layout); motion pairs come from web videos and name no scene."""
    return sorted({Path(p.clip).parent.parent.name for p in pairs if p.kind == "camera"})


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
