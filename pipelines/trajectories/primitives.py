"""Depth-adaptive camera primitives and their frame-by-frame fusion.

All motion is relative to the start camera ``c2w0`` (OpenCV: x right, y down, z forward):
``c2w(t) = c2w0 @ M(t)`` for ``t`` in [0, 1], with ``M(0) = I``. With ``D`` the start view's
median depth:

* ``pan_left/right/up/down``: ``M(t)`` translates by ``t k D`` along -x / +x / -y / +y (the
  camera's own left / right / up / down, parallel to the image plane); orientation fixed.
* ``dolly_in/out``: translation by ``t k D`` along +z / -z (the optical axis).
* ``orbit_left/right``: the camera turns by ``t * angle`` about the **vertical axis through the
  pivot** ``p = (0, 0, D)`` (the point at median depth on the start camera's optical axis). The
  vertical axis is the start camera's up direction (-y); the camera moves on a circle of radius
  ``D`` towards its own left / right and keeps looking at ``p``.

A fused trajectory (names joined with ``+``, e.g. ``dolly_in+orbit_left``) composes its parts
frame by frame: ``M(t) = Orbit(sum of signed angles * t) @ Translate(sum of k_i D dir_i t)``, i.e.
the orbits move the camera around the fixed pivot and the translations act in the orbiting
camera's frame (a dolly_in moves towards the pivot). Orbits about one axis commute and so do
translations, so the order of the names does not matter.

Frames are evenly spaced along the path (constant speed): primitives are linear in ``t``
(straight lines, circular arcs); fused paths are re-parametrised by arc length.
"""

from __future__ import annotations

import math

import numpy as np

from lionlora.errors import CameraError, ConfigError
from lionlora.geometry.camera import Intrinsics, Trajectory
from lionlora.pipelines.trajectories.config import OPPOSITES, ORBITS, PRIMITIVES, TRANSLATIONS, TrajectoryConfig

VERTICAL_AXIS = "start camera up (-y of its OpenCV frame)"


def parse_primitive(name: str) -> list[str]:
    """The basic primitives of ``name`` (``dolly_in`` or ``dolly_in+orbit_left``).

    Raises:
        ConfigError: unknown, repeated or opposite primitives.
    """
    parts = [p.strip() for p in str(name).split("+")]
    for p in parts:
        if p not in PRIMITIVES:
            raise ConfigError(
                "primitive", "primitive", f"one of {list(PRIMITIVES)} or several joined with '+'", got=name
            )
    if len(set(parts)) != len(parts):
        raise ConfigError("primitive", "primitive", "each primitive at most once", got=name)
    for a, b in OPPOSITES:
        if a in parts and b in parts:
            raise ConfigError("primitive", "primitive", f"no opposite primitives ({a} with {b})", got=name)
    return parts


def _rot_y(theta: np.ndarray) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    R = np.zeros(theta.shape + (3, 3))
    R[..., 0, 0], R[..., 0, 2], R[..., 1, 1], R[..., 2, 0], R[..., 2, 2] = c, s, 1.0, -s, c
    return R


def _motion(parts: list[str], t: np.ndarray, depth: float, cfg: TrajectoryConfig) -> np.ndarray:
    """Relative poses ``M(t) [len(t), 4, 4]`` of the fused primitive ``parts``."""
    t = np.asarray(t, dtype=np.float64)
    offset = sum((cfg.k[p] * depth * np.asarray(TRANSLATIONS[p]) for p in parts if p in TRANSLATIONS), np.zeros(3))
    angle = sum(ORBITS[p] * math.radians(cfg.angle_deg[p]) for p in parts if p in ORBITS)
    R = _rot_y(angle * t)
    pivot = np.array([0.0, 0.0, depth])
    M = np.zeros(t.shape + (4, 4))
    M[..., :3, :3] = R
    # orbit about the pivot, then translate in the orbiting camera's frame
    M[..., :3, 3] = pivot - np.einsum("tij,j->ti", R, pivot) + np.einsum("tij,tj->ti", R, offset[None] * t[:, None])
    M[..., 3, 3] = 1.0
    return M


def _constant_speed(parts: list[str], n: int, depth: float, cfg: TrajectoryConfig, samples: int = 8192) -> np.ndarray:
    """Parameters ``t [n]`` that space the camera centres evenly along the path."""
    fine = np.linspace(0.0, 1.0, samples)
    centers = _motion(parts, fine, depth, cfg)[:, :3, 3]
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(centers, axis=0), axis=1))])
    if s[-1] <= 1e-12:
        raise CameraError("primitive", "+".join(parts), "a trajectory that moves the camera", got="zero path length")
    return np.interp(np.linspace(0.0, s[-1], n), s, fine)


def relative_poses(name: str, n_frames: int, median_depth: float, cfg: TrajectoryConfig | None = None) -> np.ndarray:
    """Poses ``[n_frames, 4, 4]`` relative to the start camera (the first is the identity).

    Raises:
        ConfigError: unknown primitive; fewer than 2 frames.
        CameraError: median depth not a positive finite number.
    """
    cfg = cfg or TrajectoryConfig()
    parts = parse_primitive(name)
    if int(n_frames) < 2:
        raise ConfigError("trajectory", "frames", "at least 2 frames", got=n_frames)
    if not (isinstance(median_depth, (int, float, np.floating)) and math.isfinite(median_depth) and median_depth > 0):
        raise CameraError("trajectory", "median_depth", "a positive finite median depth", got=median_depth)
    depth = float(median_depth)
    if len(parts) == 1:
        t = np.linspace(0.0, 1.0, int(n_frames))
    else:
        t = _constant_speed(parts, int(n_frames), depth, cfg)
    M = _motion(parts, t, depth, cfg)
    M[0] = np.eye(4)
    return M


def primitive_motion(
    name: str, scales: np.ndarray, median_depth: float, cfg: TrajectoryConfig | None = None
) -> np.ndarray:
    """Relative poses ``[len(scales), 4, 4]`` of primitive ``name`` at motion parameters ``scales`` in [0, 1].

    ``scales = 1`` is the pose a full clip ends at; a clip at scale S covers ``[0, S]``.
    """
    cfg = cfg or TrajectoryConfig()
    return _motion(parse_primitive(name), np.asarray(scales, dtype=np.float64), float(median_depth), cfg)


def primitive_trajectory(
    name: str,
    start_c2w: np.ndarray,
    intrinsics: Intrinsics,
    n_frames: int,
    median_depth: float,
    cfg: TrajectoryConfig | None = None,
) -> Trajectory:
    """The clip cameras ``start_c2w @ M(t)`` with metadata (primitive, median depth, magnitudes, pivot)."""
    cfg = cfg or TrajectoryConfig()
    parts = parse_primitive(name)
    c2w0 = np.asarray(start_c2w, dtype=np.float64)
    c2w = c2w0[None] @ relative_poses(name, n_frames, median_depth, cfg)
    meta = {
        "primitive": "+".join(parts),
        "parts": parts,
        "median_depth": float(median_depth),
        "k": {p: cfg.k[p] for p in parts if p in TRANSLATIONS},
        "angle_deg": {p: cfg.angle_deg[p] for p in parts if p in ORBITS},
        "pivot": (c2w0 @ np.array([0.0, 0.0, float(median_depth), 1.0]))[:3].tolist(),
        "vertical_axis": VERTICAL_AXIS,
        "convention": "cameras move from the start camera; frames evenly spaced along the path",
    }
    return Trajectory(c2w=c2w, intrinsics=intrinsics, metadata=meta)
