"""The ``lionlora`` command: one subcommand per stage.

Each module listed in :data:`COMMAND_MODULES` exposes ``register(subparsers)``, which adds its
subcommand(s) with ``set_defaults(func=...)``. Registration imports nothing heavy (torch,
diffusers, pycolmap are imported inside the handlers) so that ``--help`` stays fast.
Project errors (:class:`lionlora.errors.LionLoraError`) and operating-system errors (:class:`OSError`,
naming the path) are printed as one line, exit status 1; usage errors exit 2 (argparse).
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
    "lionlora.cli.benchmark",
    "lionlora.cli.report",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lionlora",
        description="LiON-LoRA toolkit: datasets, training and evaluation for camera- and "
        "motion-controllable video generation.",
    )
    parser.add_argument("--version", action="version", version=f"lionlora {__version__}")
    _add_verbosity(parser, default=False)
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
    for leaf in _leaf_parsers(parser):
        if leaf is not parser:
            _add_verbosity(leaf, default=argparse.SUPPRESS)  # -q/-v after the subcommand too
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", default=default, help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", default=default, help="warnings only, no progress bars")


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for a in subs for p in dict.fromkeys(a.choices.values()) for leaf in _leaf_parsers(p)]


def _command_name(args: argparse.Namespace) -> str:
    """``scene synth``, ``eval camera``, ``train``: the words of the command that ran."""
    words = [args.command] + [
        getattr(args, k) for k in ("scene_command", "eval_command", "benchmark_command") if getattr(args, k, None)
    ]
    return " ".join(words)


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail before any work when OUT cannot be written (see :func:`lionlora.io.files.check_output`).

    A command declares what its ``--out`` is with ``set_defaults(out_kind="file" | "folder")``.
    """
    kind = getattr(args, "out_kind", None)
    out = getattr(args, "out", None) or getattr(args, "cfg_out", None)  # train's OUT is a config option
    if kind is not None and out is not None:
        from lionlora.io.files import check_output

        check_output(out, folder=kind == "folder")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status: 0 done, 1 a bad input or an output that cannot be
    written (one line on stderr), 2 a usage error (argparse), 130 interrupted."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # tqdm reads TQDM_DISABLE when first imported, which command registration does: decide first
    if any(a in ("-q", "--quiet") for a in argv[: argv.index("--") if "--" in argv else len(argv)]):
        os.environ["TQDM_DISABLE"] = "1"
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    name = _command_name(args)
    _log_cluster_job()
    try:
        _check_outputs(args)
        if args.threads is not None:
            from lionlora.device import limit_threads

            limit_threads(args.threads)
        return int(args.func(args) or 0)
    except LionLoraError as exc:
        print(f"lionlora {name}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # outside the project's checks: still one line naming the path
        where = exc.filename2 or exc.filename
        print(f"lionlora {name}: error: {f'{where}: ' if where else ''}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lionlora {name}: interrupted", file=sys.stderr)
        return 130


def _log_cluster_job() -> None:
    """One stderr line naming the SLURM job (and node) this command runs in, even with -q.

    The workflow's logs then record where each output was made; nothing is printed outside SLURM.
    """
    job = os.environ.get("SLURM_JOB_ID")
    if job:
        node = os.environ.get("SLURMD_NODENAME", "?")
        print(f"lionlora: SLURM_JOB_ID={job} node={node}", file=sys.stderr)
