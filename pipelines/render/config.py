"""Config of clip rendering (``lionlora render``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lionlora.config import opt
from lionlora.errors import ConfigError
from lionlora.pipelines.trajectories.config import TrajectoryConfig


@dataclass
class RenderConfig:
    engine: Literal["auto", "torch", "gsplat"] = opt(
        "auto", "rasteriser: auto = gsplat where CUDA is available, else torch"
    )
    frames: int = opt(600, "frames per clip")
    width: int = opt(720, "clip width in pixels (even)")
    height: int = opt(480, "clip height in pixels (even)")
    fps: float = opt(30.0, "frame rate written into clip.mp4")
    start_frame: int = opt(0, "index (in file-name order) of the scene camera that starts the clip")
    trajectory: TrajectoryConfig = field(
        default_factory=TrajectoryConfig, metadata={"help": "per-primitive magnitudes (k, angle_deg)"}
    )
    depth_alpha: float = opt(0.5, "pixels whose accumulated opacity exceeds this count for the median depth")
    background: list[float] = opt([0.0, 0.0, 0.0], "background colour (RGB in [0, 1])")
    crf: int = opt(18, "H.264 quality (lower is better)")
    preset: str = opt("medium", "H.264 encoder preset")
    batch: int = opt(8, "cameras per rasteriser call (gsplat engine)")
    tile_size: int = opt(4, "torch engine: tile side in pixels")

    def __post_init__(self) -> None:
        if self.frames < 2:
            raise ConfigError("RenderConfig", "frames", "at least 2 frames", got=self.frames)
        if self.width < 2 or self.height < 2 or self.width % 2 or self.height % 2:
            raise ConfigError(
                "RenderConfig", "width/height", "even positive sizes (H.264 yuv420p)", got=(self.width, self.height)
            )
        if not self.fps > 0 or self.batch < 1 or self.start_frame < 0:
            raise ConfigError(
                "RenderConfig",
                "fps/batch/start_frame",
                "fps > 0, batch >= 1, start_frame >= 0",
                got=(self.fps, self.batch, self.start_frame),
            )
        if not 0.0 <= self.depth_alpha < 1.0:
            raise ConfigError("RenderConfig", "depth_alpha", "a value in [0, 1)", got=self.depth_alpha)
        if not 0 <= self.crf <= 51:
            raise ConfigError("RenderConfig", "crf", "an H.264 CRF in [0, 51]", got=self.crf)
        if len(self.background) != 3:
            raise ConfigError("RenderConfig", "background", "an RGB triple", got=self.background)
