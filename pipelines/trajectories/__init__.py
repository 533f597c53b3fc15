"""Depth-adaptive camera primitives (pan, dolly, orbit) and fused trajectories."""

from lionlora.pipelines.trajectories.config import ORBITS, PRIMITIVES, TRANSLATIONS, TrajectoryConfig
from lionlora.pipelines.trajectories.primitives import parse_primitive, primitive_trajectory, relative_poses

__all__ = [
    "ORBITS",
    "PRIMITIVES",
    "TRANSLATIONS",
    "TrajectoryConfig",
    "parse_primitive",
    "primitive_trajectory",
    "relative_poses",
]
