"""``lionlora eval``: the evaluation group. Each module in :data:`EVAL_MODULES` adds its actions.

A module exposes ``register(actions)`` where ``actions`` is the group's sub-parser collection;
like every CLI module it imports nothing heavy at registration.
"""

from __future__ import annotations

import argparse
import importlib

EVAL_MODULES: list[str] = [
    "lionlora.cli.eval_quality",
    "lionlora.cli.eval_camera",
]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluation: camera poses, video quality, motion linearity, tables")
    actions = p.add_subparsers(dest="eval_command", metavar="ACTION", required=True)
    for name in EVAL_MODULES:
        importlib.import_module(name).register(actions)
