"""``lionlora filter``: curate web videos; ``lionlora filter-demo-videos``: write the labelled set."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionlora.config import add_config_options


def register(sub: argparse._SubParsersAction) -> None:
    from lionlora.pipelines.webvideo.config import FilterConfig

    p = sub.add_parser(
        "filter",
        help="keep static-camera web videos with enough motion, cut into clips",
        description="Scan --input recursively for videos (mp4 avi mov mkv webm), keep those "
        "whose camera is static (border point tracks) and whose optical flow is "
        "large enough, cut them into clips and write OUT/manifest.csv. Re-running "
        "skips videos already done.",
    )
    p.add_argument("--input", type=Path, required=True, help="folder of videos (searched recursively; never modified)")
    p.add_argument("--out", type=Path, required=True, help="output folder: manifest.csv, clips/, filter_config.json")
    add_config_options(p, FilterConfig)
    p.set_defaults(func=_filter, out_kind="folder")

    d = sub.add_parser(
        "filter-demo-videos",
        help="write the labelled synthetic web videos (and broken files)",
        description="Short videos made from photographs bundled in scikit-image: static "
        "cameras with moving objects, small figures far away or one small object (keep); "
        "panning, zooming, rolling and shaking cameras, slow pans and zooms (reject); still "
        "scenes with noise, heavy compression or none (reject); plus labels.csv.",
    )
    d.add_argument("--out", type=Path, required=True, help="output folder")
    d.add_argument("--frames", type=int, default=61, help="frames per video (default: 61)")
    d.add_argument("--height", type=int, default=240, help="frame height (default: 240)")
    d.add_argument("--width", type=int, default=360, help="frame width (default: 360)")
    d.add_argument("--fps", type=float, default=12.0, help="frame rate (default: 12)")
    d.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    d.add_argument("--short", type=int, default=24, help="also write short.mp4 with this many frames (0: none)")
    d.add_argument(
        "--no-broken",
        dest="broken",
        action="store_false",
        help="do not write the broken files (truncated, empty, garbage)",
    )
    d.set_defaults(func=_demo_videos, out_kind="folder")


def _filter(args: argparse.Namespace) -> int:
    from lionlora.config import config_from_args
    from lionlora.pipelines.webvideo import FilterConfig, filter_videos

    cfg = config_from_args(FilterConfig, args)
    s = filter_videos(args.input, args.out, cfg)
    print(
        f"{len(s.rows)} videos: {s.count('ok', True)} kept, {s.count('ok', False)} rejected, "
        f"{s.count('error')} errors ({s.processed} analysed, {s.reused} unchanged) -> {s.manifest}"
    )
    return 0


def _demo_videos(args: argparse.Namespace) -> int:
    from lionlora.pipelines.webvideo.synthetic import write_labelled_set

    out = write_labelled_set(
        args.out,
        frames=args.frames,
        height=args.height,
        width=args.width,
        fps=args.fps,
        seed=args.seed,
        short=args.short,
        broken=args.broken,
    )
    print(f"labelled videos -> {out} (labels.csv)")
    return 0
