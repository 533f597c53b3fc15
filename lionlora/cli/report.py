"""``lionlora report-html``: a Markdown table as an HTML page for the Snakemake report."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report-html", help="render a Markdown file (the results tables) as one HTML page")
    p.add_argument("--md", type=Path, required=True, help="Markdown file")
    p.add_argument("--out", type=Path, required=True, help="output .html")
    p.set_defaults(func=_report_html, out_kind="file")


def _report_html(args: argparse.Namespace) -> int:
    from lionlora.io.html import markdown_to_html

    print(markdown_to_html(args.md, args.out))
    return 0
