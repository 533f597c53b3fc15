"""``lionlora pairs``: the training-pairs manifest from camera clips and web-video clips."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionlora.config import add_config_options


def register(sub: argparse._SubParsersAction) -> None:
    from lionlora.pipelines.pairs.config import PairsConfig

    p = sub.add_parser(
        "pairs",
        help="training pairs (clip, S, frame indices, GT cameras) -> OUT/manifest.csv",
        description="For every clip and every configured scale S, take sample_frames indices evenly "
        "spaced over the first round(L * S) frames (L = camera_frames for camera clips, "
        "motion_frames for web-video clips) and write OUT/manifest.csv, the GT cameras "
        "of those frames under OUT/cameras/ and OUT/skipped.csv.",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (manifest.csv, cameras/, skipped.csv)")
    p.add_argument(
        "--clips",
        type=Path,
        nargs="*",
        default=[],
        metavar="PATH",
        help="camera clip folders (cameras.json + clip.mp4), or folders searched for them",
    )
    p.add_argument(
        "--webvideos",
        type=Path,
        default=None,
        metavar="MANIFEST",
        help="web-video manifest.csv (lionlora filter); its accepted clips become motion pairs",
    )
    add_config_options(p, PairsConfig)
    p.set_defaults(func=_pairs, out_kind="folder")


def _pairs(args: argparse.Namespace) -> int:
    from lionlora.config import config_from_args
    from lionlora.pipelines.pairs import PairsConfig, build_pairs

    table = build_pairs(args.out, args.clips, args.webvideos, config_from_args(PairsConfig, args))
    n_cam = int((table["kind"] == "camera").sum())
    print(f"{args.out / 'manifest.csv'}: {len(table)} pairs ({n_cam} camera, {len(table) - n_cam} motion)")
    return 0
