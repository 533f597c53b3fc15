"""Config of the embedded scene."""

from __future__ import annotations

from dataclasses import dataclass

from lionlora.config import opt
from lionlora.errors import ConfigError


@dataclass
class SynthConfig:
    seed: int = opt(0, "random seed: object layout, textures and path jitter")
    frames: int = opt(36, "number of captured frames")
    width: int = opt(960, "full-resolution image width recorded in transforms.json")
    height: int = opt(540, "full-resolution image height recorded in transforms.json")
    downsamples: list[int] = opt([2, 4], "image folders to render (images_N)")
    fov_x_deg: float = opt(68.0, "horizontal field of view in degrees")
    supersample: int = opt(2, "anti-aliasing: render at this factor and area-downsample")
    boxes: int = opt(7, "number of textured boxes standing in the room")
    points: int = opt(6000, "surface points sampled for the COLMAP model")

    def __post_init__(self) -> None:
        if self.frames < 3:
            raise ConfigError("SynthConfig", "frames", "at least 3 frames", got=self.frames)
        for n in self.downsamples:
            if n not in (1, 2, 4, 8):
                raise ConfigError("SynthConfig", "downsamples", "values among 1, 2, 4, 8", got=n)
            if self.width % n or self.height % n:
                raise ConfigError(
                    "SynthConfig", "width/height", f"sizes divisible by {n}", got=(self.width, self.height)
                )
        if not 10.0 <= self.fov_x_deg <= 150.0:
            raise ConfigError("SynthConfig", "fov_x_deg", "a field of view in [10, 150] degrees", got=self.fov_x_deg)
        if self.supersample < 1 or self.boxes < 0 or self.points < 100:
            raise ConfigError(
                "SynthConfig",
                "supersample/boxes/points",
                "supersample >= 1, boxes >= 0, points >= 100",
                got=(self.supersample, self.boxes, self.points),
            )
