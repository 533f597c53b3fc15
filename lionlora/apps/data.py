"""Training data: the pairs manifest (contract 1), cached VAE latents and the deterministic sample order.

A pair is one training example ``(clip frames, S, first frame, prompt)`` for one adapter: the
manifest row names the clip, the frame indices sampled for its scaling value S (uniformly from
the first ``N * S`` frames, Sec. 3.4) and the prompt. The VAE latents of a pair are computed once
and cached per (clip, frames, size, model), so a clip used at several S has one cache entry per S.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lionlora.errors import InputError, VideoError
from lionlora.io.files import atomic_path
from lionlora.io.video import iter_video, resize_cover
from lionlora.records.pairs import PairsManifest
from lionlora.scaling import spread_indices

log = logging.getLogger(__name__)


@dataclass
class Pair:
    """One manifest row. ``frames`` are indices into the clip; ``frames[0]`` is the conditioning frame."""

    clip: Path
    kind: str
    lora: str
    scale: float
    frames: list[int]
    cameras: Path | None
    prompt: str
    row: int


def read_pairs(manifest: str | Path, lora: str | None = None) -> list[Pair]:
    """Rows of a pairs manifest (all of them, or those of adapter ``lora``), paths resolved.

    Raises:
        InputError: what :meth:`PairsManifest.read` rejects, a clip that does not exist, or no row
            for ``lora``.
    """
    manifest = Path(manifest)
    records = PairsManifest.read(manifest)
    rows = records.for_lora(lora) if lora is not None else list(enumerate(records.rows, start=1))
    if lora is not None and not rows:
        raise InputError(manifest, "lora", f"rows for the adapter '{lora}'", got=sorted({r.lora for r in records.rows}))
    pairs = []
    for row, rec in rows:
        clip = manifest.parent / rec.clip
        if not clip.exists():
            raise InputError(manifest, f"row {row}: clip", "an existing clip (relative to the manifest)", got=rec.clip)
        cameras = manifest.parent / rec.cameras if rec.cameras else None
        pairs.append(Pair(clip, rec.kind, rec.lora, rec.scale, list(rec.frames), cameras, rec.prompt, row))
    return pairs


def subsample(indices: list[int], n: int) -> list[int]:
    """``n`` entries of ``indices`` spread uniformly, first and last kept (the span, hence S, is kept)."""
    if len(indices) < n:
        raise ValueError(f"need at least {n} frames, got {len(indices)}")
    return [int(indices[i]) for i in spread_indices(len(indices), n)]


def read_clip_frames(path: Path, indices: list[int]) -> np.ndarray:
    """The frames ``indices`` of a video (decoded once, in order), ``[T, H, W, 3]`` uint8."""
    wanted = set(indices)
    last = max(indices)
    got: dict[int, np.ndarray] = {}
    for i, frame in enumerate(iter_video(path)):
        if i in wanted:
            got[i] = frame
        if i >= last:
            break
    if len(got) != len(wanted):
        raise VideoError(path, "frames", f"frame {last} to exist", got=f"{max(got, default=-1) + 1} frames")
    return np.stack([got[i] for i in indices])


def to_model_pixels(frames: np.ndarray) -> torch.Tensor:
    """uint8 ``[T, H, W, 3]`` -> float ``[1, 3, T, H, W]`` in [-1, 1] (the VAE's input)."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).float().div(127.5).sub(1.0)
    return x.permute(3, 0, 1, 2).unsqueeze(0)


def _seed_of(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") & 0x7FFFFFFFFFFFFFFF


class LatentCache:
    """VAE latents and T5 embeddings of training pairs, cached as safetensors under ``root``.

    Args:
        root: cache folder.
        pipe: the loaded pipeline (its VAE and text encoder are used on a miss).
        model: the model id/path (part of the cache key).
        frames, height, width: the training clip size in pixels.
        image_noise: ``(mean, std)`` of the log-sigma of the noise added to the conditioning image
            before it is encoded (None: the clean image); one seeded draw per pair.
    """

    def __init__(
        self,
        root: str | Path,
        pipe,
        model: str,
        frames: int,
        height: int,
        width: int,
        image_noise: tuple[float, float] | None = None,
    ):
        self.root = Path(root)
        self.pipe = pipe
        self.model = str(model)
        self.frames, self.height, self.width = frames, height, width
        self.image_noise = None if image_noise is None else (float(image_noise[0]), float(image_noise[1]))

    def _key(self, kind: str, payload: dict) -> str:
        text = json.dumps({"kind": kind, "model": self.model, **payload}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _load_or(self, key: str, compute) -> dict[str, torch.Tensor]:
        from safetensors.torch import load_file, save_file

        path = self.root / f"{key}.safetensors"
        if path.is_file():
            return load_file(str(path))
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in compute().items()}
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp))
        return tensors

    def pair_key(self, pair: Pair) -> str:
        """Cache key of a pair's latents: the clip (path, size, modification time), frames and size."""
        stat = pair.clip.stat()
        payload = {
            "clip": str(pair.clip.resolve()),
            "size": stat.st_size,
            "mtime": stat.st_mtime_ns,
            "frames": subsample(pair.frames, self.frames),
            "h": self.height,
            "w": self.width,
            "seed": "clip bytes",  # content_seed; caches of the former path-and-time seed are not reused
        }
        if self.image_noise is not None:
            payload["image_noise"] = list(self.image_noise)
        return self._key("pair", payload)

    def content_seed(self, pair: Pair) -> int:
        """Seed of a pair's posterior and image-noise draws: from the clip's bytes, frames and size,
        never its path or time, so the same data trains the same adapter in any results folder."""
        digest = hashlib.sha256(pair.clip.read_bytes()).hexdigest()
        payload = [digest, subsample(pair.frames, self.frames), self.height, self.width, self.image_noise]
        return _seed_of(json.dumps(payload))

    def pair_latents(self, pair: Pair) -> dict[str, torch.Tensor]:
        """``latents`` ``[T, C, h, w]`` and ``image_latents`` ``[1, C, h, w]`` (scaled as the pipeline does)."""
        indices = subsample(pair.frames, self.frames)
        key = self.pair_key(pair)

        def compute():
            pixels = to_model_pixels(resize_cover(read_clip_frames(pair.clip, indices), self.height, self.width))
            return encode_video(self.pipe, pixels, self.content_seed(pair), self.image_noise)

        return self._load_or(key, compute)

    def prompt_embeds(self, prompt: str) -> torch.Tensor:
        """T5 embeddings ``[L, D]`` of a prompt at the transformer's text length."""
        length = self.pipe.transformer.config.max_text_seq_length
        key = self._key("prompt", {"prompt": prompt, "length": length})

        def compute():
            with torch.no_grad():
                embeds, _ = self.pipe.encode_prompt(
                    prompt=prompt,
                    do_classifier_free_guidance=False,
                    max_sequence_length=length,
                    device=self.pipe.text_encoder.device,
                )
            return {"embeds": embeds[0]}

        return self._load_or(key, compute)["embeds"]


@torch.no_grad()
def encode_video(
    pipe, pixels: torch.Tensor, seed: int, image_noise: tuple[float, float] | None = None
) -> dict[str, torch.Tensor]:
    """VAE latents of a clip and of its first frame, scaled like diffusers' CogVideoX I2V pipeline.

    Args:
        pixels: ``[1, 3, T, H, W]`` in [-1, 1].
        image_noise: ``(mean, std)``: Gaussian noise of sigma ``exp(N(mean, std))`` is added to the
            first frame before it is encoded (CogVideoX's I2V fine-tuning); None: the clean frame.
    Returns:
        ``latents`` ``[T', C, h, w]`` and ``image_latents`` ``[1, C, h, w]``.
    """
    vae = pipe.vae
    gen = torch.Generator().manual_seed(seed)
    x = pixels.to(device=vae.device, dtype=vae.dtype)

    def sample(t: torch.Tensor) -> torch.Tensor:
        return vae.encode(t).latent_dist.sample(generator=gen)

    factor = vae.config.scaling_factor
    latents = sample(x) * factor
    first = x[:, :, :1]
    if image_noise is not None:
        sigma = math.exp(image_noise[0] + image_noise[1] * float(torch.randn((), generator=gen)))
        first = first + (torch.randn(first.shape, generator=gen) * sigma).to(first)
    image = sample(first)
    image = image / factor if vae.config.invert_scale_latents else image * factor
    return {"latents": latents[0].permute(1, 0, 2, 3).float(), "image_latents": image[0].permute(1, 0, 2, 3).float()}


class SampleOrder:
    """Which pairs each optimisation step uses: a pure function of (seed, step), so a resumed run
    sees exactly the batches the uninterrupted run would have seen.

    Sample positions run ``0, 1, 2, ...`` over the whole training; position p is item
    ``perm_e[p mod n]`` of epoch ``e = p // n``, with one seeded permutation per epoch.
    """

    def __init__(self, n_items: int, seed: int):
        self.n = n_items
        self.seed = seed
        self._perms: dict[int, torch.Tensor] = {}

    def _perm(self, epoch: int) -> torch.Tensor:
        if epoch not in self._perms:
            gen = torch.Generator().manual_seed(_seed_of(f"order/{self.seed}/{epoch}"))
            self._perms = {epoch: torch.randperm(self.n, generator=gen)}
        return self._perms[epoch]

    def indices(self, first_position: int, count: int) -> list[int]:
        out = []
        for p in range(first_position, first_position + count):
            epoch, i = divmod(p, self.n)
            out.append(int(self._perm(epoch)[i]))
        return out


def step_generator(seed: int, *parts: int) -> torch.Generator:
    """A CPU generator seeded from (seed, step, micro-step, rank): noise and timesteps of one micro-batch."""
    return torch.Generator().manual_seed(_seed_of("step/" + "/".join(str(p) for p in (seed, *parts))))
