"""Fig. 4 and Fig. 5: per-block cosine similarity between LoRAs' outputs and per-block output norms.

The "output" of adapter i in block b is the concatenation, over the block's adapted linear
layers and over all tokens, of ``delta_i = scaling * B_i A_i x``. All adapters are probed on
the *same* activations x, those of the base model (the adapters' outputs are recorded, not
added), so that differences between LoRAs come from the LoRAs and not from diverging inputs.
For sample s::

    cos_b(i, j) = <delta_i, delta_j> / (||delta_i|| ||delta_j||)      (Fig. 4)
    norm_b(i)   = ||delta_i||                                           (Fig. 5)

A sample is a conditioning image, a prompt and a diffusion timestep t: the model input is the
still video of the image's latents noised to t (a fixed seed), with the image latents as the
I2V condition, as in training.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from lionlora.apps.model import PAPER_MODEL, check_size_options
from lionlora.config import opt
from lionlora.errors import ConfigError

log = logging.getLogger(__name__)

_BLOCK = re.compile(r"transformer_blocks\.(\d+)\.")


@dataclass
class AnalyzeConfig:
    """Options of ``lionlora analyze``."""

    model: str = opt(PAPER_MODEL, "CogVideoX I2V pipeline: hub id or local folder")
    timesteps: list[int] = opt([250, 500, 750], "diffusion timesteps at which the outputs are probed")
    seed: int = opt(0, "seed of the noise")
    frames: int | None = opt(None, "frames of the probe video (default: the model's native)")
    shallow_blocks: int | None = opt(None, "blocks counted as shallow in the summary (default: the first third)")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = opt("auto", "weights dtype")
    device: Literal["auto", "cpu", "cuda"] = opt("auto", "device")

    def __post_init__(self) -> None:
        if not self.timesteps or any(not 0 <= t < 1000 for t in self.timesteps):
            raise ConfigError("AnalyzeConfig", "timesteps", "timesteps in [0, 1000)", got=self.timesteps)
        check_size_options("AnalyzeConfig", self.frames, None, None)


class _Accumulator:
    """Per-block sums of squared norms and pairwise dot products of the probed outputs."""

    def __init__(self, names: list[str]):
        self.names = names
        self.sq: dict[tuple[int, str], float] = {}
        self.dot: dict[tuple[int, str, str], float] = {}

    def __call__(self, module_name: str, x, names: list[str], deltas: list) -> None:
        block = int(_BLOCK.search(module_name).group(1))
        flat = {n: d.float().reshape(-1) for n, d in zip(names, deltas)}
        for n, v in flat.items():
            self.sq[(block, n)] = self.sq.get((block, n), 0.0) + float(v @ v)
        for a, b in itertools.combinations(names, 2):
            self.dot[(block, a, b)] = self.dot.get((block, a, b), 0.0) + float(flat[a] @ flat[b])

    def rows(self, sample: str) -> tuple[list[dict], list[dict]]:
        blocks = sorted({b for b, _ in self.sq})
        norms = [
            {"sample": sample, "block": b, "lora": n, "norm": float(np.sqrt(self.sq[(b, n)]))}
            for b in blocks
            for n in self.names
            if (b, n) in self.sq
        ]
        sims = []
        for b in blocks:
            for a, c in itertools.combinations(self.names, 2):
                if (b, a, c) in self.dot:
                    den = np.sqrt(self.sq[(b, a)] * self.sq[(b, c)])
                    sims.append(
                        {
                            "sample": sample,
                            "block": b,
                            "lora_a": a,
                            "lora_b": c,
                            "cosine": float(self.dot[(b, a, c)] / den) if den > 0 else 0.0,
                        }
                    )
        return sims, norms


def probe(lion, pipe, image: np.ndarray, prompt: str, timestep: int, seed: int, frames: int) -> _Accumulator:
    """Run the base model once on one sample and record every adapter's per-block outputs."""
    import torch

    from lionlora.apps.data import encode_video, to_model_pixels
    from lionlora.apps.model import model_geometry
    from lionlora.io.video import resize_cover
    from lionlora.lora.config import FusionConfig
    from lionlora.lora.fusion import ActiveAdapter

    g = model_geometry(pipe)
    first = resize_cover(image[None], g["height"], g["width"])
    enc = encode_video(pipe, to_model_pixels(first), seed)
    latent_frames = (frames - 1) // g["temporal"] + 1
    image_latents = enc["image_latents"]  # [1, C, h, w]
    x0 = image_latents.repeat(latent_frames, 1, 1, 1)[None]
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(x0.shape, generator=gen)
    t = torch.tensor([timestep])
    noisy = pipe.scheduler.add_noise(x0, noise, t)
    cond = torch.cat([image_latents[None], torch.zeros_like(x0[:, 1:])], dim=1)
    dev, dtype = pipe.transformer.device, pipe.transformer.dtype
    inputs = torch.cat([noisy, cond], dim=2).to(dev, dtype)
    with torch.no_grad():
        embeds, _ = pipe.encode_prompt(
            prompt=prompt, do_classifier_free_guidance=False, max_sequence_length=g["text_tokens"], device=dev
        )
    rope = None
    if pipe.transformer.config.use_rotary_positional_embeddings:
        rope = pipe._prepare_rotary_positional_embeddings(g["height"], g["width"], latent_frames, dev)
    acc = _Accumulator(list(lion.configs))
    lion.state.probe = acc
    try:
        with lion.activate([ActiveAdapter(n) for n in lion.configs], FusionConfig(mode="vanilla")), torch.no_grad():
            lion.transformer(
                hidden_states=inputs,
                encoder_hidden_states=embeds.to(dtype),
                timestep=t.to(dev),
                image_rotary_emb=rope,
                return_dict=False,
            )
    finally:
        lion.state.probe = None
    return acc


def analyze(cfg: AnalyzeConfig, loras: dict[str, Path], images: list[Path], prompt: str, out: str | Path) -> dict:
    """Probe adapters ``loras`` (name -> adapter path) on ``images`` x ``cfg.timesteps``; write
    ``similarity.csv``, ``norms.csv``, ``similarity.png``, ``norms.png`` and ``summary.json`` to ``out``."""
    import pandas as pd
    from tqdm.auto import tqdm

    from lionlora.apps.generate import read_condition_image
    from lionlora.apps.model import load_pipeline, model_geometry
    from lionlora.config import to_dict
    from lionlora.io.files import write_json, write_text
    from lionlora.lora.io import load_adapter
    from lionlora.lora.lion import LionLoRA

    if len(loras) < 2 or not images:  # one adapter has no pair to compare
        raise ConfigError(
            "analyze", "--lora/--image", "at least two adapters and one image", got=(len(loras), len(images))
        )
    out = Path(out)
    conditions = [read_condition_image(path) for path in images]  # a bad image fails before the model loads
    pipe = load_pipeline(cfg.model, cfg.dtype, cfg.device)
    lion = LionLoRA(pipe.transformer)
    for name, path in loras.items():
        load_adapter(lion, path, name=name)
    frames = cfg.frames if cfg.frames is not None else model_geometry(pipe)["frames"]
    sims, norms = [], []
    jobs = [(i, p, t) for i, p in enumerate(images) for t in cfg.timesteps]
    for i, path, t in tqdm(jobs, desc="probe"):
        acc = probe(lion, pipe, conditions[i], prompt, t, cfg.seed + i, frames)
        s, n = acc.rows(f"{Path(path).stem}@t{t}")
        sims += s
        norms += n
    sim_df, norm_df = pd.DataFrame(sims), pd.DataFrame(norms)
    write_text(out / "similarity.csv", sim_df.to_csv(index=False))
    write_text(out / "norms.csv", norm_df.to_csv(index=False))
    summary = _summary(sim_df, norm_df, lion.num_layers, cfg.shallow_blocks)
    summary["config"] = to_dict(cfg)
    summary["loras"] = {k: str(v) for k, v in loras.items()}
    write_json(out / "summary.json", summary)
    _plot(sim_df, norm_df, out)
    return summary


def _summary(sim_df, norm_df, num_layers: int, shallow: int | None) -> dict:
    shallow = shallow if shallow is not None else max(1, num_layers // 3)
    out = {"shallow_blocks": shallow, "samples": int(norm_df["sample"].nunique())}
    if len(sim_df):
        for label, part in (("shallow", sim_df[sim_df.block < shallow]), ("deep", sim_df[sim_df.block >= shallow])):
            if len(part):
                out[f"cosine_{label}_mean"] = float(part.cosine.mean())
                out[f"cosine_{label}_std"] = float(part.cosine.std(ddof=0))
    spread = norm_df.groupby(["sample", "block"]).norm.agg(lambda v: float(v.max() / max(v.min(), 1e-30)))
    out["norm_ratio_max_over_min_mean"] = float(spread.mean())
    return out


def _plot(sim_df, norm_df, out: Path) -> None:
    from lionlora.plots import finish, new_axes

    if len(sim_df):
        fig, ax = new_axes()
        for (a, b), part in sim_df.groupby(["lora_a", "lora_b"]):
            stats = part.groupby("block").cosine.agg(["mean", "std"]).fillna(0.0)
            ax.errorbar(stats.index, stats["mean"], yerr=stats["std"], marker="o", ms=3, capsize=2, label=f"{a} / {b}")
        ax.axhline(0.0, color="k", lw=0.5)
        finish(
            fig,
            ax,
            "transformer block",
            "cosine similarity",
            "LoRA outputs: cosine similarity per block (Fig. 4)",
            out / "similarity.png",
        )
    fig, ax = new_axes()
    for name, part in norm_df.groupby("lora"):
        ax.scatter(part.block, part.norm, s=8, alpha=0.6, label=name)
        ax.plot(*zip(*part.groupby("block").norm.mean().items()), lw=1)
    ax.set_yscale("log")
    finish(
        fig,
        ax,
        "transformer block",
        "output norm",
        "LoRA output norms per block and sample (Fig. 5)",
        out / "norms.png",
    )
