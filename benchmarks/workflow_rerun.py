"""Time a re-run of a finished workflow run: it must do nothing, within 10 s.

    python benchmarks/workflow_rerun.py [--results results/demo] [--repeats 3] [-- extra snakemake args]

Runs the same command as the demo (`snakemake --cores 2`, with `--config results=...`) on a
results folder the workflow has finished, checks that Snakemake reports nothing to be done, and
prints the wall and CPU time (user + system, Snakemake and its children) of each re-run, the
best of them, and the machine's load: on a loaded machine the wall time is mostly waiting.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
LIMIT_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=REPO / "results" / "demo", help="a finished run's results")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more snakemake arguments (e.g. --configfile ...)")
    args = parser.parse_args()
    cmd = [str(SNAKEMAKE), "--cores", "2", "--config", f"results={args.results}", *args.extra]
    times, cpu = [], []
    for _ in range(args.repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if out.returncode or "Nothing to be done" not in out.stdout + out.stderr:
            raise SystemExit(f"not a finished run, or the re-run did work:\n{out.stderr[-3000:]}")
    print(f"re-run of {args.results}: nothing to be done")
    print("wall times (s): " + ", ".join(f"{t:.2f}" for t in times))
    print("CPU times (s):  " + ", ".join(f"{t:.2f}" for t in cpu))
    print(f"best {min(times):.2f} s (limit {LIMIT_S:.0f} s), load average {os.getloadavg()[0]:.1f}")
    if min(times) > LIMIT_S:
        raise SystemExit(f"re-run took {min(times):.1f} s > {LIMIT_S:.0f} s")


if __name__ == "__main__":
    main()
