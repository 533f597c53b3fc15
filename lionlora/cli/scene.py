"""``lionlora scene``: the embedded scene and DL3DV scene checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lionlora.config import add_config_options

RESOLUTIONS = ("480P", "960P", "2K", "4K")  # lionlora.scenes.fetch.RESOLUTIONS, without importing it here


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

    f = ssub.add_parser(
        "fetch",
        help="download DL3DV scenes from the gated hub repos into ROOT/<batch>/<hash>/ (your HF token)",
        description="Download and unpack DL3DV-10K scenes (DL3DV/DL3DV-ALL-<resolution>, <batch>/<hash>.zip) "
        "with your Hugging Face token (HF_TOKEN or `hf auth login`). Resumes interrupted downloads, checks "
        "each archive's sha256, skips complete scenes; scenes that cannot be had are listed with the reason "
        "in ROOT/fetch_report.csv (exit status 1 when there is any).",
    )
    f.add_argument("--hashes", type=Path, required=True, help="CSV with 'hash' and 'batch' columns (DL3DV-valid.csv)")
    f.add_argument("--root", type=Path, required=True, help="DL3DV root: scenes land in ROOT/<batch>/<hash>/")
    f.add_argument("--resolution", choices=RESOLUTIONS, default="960P", help="which DL3DV-ALL repo (default: 960P)")
    f.add_argument("--jobs", type=int, default=1, help="parallel downloads (default: 1)")
    f.set_defaults(func=_fetch)


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


def _fetch(args: argparse.Namespace) -> int:
    from lionlora.errors import InputError
    from lionlora.scenes import read_scene_list
    from lionlora.scenes.fetch import REPORT, fetch_scenes

    if args.jobs < 1:
        raise InputError("--jobs", "", "a positive number of parallel downloads", got=args.jobs)
    results = fetch_scenes(read_scene_list(args.hashes), args.root, args.resolution, jobs=args.jobs)
    counts = {s: sum(r.status == s for r in results) for s in ("fetched", "present", "failed")}
    print(f"{counts['fetched']} fetched, {counts['present']} already present, {counts['failed']} failed")
    if counts["failed"]:
        print(
            f"lionlora scene fetch: {counts['failed']} scene(s) failed, reasons in {args.root / REPORT}",
            file=sys.stderr,
        )
        return 1
    return 0
