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
import os
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
        os.environ["TQDM_DISABLE"] = "1"
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    _log_cluster_job()
    try:
        return int(args.func(args) or 0)
    except LionLoraError as exc:
        print(f"lionlora {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lionlora {args.command}: interrupted", file=sys.stderr)
        return 130


def _log_cluster_job() -> None:
    """One stderr line naming the SLURM job (and node) this command runs in, even with -q.

    The workflow's logs then record where each output was made; nothing is printed outside SLURM.
    """
    job = os.environ.get("SLURM_JOB_ID")
    if job:
        node = os.environ.get("SLURMD_NODENAME", "?")
        print(f"lionlora: SLURM_JOB_ID={job} node={node}", file=sys.stderr)
