"""The ``lionlora`` command: one subcommand per stage.

Each module listed in :data:`COMMAND_MODULES` exposes ``register(subparsers)``, which adds its
subcommand(s) with ``set_defaults(func=...)``. Registration imports nothing heavy (torch,
diffusers, pycolmap are imported inside the handlers) so that ``--help`` stays fast.
Project errors (:class:`lionlora.errors.LionLoraError`) are printed as one line, exit status 1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from lionlora import __version__
from lionlora.errors import LionLoraError

COMMAND_MODULES = [  # in pipeline order: scenes, 3DGS + clips, pairs, web videos, the method, evaluation
    "lionlora.cli.scene",
    "lionlora.cli.splat",
    "lionlora.cli.trajectory",
    "lionlora.cli.pairs",
    "lionlora.cli.filter",
    "lionlora.cli.lora",
    "lionlora.cli.eval",
    "lionlora.cli.report",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lionlora",
        description="LiON-LoRA toolkit: datasets, training and evaluation for camera- and "
        "motion-controllable video generation.",
    )
    parser.add_argument("--version", action="version", version=f"lionlora {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings only, no progress bars")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="CPU threads of torch, OpenCV, OpenMP/BLAS and pycolmap (default: theirs, usually every core)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # tqdm reads TQDM_DISABLE when first imported, which command registration may do: decide first
    quiet = any(
        a in ("-q", "--quiet")
        for a in argv[: next((i for i, a in enumerate(argv) if not a.startswith("-")), len(argv))]
    )
    if quiet:
        import os

        os.environ["TQDM_DISABLE"] = "1"
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.threads is not None:
            from lionlora.device import limit_threads

            limit_threads(args.threads)
        return int(args.func(args) or 0)
    except LionLoraError as exc:
        print(f"lionlora {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lionlora {args.command}: interrupted", file=sys.stderr)
        return 130
