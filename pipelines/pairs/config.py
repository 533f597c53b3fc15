"""Config of the training-pairs stage (``lionlora pairs``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lionlora.checks import is_4k_plus_1
from lionlora.config import opt
from lionlora.errors import ConfigError
from lionlora.scaling import check_scale, even_scales


@dataclass
class PairsConfig:
    sample_frames: int = opt(49, "frames per training pair (CogVideoX needs F = 4k + 1)")
    camera_frames: int = opt(600, "frames of a camera clip that S = 1 spans")
    motion_frames: int = opt(240, "frames of an object-motion clip that S = 1 spans")
    camera_scales: list[float] = opt(
        [],
        "S values per camera clip, in [F / camera_frames, 1]; empty: scale_steps values evenly spaced over that range",
    )
    motion_scales: list[float] = opt(
        [],
        "S values per motion clip, in [F / motion_frames, 1]; empty: scale_steps values evenly spaced over that range",
    )
    scale_steps: int = opt(5, "number of S values when camera_scales / motion_scales are empty")
    camera_prompt: str = opt(
        "", "prompt template of camera pairs for scenes without a caption ('{scene}' is replaced by the scene's name)"
    )
    captions: Path | None = opt(
        None, "captions CSV (scene,prompt): the prompt of each scene's camera pairs (scene = a clip folder's parent)"
    )
    prompt_column: str = opt("prompt", "column of the web-video manifest holding prompts (empty prompts if absent)")

    def __post_init__(self) -> None:
        if self.sample_frames < 5 or not is_4k_plus_1(self.sample_frames):
            raise ConfigError(
                "PairsConfig",
                "sample_frames",
                "a frame count F >= 5 with F = 4k + 1 (CogVideoX)",
                got=self.sample_frames,
            )
        for name in ("camera_frames", "motion_frames"):
            if getattr(self, name) < self.sample_frames:
                raise ConfigError(
                    "PairsConfig", name, f"at least sample_frames = {self.sample_frames}", got=getattr(self, name)
                )
        if self.scale_steps < 1:
            raise ConfigError("PairsConfig", "scale_steps", "at least 1", got=self.scale_steps)
        for name, frames in (("camera_scales", self.camera_frames), ("motion_scales", self.motion_frames)):
            values = getattr(self, name)
            for i, s in enumerate(values):
                check_scale(s, self.sample_frames, frames, "PairsConfig", f"{name}[{i}]")
            if not values:
                setattr(self, name, even_scales(self.scale_steps, self.sample_frames, frames))
