"""Random smooth camera paths inside the embedded room: the pretraining data of the demo's model.

A path starts at a random eye in the free space in front of the boxes, looking at a random point
deep in the room, and composes, all relative to the start camera (OpenCV axes) and growing with an
eased parameter ``s(t) = (1 - e) t + e t^2``:

* a translation of random direction and length (a fraction of the start view's median depth ``D``),
* a turn (yaw) and a tilt (pitch) of the camera about its own centre,
* with probability ``orbit_probability``, an orbit about the vertical axis through the point at
  depth ``D`` on the optical axis,

or, with probability ``still_fraction``, no motion at all. Sampled paths that come close to one of
the camera primitives of :mod:`lionlora.pipelines.trajectories` (a basic or fused primitive at any
scale S) are rejected, so the pretrained model never sees the LoRAs' own trajectories:
:func:`primitive_distance` is the measure, ``min_primitive_distance`` the threshold.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from lionlora.config import opt
from lionlora.errors import ConfigError
from lionlora.geometry.camera import look_at
from lionlora.geometry.se3 import rotation_angle
from lionlora.pipelines.trajectories.config import OPPOSITES, PRIMITIVES, TrajectoryConfig
from lionlora.pipelines.trajectories.primitives import primitive_motion

STILL = "still"
MOVING = "moving"


@dataclass
class PathConfig:
    """Distribution of the random camera paths (lengths relative to the median depth ``D``)."""

    still_fraction: float = opt(0.1, "fraction of clips whose camera does not move")
    translation: list[float] = opt([0.1, 0.45], "range of the translation length, in units of D")
    turn_deg: float = opt(15.0, "largest turn (yaw about the camera centre) over a clip, degrees")
    tilt_deg: float = opt(6.0, "largest tilt (pitch about the camera centre) over a clip, degrees")
    orbit_deg: float = opt(25.0, "largest orbit about the vertical axis through depth D, degrees")
    orbit_probability: float = opt(0.5, "probability that a moving path includes an orbit")
    ease: float = opt(0.5, "largest easing e of s(t) = (1 - e) t + e t^2 (0: constant speed)")
    eye_box: list[float] = opt(
        [-3.0, 3.0, -1.2, 0.5, -3.0, 1.0], "start eyes: x0, x1, y0, y1, z0, z1 in room coordinates (y down)"
    )
    target_box: list[float] = opt([-3.0, 3.0, -1.0, 1.0, 5.0, 9.5], "look-at targets of the start camera")
    min_clearance: float = opt(0.3, "nearest surface any frame may see, in room units (else resampled)")
    min_primitive_distance: float = opt(
        0.08, "paths closer than this to a camera primitive (primitive_distance) are resampled"
    )
    trajectory: TrajectoryConfig = field(default_factory=TrajectoryConfig)

    def __post_init__(self) -> None:
        if not 0.0 <= self.still_fraction < 1.0 or not 0.0 <= self.orbit_probability <= 1.0:
            raise ConfigError(
                "PathConfig",
                "still_fraction/orbit_probability",
                "still_fraction in [0, 1) and orbit_probability in [0, 1]",
                got=(self.still_fraction, self.orbit_probability),
            )
        lo, hi = self.translation
        if not 0.0 < lo <= hi:
            raise ConfigError("PathConfig", "translation", "0 < low <= high", got=self.translation)
        if len(self.eye_box) != 6 or len(self.target_box) != 6:
            raise ConfigError(
                "PathConfig", "eye_box/target_box", "six numbers each", got=(self.eye_box, self.target_box)
            )
        if not 0.0 <= self.ease <= 1.0:
            raise ConfigError("PathConfig", "ease", "a number in [0, 1]", got=self.ease)


def _rot(axis: tuple[float, float, float], angle: float) -> np.ndarray:
    return cv2.Rodrigues(np.asarray(axis, np.float64) * float(angle))[0]


def start_camera(rng: np.random.Generator, cfg: PathConfig) -> np.ndarray:
    """A random start pose (OpenCV camera-to-world) looking into the room."""
    e, g = np.asarray(cfg.eye_box), np.asarray(cfg.target_box)
    eye = rng.uniform(e[0::2], e[1::2])
    target = rng.uniform(g[0::2], g[1::2])
    return look_at(eye, target, down=np.array([0.0, 1.0, 0.0]))


def random_motion(rng: np.random.Generator, frames: int, depth: float, cfg: PathConfig) -> tuple[np.ndarray, str]:
    """Relative poses ``[frames, 4, 4]`` of one random path (the first is the identity) and its kind."""
    rel = np.repeat(np.eye(4)[None], frames, axis=0)
    if rng.uniform() < cfg.still_fraction:
        return rel, STILL
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    trans = direction * rng.uniform(*cfg.translation) * depth
    yaw = math.radians(rng.uniform(-cfg.turn_deg, cfg.turn_deg))
    pitch = math.radians(rng.uniform(-cfg.tilt_deg, cfg.tilt_deg))
    orbit = math.radians(rng.uniform(-cfg.orbit_deg, cfg.orbit_deg)) if rng.uniform() < cfg.orbit_probability else 0.0
    ease = rng.uniform(0.0, cfg.ease)
    t = np.linspace(0.0, 1.0, frames)
    pivot = np.array([0.0, 0.0, depth])
    for i, s in enumerate((1 - ease) * t + ease * t * t):
        r_orbit = _rot((0.0, 1.0, 0.0), orbit * s)
        rel[i, :3, :3] = r_orbit @ _rot((0.0, 1.0, 0.0), yaw * s) @ _rot((1.0, 0.0, 0.0), pitch * s)
        rel[i, :3, 3] = pivot - r_orbit @ pivot + r_orbit @ (trans * s)
    return rel, MOVING


def primitive_names() -> list[str]:
    """Every basic primitive and every fused pair of non-opposite primitives."""
    pairs = [f"{a}+{b}" for a, b in itertools.combinations(PRIMITIVES, 2) if (a, b) not in OPPOSITES]
    pairs = [p for p in pairs if tuple(reversed(p.split("+"))) not in OPPOSITES]
    return list(PRIMITIVES) + pairs


def pose_distance(a: np.ndarray, b: np.ndarray, depth: float) -> np.ndarray:
    """Distance of relative poses ``[..., 4, 4]``: centre offset in units of ``depth`` plus rotation in radians."""
    offset = np.linalg.norm(a[..., :3, 3] - b[..., :3, 3], axis=-1) / depth
    angle = rotation_angle(np.swapaxes(a[..., :3, :3], -1, -2) @ b[..., :3, :3])
    return offset + angle


def primitive_distance(rel: np.ndarray, depth: float, cfg: TrajectoryConfig | None = None, grid: int = 101) -> float:
    """How far a path is from every camera primitive at every scale.

    A path ``rel`` (relative poses, the first the identity) that follows a primitive at scale S
    ends at the primitive's pose ``M(S)`` and passes its mid-point ``M(S / 2)`` half-way. The
    distance is the smallest, over primitives (basic and fused pairs) and S on a ``grid``, of the
    larger of the two :func:`pose_distance` values at the end and the middle. Still paths are at
    distance 0 from S = 0 and are not compared (they are not a primitive).
    """
    cfg = cfg or TrajectoryConfig()
    end, mid = rel[-1], rel[(len(rel) - 1) // 2]
    frac = ((len(rel) - 1) // 2) / max(len(rel) - 1, 1)
    scales = np.linspace(0.0, 1.0, grid)[1:]
    best = math.inf
    for name in primitive_names():
        d_end = pose_distance(end[None], primitive_motion(name, scales, depth, cfg), depth)
        d_mid = pose_distance(mid[None], primitive_motion(name, scales * frac, depth, cfg), depth)
        best = min(best, float(np.maximum(d_end, d_mid).min()))
    return best


def sample_path(
    rng: np.random.Generator, frames: int, depth_of, clearance_of, cfg: PathConfig | None = None, tries: int = 200
) -> tuple[np.ndarray, str]:
    """Camera-to-world poses ``[frames, 4, 4]`` of one accepted random path, and its kind.

    Args:
        depth_of: ``c2w -> median depth`` of the view (the scene's renderer).
        clearance_of: ``c2w -> nearest depth`` seen by the view; frames closer than
            ``cfg.min_clearance`` (or seeing the void) reject the path.
    Raises:
        ConfigError: no acceptable path in ``tries`` draws (the boxes leave no room to move).
    """
    cfg = cfg or PathConfig()
    for _ in range(tries):
        c2w0 = start_camera(rng, cfg)
        depth = depth_of(c2w0)
        if not math.isfinite(depth) or depth <= 0:
            continue
        rel, kind = random_motion(rng, frames, depth, cfg)
        if kind == MOVING and primitive_distance(rel, depth, cfg.trajectory) < cfg.min_primitive_distance:
            continue
        c2w = c2w0[None] @ rel
        if all(clearance_of(c) >= cfg.min_clearance for c in c2w[:: max(1, (frames - 1) // 4)]):
            return c2w, kind
    raise ConfigError("PathConfig", "eye_box/min_clearance", f"an acceptable path within {tries} draws", got=tries)
