"""``lionlora trajectory``: the cameras of a primitive from the identity pose."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionlora.config import add_config_options


def register(sub: argparse._SubParsersAction) -> None:
    from lionlora.pipelines.trajectories.config import TrajectoryConfig

    p = sub.add_parser(
        "trajectory",
        help="write the cameras of a camera primitive starting at the identity pose",
        description="Write N cameras (project cameras.json, OpenGL camera-to-world) of a primitive or "
        "of primitives joined with '+', starting at the identity pose, for a scene of "
        "the given median depth.",
    )
    p.add_argument(
        "--primitive",
        required=True,
        metavar="NAME[+NAME...]",
        help="pan_left, pan_right, pan_up, pan_down, dolly_in, dolly_out, orbit_left, orbit_right",
    )
    p.add_argument("--frames", type=int, required=True, metavar="N", help="number of cameras")
    p.add_argument("--median-depth", type=float, required=True, metavar="D", help="median depth of the start view")
    p.add_argument("--out", type=Path, required=True, help="output cameras.json")
    p.add_argument("--k", type=float, default=None, help="translation distance / median depth (pan_*, dolly_*)")
    p.add_argument("--angle", type=float, default=None, metavar="DEG", help="orbit angle in degrees (orbit_*)")
    p.add_argument("--width", type=int, default=720, help="image width of the written intrinsics (default: 720)")
    p.add_argument("--height", type=int, default=480, help="image height of the written intrinsics (default: 480)")
    p.add_argument(
        "--fov-x",
        type=float,
        default=60.0,
        metavar="DEG",
        help="horizontal field of view of the written intrinsics (default: 60)",
    )
    add_config_options(p, TrajectoryConfig)
    p.set_defaults(func=_trajectory, out_kind="file")


def _trajectory(args: argparse.Namespace) -> int:
    import numpy as np

    from lionlora.config import config_from_args
    from lionlora.geometry.camera import Intrinsics
    from lionlora.io.cameras_json import write_cameras
    from lionlora.pipelines.trajectories import (
        ORBITS,
        TRANSLATIONS,
        TrajectoryConfig,
        parse_primitive,
        primitive_trajectory,
    )

    cfg = config_from_args(TrajectoryConfig, args)
    parts = parse_primitive(args.primitive)
    overrides = {
        "k": {p: args.k for p in parts if p in TRANSLATIONS} if args.k is not None else {},
        "angle_deg": {p: args.angle for p in parts if p in ORBITS} if args.angle is not None else {},
    }
    cfg = TrajectoryConfig(k={**cfg.k, **overrides["k"]}, angle_deg={**cfg.angle_deg, **overrides["angle_deg"]})
    K = Intrinsics.from_fov(args.fov_x, args.width, args.height)
    traj = primitive_trajectory(args.primitive, np.eye(4), K, args.frames, args.median_depth, cfg)
    write_cameras(args.out, traj)
    print(f"{args.out}: {len(traj)} cameras of {traj.metadata['primitive']}, path length {traj.path_length():.4f}")
    return 0
