"""``lionlora scene``: the embedded scene and DL3DV scene checks."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionlora.config import add_config_options


def register(sub: argparse._SubParsersAction) -> None:
    from lionlora.pipelines.synth.config import SynthConfig

    p = sub.add_parser("scene", help="embedded scene generation and DL3DV scene inspection")
    ssub = p.add_subparsers(dest="scene_command", metavar="ACTION", required=True)

    s = ssub.add_parser("synth", help="write the embedded DL3DV-format scene (images, transforms.json, COLMAP model)")
    s.add_argument("--out", type=Path, required=True, help="output scene folder")
    add_config_options(s, SynthConfig)
    s.set_defaults(func=_synth, out_kind="folder")

    c = ssub.add_parser("check", help="load a DL3DV-format scene folder, validate it and print a summary")
    c.add_argument("--scene", type=Path, required=True, help="scene folder with transforms.json")
    c.add_argument("--downsample", type=int, default=None, help="images_N factor (default: largest images present)")
    c.set_defaults(func=_check)


def _synth(args: argparse.Namespace) -> int:
    from lionlora.config import config_from_args
    from lionlora.pipelines.synth import SynthConfig, synth_scene

    cfg = config_from_args(SynthConfig, args)
    synth_scene(args.out, cfg)
    return 0


def _check(args: argparse.Namespace) -> int:
    from lionlora.scenes import load_scene

    scene = load_scene(args.scene, downsample=args.downsample)
    K = scene.cameras.intrinsics
    n_pts = 0 if scene.points is None else len(scene.points)
    print(
        f"{scene.root}: {len(scene)} frames, images_{scene.downsample} {K.width}x{K.height}, "
        f"fx={K.fx:.1f}, {n_pts} SfM points, path length {scene.cameras.path_length():.3f}"
    )
    for w in scene.warnings:
        print(f"warning: {w}")
    return 0
