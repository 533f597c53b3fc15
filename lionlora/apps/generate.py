"""Inference: CogVideoX I2V with any number of LiON-LoRA adapters, and the fusion baselines.

``lion`` fusion (default) is the method: every adapter appends its scaling token for its S,
LoRA outputs are norm-consistent (eq. 4) and attention runs one branch per adapter (eq. 8).
The baselines of the paper's comparisons are flags of the same call:

* vanilla fusion (Fig. 2): ``fusion='vanilla'``, the adapters' outputs summed with weights
  lambda_i (eq. 3) in one joint attention, no norm rescaling;
* adapter scale (Fig. 10): ``adapter_scale=True``, the LoRA multiplier lambda (eq. 2) is set
  to the requested S and no scaling token is appended.

Names: ``scale`` is always the scaling value S (``--lora NAME=PATH:S``); ``weight`` and
``lam`` are the LoRA multiplier lambda; ``adapter_scale`` names the Fig. 10 baseline, in which
lambda = S x weight.

The noise comes from a CPU generator seeded with ``seed``: the same inputs and seed give the
same video.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from lionlora.apps.model import PAPER_MODEL, check_size_options
from lionlora.checks import is_4k_plus_1, scale_in_range
from lionlora.config import opt
from lionlora.errors import AdapterError, ConfigError
from lionlora.lora.config import check_name
from lionlora.records.video import VideoRecord

if TYPE_CHECKING:
    from lionlora.geometry import Trajectory

log = logging.getLogger(__name__)


@dataclass
class GenerateConfig:
    """Options of ``lionlora generate`` (the ``generate:`` section of the workflow config)."""

    model: str = opt(PAPER_MODEL, "CogVideoX I2V pipeline: hub id or local folder")
    frames: int | None = opt(None, "frames to generate, 4k + 1 (default: the model's native 49)")
    height: int | None = opt(None, "video height (default: the model's native 480)")
    width: int | None = opt(None, "video width (default: the model's native 720)")
    steps: int = opt(50, "DDIM sampling steps")
    cfg: float = opt(6.0, "classifier-free guidance scale (1: off)")
    seed: int = opt(0, "seed of the initial noise")
    negative_prompt: str = opt("", "negative prompt")
    fusion: Literal["lion", "vanilla"] = opt("lion", "lion fusion (eqs. 4, 8) or vanilla fusion (eq. 3)")
    norm: Literal["sample", "token", "none"] = opt("sample", "axes of the norm consistency of eq. 4 (lion fusion)")
    merge: Literal["mean", "sum"] = opt("mean", "lion fusion: mean (Fig. 8) or sum of the k adapters in every layer")
    adapter_scale: bool = opt(False, "Fig. 10 baseline: lambda = S multiplies the LoRA output; no scaling token")
    fps: int = opt(8, "frame rate of the written mp4")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = opt("auto", "weights dtype (auto: bf16 on CUDA)")
    device: Literal["auto", "cpu", "cuda"] = opt("auto", "device")
    cameras_scale: float | None = opt(None, "S of the GT cameras written beside the video (default: the LoRAs' S)")

    def __post_init__(self) -> None:
        if self.steps < 1 or self.fps < 1:
            raise ConfigError("GenerateConfig", "steps/fps", "integers >= 1", got=(self.steps, self.fps))
        if not math.isfinite(self.cfg) or self.cfg < 1.0:
            raise ConfigError("GenerateConfig", "cfg", "a guidance scale >= 1", got=self.cfg)
        check_size_options("GenerateConfig", self.frames, self.height, self.width)
        if self.frames is not None and not is_4k_plus_1(self.frames):
            raise ConfigError("GenerateConfig", "frames", "4k + 1 frames", got=self.frames)
        if self.adapter_scale and self.fusion == "vanilla":
            raise ConfigError(
                "GenerateConfig",
                "adapter_scale",
                "one baseline at a time: adapter_scale (--adapter-scale) or fusion = vanilla (--vanilla-fusion)",
                got="both",
            )
        if self.cameras_scale is not None and not scale_in_range(self.cameras_scale):
            raise ConfigError("GenerateConfig", "cameras_scale", "a value in (0, 1]", got=self.cameras_scale)


def check_guidance(cfg: GenerateConfig, prompt: str) -> None:
    """Classifier-free guidance needs two different conditions.

    CFG moves the prediction from the negative prompt's towards the prompt's by ``cfg``; when the
    two texts are the same, both predictions are equal and any scale above 1 changes nothing but
    doubles the cost, so such a run would silently be unguided.

    Raises:
        ConfigError: ``cfg > 1`` with ``prompt == negative_prompt`` (e.g. both empty).
    """
    if cfg.cfg > 1.0 and prompt.strip() == cfg.negative_prompt.strip():
        raise ConfigError(
            "GenerateConfig",
            "cfg",
            "a prompt that differs from the negative prompt when cfg > 1 (with identical texts classifier-free "
            "guidance does nothing: give a per-scene prompt or captions, or set cfg to 1)",
            got=f"cfg {cfg.cfg} with prompt and negative prompt both {prompt.strip()!r}",
        )


@dataclass
class LoraSpec:
    """One ``--lora NAME=PATH[:S]`` argument (plus its lambda from ``--weight NAME=X``).

    Attributes:
        scale: the scaling value S asked for.
        weight: lambda_i of eq. 3 (the adapter-scale baseline multiplies it by S).
    """

    name: str
    path: Path
    scale: float
    weight: float = 1.0


def parse_lora_spec(text: str) -> LoraSpec:
    """``NAME=PATH[:S]`` -> :class:`LoraSpec` (ConfigError naming the argument otherwise).

    The one ``--lora`` syntax of ``generate`` and ``analyze``: S defaults to 1 and ``:S`` is read
    only when it is a number, so a PATH may hold colons. (``train --lora NAME`` names the adapter
    to train, which has no file yet.)
    """
    expected = "NAME=PATH[:S], e.g. orbit_left=results/lora/orbit_left:0.8"
    if "=" not in text:
        raise ConfigError("--lora", "", expected, got=text)
    name, rest = text.split("=", 1)
    path, scale = rest.rsplit(":", 1) if ":" in rest else (rest, "1")
    check_name(name, "--lora", "NAME")
    try:
        value = float(scale)
    except ValueError:
        path, value = rest, 1.0
    if not math.isfinite(value) or not path:
        raise ConfigError("--lora", "", expected, got=text)
    return LoraSpec(name, Path(path), value)


def apply_weights(specs: list[LoraSpec], weights: list[str]) -> list[LoraSpec]:
    """Set lambda_i from ``NAME=X`` strings; an unknown NAME is an error."""
    names = [s.name for s in specs]
    for item in weights:
        name, _, value = item.partition("=")
        if name not in names:
            raise AdapterError("--weight", "NAME", f"one of the --lora names {names}", got=name)
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not math.isfinite(weight):
            raise ConfigError("--weight", name, "a finite number", got=value)
        specs[names.index(name)].weight = weight
    return specs


def check_specs(specs: list[LoraSpec], cfg: GenerateConfig) -> None:
    """Validate names and S against the adapter files before any model is loaded.

    Raises:
        AdapterError: pickle file, a NAME that is not the adapter's, a repeated NAME, or S
            outside ``[s_min, 1]`` (adapter-scale baseline: an S < 0, i.e. a negative lambda).
    """
    from lionlora.lora.io import read_adapter

    seen = set()
    for spec in specs:
        if spec.name in seen:
            raise AdapterError("--lora", "NAME", "each LoRA once", got=spec.name)
        seen.add(spec.name)
        acfg, _, file = read_adapter(spec.path)
        if acfg.name != spec.name:
            raise AdapterError(file, "name", f"the LoRA name stored in the adapter ({acfg.name!r})", got=spec.name)
        if cfg.adapter_scale:
            if spec.scale < 0:
                raise AdapterError("--lora", spec.name, "S >= 0 (the adapter-scale baseline's lambda)", got=spec.scale)
        elif acfg.scaling_token and not scale_in_range(spec.scale, acfg.s_min):
            raise AdapterError(
                "--lora", spec.name, f"a scaling value S in [s_min, 1] = [{acfg.s_min or 0.0:.4g}, 1]", got=spec.scale
            )


class VideoGenerator:
    """A loaded pipeline with its adapters; call :meth:`__call__` for each video."""

    def __init__(self, cfg: GenerateConfig, specs: list[LoraSpec], pipe=None):
        from lionlora.apps.model import load_pipeline, model_geometry
        from lionlora.lora.io import load_adapter
        from lionlora.lora.lion import LionLoRA

        check_specs(specs, cfg)
        self.cfg, self.specs = cfg, specs
        self.pipe = pipe or load_pipeline(cfg.model, cfg.dtype, cfg.device)
        self.geometry = model_geometry(self.pipe)
        self.lion = LionLoRA(self.pipe.transformer)
        for spec in specs:
            load_adapter(self.lion, spec.path, name=spec.name)
        self.size()  # a size the model cannot take fails here, before any sampling

    def active(self):
        from lionlora.lora.config import FusionConfig
        from lionlora.lora.fusion import ActiveAdapter

        adapters = []
        for spec in self.specs:
            if self.cfg.adapter_scale:  # Fig. 10 baseline: lambda = S, no token
                lam = spec.scale * spec.weight
                adapters.append(ActiveAdapter(spec.name, weight=lam, scale=None))
            else:
                has_token = self.lion.configs[spec.name].scaling_token
                adapters.append(ActiveAdapter(spec.name, weight=spec.weight, scale=spec.scale if has_token else None))
        return adapters, FusionConfig(mode=self.cfg.fusion, norm=self.cfg.norm, merge=self.cfg.merge)

    def size(self) -> tuple[int, int, int]:
        from lionlora.apps.model import video_size

        return video_size(self.pipe, self.cfg.frames, self.cfg.height, self.cfg.width, "GenerateConfig")

    def __call__(self, image: np.ndarray, prompt: str) -> np.ndarray:
        """Generate from a uint8 RGB first frame ``[H, W, 3]``; returns ``[T, h, w, 3]`` uint8."""
        import torch
        from PIL import Image

        from lionlora.io.video import resize_cover

        check_guidance(self.cfg, prompt)
        frames, height, width = self.size()
        first = Image.fromarray(resize_cover(image[None], height, width)[0])
        adapters, fusion = self.active()
        generator = torch.Generator("cpu").manual_seed(self.cfg.seed)
        with self.lion.activate(adapters, fusion), torch.no_grad():
            out = self.pipe(
                image=first,
                prompt=prompt,
                negative_prompt=self.cfg.negative_prompt or None,
                height=height,
                width=width,
                num_frames=frames,
                num_inference_steps=self.cfg.steps,
                guidance_scale=self.cfg.cfg,
                generator=generator,
                output_type="np",
                max_sequence_length=self.geometry["text_tokens"],
            )
        video = np.asarray(out.frames[0], dtype=np.float32)
        return (video * 255.0).round().clip(0, 255).astype(np.uint8)


def read_condition_image(path: str | Path) -> np.ndarray:
    """The conditioning frame: an image file, or the first frame of a video."""
    from lionlora.io.video import VIDEO_EXTENSIONS, iter_video, read_image

    path = Path(path)
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return next(iter(iter_video(path, max_frames=1)))
    return read_image(path)


def gt_cameras(
    traj: Trajectory, source: str | Path, scale: float, frames: int, height: int, width: int
) -> tuple[Trajectory, list[int]]:
    """The GT cameras of the frames a video at scaling value S shows, and their indices in ``traj``
    (read from ``source``).

    The source trajectory is sampled like a training pair: ``frames`` cameras uniform over its
    first ``round(N * S)``; intrinsics follow the resize-and-crop to the video's size.
    """
    from lionlora.io.video import cover_window
    from lionlora.scaling import sample_indices

    indices = sample_indices(scale, len(traj), frames, str(source))
    K = traj.intrinsics
    nh, nw, y0, x0 = cover_window(K.height, K.width, height, width)
    sub = replace(traj.subset(indices), intrinsics=K.scaled(nw, nh).cropped(x0, y0, width, height), names=None)
    return sub, indices


def write_gt_cameras(
    cameras: str | Path, out: Path, scale: float, frames: int, height: int, width: int, extra: dict
) -> Path:
    """Write beside ``out`` the GT cameras of the frames a video at scaling value S shows (:func:`gt_cameras`)."""
    from lionlora.io.cameras_json import read_cameras, write_cameras

    sub, indices = gt_cameras(read_cameras(cameras), cameras, scale, frames, height, width)
    return write_cameras(out.parent / "cameras.json", sub, metadata={**extra, "source_frames": indices})


def cameras_scale(cfg: GenerateConfig, specs: list[LoraSpec]) -> float:
    """S of the GT cameras written beside a video: ``cameras_scale``, else the LoRAs' one S (1 without LoRAs)."""
    if cfg.cameras_scale is not None:
        return cfg.cameras_scale
    scales = sorted({s.scale for s in specs})
    if len(scales) > 1:
        raise ConfigError("--cameras-scale", "", "a value when the LoRAs have different S", got=scales)
    return scales[0] if scales else 1.0


def generate_to_file(
    cfg: GenerateConfig,
    image: str | Path,
    prompt: str,
    specs: list[LoraSpec],
    out: str | Path,
    cameras: str | Path | None = None,
    generator: VideoGenerator | None = None,
) -> dict:
    """Generate one video to ``out`` (mp4, atomically) with ``out``'s ``.json`` record beside it.

    Every input (adapters, image, cameras) and output path is checked before the model is loaded
    and before the first write: a bad input leaves nothing behind.
    """
    from lionlora.config import to_dict
    from lionlora.io.cameras_json import read_cameras, write_cameras
    from lionlora.io.files import check_output
    from lionlora.io.video import write_video

    out = Path(out)
    for path in (out, out.with_suffix(".json"), *([out.parent / "cameras.json"] if cameras is not None else [])):
        check_output(path)
    started = time.time()
    check_guidance(cfg, prompt)  # before any model is loaded
    first = read_condition_image(image)
    traj = read_cameras(cameras) if cameras is not None else None  # a bad file fails before the model loads
    scale = cameras_scale(cfg, specs) if cameras is not None else None
    gen = generator or VideoGenerator(cfg, specs)
    frames, height, width = gen.size()
    sub = gt_cameras(traj, cameras, scale, frames, height, width) if traj is not None else None
    video = gen(first, prompt)
    write_video(out, list(video), fps=cfg.fps)
    record = {
        "image": str(image),
        "prompt": prompt,
        "frames": int(video.shape[0]),
        "height": int(video.shape[1]),
        "width": int(video.shape[2]),
        "loras": [{"name": s.name, "path": str(s.path), "scale": s.scale, "weight": s.weight} for s in specs],
        "seconds": round(time.time() - started, 2),
        "config": to_dict(cfg),
    }
    if sub is not None:
        meta = {"generated": out.name, "scale": scale, "source_frames": sub[1]}
        write_cameras(out.parent / "cameras.json", sub[0], metadata=meta)
        record["cameras"] = {"source": str(cameras), "scale": scale}
    VideoRecord.from_json(record, out.with_suffix(".json")).write(out.with_suffix(".json"))
    return record


@dataclass
class VideoJob:
    """One video of a batch (``lionlora generate --video out=PATH ...``): its inputs and output."""

    out: Path
    image: Path
    prompt: str
    cameras: Path | None = None
    specs: list[LoraSpec] = field(default_factory=list)


VIDEO_KEYS = ("out", "image", "prompt", "cameras", "lora")


def parse_video_job(
    fields: list[str], image: Path | None = None, prompt: str | None = None, cameras: Path | None = None
) -> VideoJob:
    """``out=PATH [image=PATH] [prompt=TEXT] [cameras=PATH] [lora=NAME=PATH[:S] ...]`` -> :class:`VideoJob`.

    ``image``, ``prompt`` and ``cameras`` default to the command's ``--image``, ``--prompt`` and
    ``--cameras``; ``lora`` is repeatable (none: the base model).

    Raises:
        ConfigError: a field without ``=``, an unknown or repeated key, or no out / image / prompt.
    """
    values: dict[str, str] = {}
    loras: list[LoraSpec] = []
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or key not in VIDEO_KEYS:
            raise ConfigError("--video", item, f"KEY=VALUE with KEY one of {list(VIDEO_KEYS)}", got=item)
        if key == "lora":
            loras.append(parse_lora_spec(value))
        elif key in values:
            raise ConfigError("--video", key, "each key once per video (lora: repeatable)", got=fields)
        else:
            values[key] = value
    image = values.get("image", image)
    prompt = values.get("prompt", prompt)
    for key, value in (("out", values.get("out")), ("image", image), ("prompt", prompt)):
        if value is None:
            raise ConfigError("--video", key, f"{key}=... in the video or --{key} for all", got=fields)
    cameras = values.get("cameras", cameras)
    return VideoJob(Path(values["out"]), Path(image), prompt, Path(cameras) if cameras else None, loras)


def batch_adapters(jobs: list[VideoJob]) -> list[LoraSpec]:
    """One spec per adapter NAME used by the batch (its first use); a NAME at two paths is an error."""
    first: dict[str, LoraSpec] = {}
    for job in jobs:
        for spec in job.specs:
            seen = first.setdefault(spec.name, spec)
            if Path(seen.path).resolve() != Path(spec.path).resolve():
                raise AdapterError(
                    "--video", spec.name, "one adapter file per NAME in a batch", got=[str(seen.path), str(spec.path)]
                )
    return list(first.values())


def job_outputs(job: VideoJob) -> list[Path]:
    """The files a video writes: the mp4, its .json record and, with cameras, ``cameras.json`` beside it."""
    return [job.out, job.out.with_suffix(".json"), *([job.out.parent / "cameras.json"] if job.cameras else [])]


def check_jobs(cfg: GenerateConfig, jobs: list[VideoJob]) -> None:
    """Every job's outputs, inputs, prompt and adapters, before any model is loaded or file written.

    Raises:
        ConfigError: no job, one output twice, guidance with a prompt equal to the negative prompt.
        OutputError, VideoError, CameraError, AdapterError: from the outputs, image, cameras, adapters.
    """
    from lionlora.io.cameras_json import read_cameras
    from lionlora.io.files import check_output

    if not jobs:
        raise ConfigError("--video", "", "at least one video", got=0)
    written = [path.resolve() for job in jobs for path in job_outputs(job)]
    if len(set(written)) < len(written):
        raise ConfigError(
            "--video",
            "out",
            "a different output for every video, and a folder of its own for each video with cameras "
            "(its GT cameras.json goes beside it)",
            got=[str(j.out) for j in jobs],
        )
    for job in jobs:
        check_guidance(cfg, job.prompt)
        for path in job_outputs(job):
            check_output(path)
        read_condition_image(job.image)
        if job.cameras is not None:
            read_cameras(job.cameras)
            cameras_scale(cfg, job.specs)
        check_specs(job.specs, cfg)


def generate_videos(cfg: GenerateConfig, jobs: list[VideoJob], weights: list[str] = ()) -> list[dict]:
    """Generate every job's video with one loaded pipeline (each adapter loaded once).

    Each video is the one :func:`generate_to_file` writes for the same inputs alone: the noise is
    seeded per video and only the job's adapters are active. All inputs are checked first
    (:func:`check_jobs`), so a bad one leaves nothing behind.

    Args:
        weights: ``NAME=X`` (lambda_i of eq. 3) for adapter NAME in every video that uses it.
    Returns:
        the records written beside the videos, in the order of ``jobs``.
    """
    from tqdm.auto import tqdm

    adapters = batch_adapters(jobs)
    apply_weights([replace(s) for s in adapters], list(weights))  # an unknown NAME fails here
    for job in jobs:
        names = {s.name for s in job.specs}
        apply_weights(job.specs, [w for w in weights if w.partition("=")[0] in names])
    check_jobs(cfg, jobs)
    gen = VideoGenerator(cfg, adapters)
    records = []
    for job in tqdm(jobs, desc="generate", unit="video"):
        gen.specs = job.specs
        records.append(generate_to_file(cfg, job.image, job.prompt, job.specs, job.out, job.cameras, generator=gen))
    return records
