"""Configs of the video-quality stage (``eval_quality:`` section): FVD and linearity."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lionlora.config import opt
from lionlora.errors import ConfigError
from lionlora.flow import FlowConfig


@dataclass
class FvdConfig:
    """How FVD is computed; every field is recorded in fvd.json."""

    i3d: Path | None = opt(
        None,
        "I3D weights: StyleGAN-V TorchScript i3d_torchscript.pt or VideoGPT/TATS "
        "state dict i3d_pretrained_400.pt (local file; nothing is downloaded)",
    )
    i3d_sha256: str | None = opt(None, "expected SHA-256 of the I3D file (a mismatch is an error)")
    preset: Literal["videogpt", "squash224", "stylegan"] = opt(
        "videogpt",
        "preprocessing: videogpt (short side 224 + centre crop), squash224 (224x224 on TF1's grid), "
        "stylegan (frames at their own size, the detector resizes)",
    )
    frames: Literal["all", "first16", "middle16"] = opt("all", "frames used per video: all, first16 or middle16")
    covariance: Literal["sample", "population"] = opt(
        "sample", "covariance divisor: sample (N-1, VideoGPT/TATS) or population (N, StyleGAN-V)"
    )
    sqrt: Literal["scipy", "trace_sqrt"] = opt(
        "scipy", "matrix square root: scipy (real part of scipy.linalg.sqrtm(S1 S2)) or trace_sqrt (TF-GAN)"
    )
    batch_size: int = opt(4, "videos per I3D forward pass")
    device: str = opt("auto", "auto, cpu or cuda[:N]")
    cache_dir: Path | None = opt(None, "per-video feature cache (default: $XDG_CACHE_HOME/lionlora/i3d_features)")
    include: list[str] = opt([], "keep only videos whose path relative to DIR matches one of these fnmatch patterns")
    exclude: list[str] = opt([], "drop videos whose path relative to DIR matches one of these fnmatch patterns")
    frame_folders: bool = opt(False, "also count folders of image frames as videos (off: only video files)")
    save_features: bool = opt(True, "write the real/fake features as OUT.real.npy / OUT.fake.npy beside OUT.json")

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigError("FvdConfig", "batch_size", "an integer >= 1", got=self.batch_size)
        if self.i3d_sha256 and not re.fullmatch(r"[0-9a-fA-F]{64}", self.i3d_sha256):
            raise ConfigError("FvdConfig", "i3d_sha256", "64 hex digits", got=self.i3d_sha256)
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", self.device):
            raise ConfigError("FvdConfig", "device", "auto, cpu or cuda[:N]", got=self.device)


def _check_min_videos(cls: str, n: int) -> None:
    if n < 3:
        raise ConfigError(cls, "min_videos", "an integer >= 3", got=n)


@dataclass
class MotionConfig:
    """Linearity of optical-flow magnitude in S (``lionlora eval motion``)."""

    flow: FlowConfig = field(
        default_factory=FlowConfig,
        metadata={
            "help": "optical-flow magnitude (lionlora.flow): backend, height, width, stride; set with --set flow.KEY=V"
        },
    )
    min_videos: int = opt(3, "fewest successfully measured videos for a correlation")

    def __post_init__(self) -> None:
        _check_min_videos("MotionConfig", self.min_videos)


@dataclass
class CameraLinearityConfig:
    """Linearity of recovered camera motion in S (``lionlora eval camera-linearity``)."""

    measure: Literal["path_length", "rotation"] = opt(
        "path_length",
        "camera magnitude: path_length (sum of centre steps, in the cameras' units) or "
        "rotation (sum of relative rotation angles, degrees; scale-free)",
    )
    min_videos: int = opt(3, "fewest successfully measured videos for a correlation")

    def __post_init__(self) -> None:
        _check_min_videos("CameraLinearityConfig", self.min_videos)
