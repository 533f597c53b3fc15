"""Run the demo workflow twice and compare every output, timings aside.

    .venv/bin/python benchmarks/demo_reproducible.py [--cores 2] [--work DIR] [--target FILE]

Each run writes to its own results folder (``--config results=...``). Then every file of the first
run is compared with the second: videos (mp4) and other binary files byte for byte; CSV tables cell
by cell and JSON files value by value (each run's results folder written as ``RESULTS`` in them and
in Markdown, TSV and YAML files), leaving out columns and keys that are timings (their names
contain ``second``, ``time``, ``wall``, ``cpu``, ``elapsed`` or end in ``_s``); logs are skipped.
Prints one line per differing file and exits non-zero when any differs. The whole demo takes tens
of minutes on 2 cores; ``--target`` (a file under the results folder, e.g.
``pairs/manifest.csv``) limits both runs to what that file needs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIMING = re.compile(r"second|time|wall|cpu|elapsed|_s$", re.IGNORECASE)
SKIP = {".log", ".txt"}
TEXT = {".md", ".tsv", ".yaml", ".yml"}


def run_demo(results: Path, cores: int, target: str | None) -> None:
    targets = [str(results / target)] if target else []  # before --config, which takes every word after it
    cmd = ["snakemake", *targets, "--cores", str(cores), "--configfile", "configs/demo.yaml"]
    cmd += ["--config", f"results={results}"]
    # this interpreter's bin folder (.venv/bin) first: snakemake, and the lionlora its rules call
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(cmd, cwd=REPO, check=True, env=env)


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not TIMING.search(k)}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _text(path: Path, root: Path) -> str:
    """The file's text with its run's results folder written as ``RESULTS`` (runs differ in it)."""
    return path.read_text().replace(str(root), "RESULTS")


def _csv(path: Path, root: Path) -> list[dict]:
    rows = csv.DictReader(io.StringIO(_text(path, root), newline=""))
    return [{k: v for k, v in row.items() if not TIMING.search(k or "")} for row in rows]


def same(a: Path, b: Path, roots: tuple[Path, Path]) -> bool:
    if a.suffix == ".csv":
        return _csv(a, roots[0]) == _csv(b, roots[1])
    if a.suffix == ".json":
        return _strip(json.loads(_text(a, roots[0]))) == _strip(json.loads(_text(b, roots[1])))
    if a.suffix in TEXT:
        return _text(a, roots[0]) == _text(b, roots[1])
    return a.read_bytes() == b.read_bytes()


def compare(first: Path, second: Path) -> list[str]:
    """Relative paths of files that differ (or exist in one run only)."""
    differ = []
    for a in sorted(p for p in first.rglob("*") if p.is_file() and p.suffix not in SKIP):
        rel = a.relative_to(first)
        if "benchmarks" in rel.parts or "logs" in rel.parts:
            continue
        b = second / rel
        if not b.is_file() or not same(a, b, (first, second)):
            differ.append(rel.as_posix())
    return differ


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--target", default=None, help="a file under the results folder to build instead of everything")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="demo_twice_"))
    runs = [work / "run1", work / "run2"]
    for results in runs:
        run_demo(results, args.cores, args.target)
    differ = compare(*runs)
    for rel in differ:
        print(f"differs: {rel}")
    n = sum(1 for p in runs[0].rglob("*") if p.is_file())
    print(f"{n - len(differ)} of {n} files identical (timings aside); {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
