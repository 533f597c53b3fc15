"""Per-rule cost of a finished workflow run, and a cost estimate of the paper config per scene.

Reads the `benchmark:` files every rule writes (RESULTS/benchmarks/<rule>/...tsv: wall seconds,
max RSS) and prints, per rule, the jobs, total and mean wall time and the peak memory, then the
total. With --paper it counts the jobs of configs/paper.yaml per scene and per run (dry runs on
one and on two stand-in DL3DV scenes) and adds up the time each job declares for the paper
(its `runtime`: workflow/rules/common.smk JOB_COST, an estimate on one GPU node, per video for
the generation jobs) to size a cluster run.

    python benchmarks/workflow_cost.py --results results/demo [--paper] [--markdown docs/cost.md]
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def read_benchmarks(results: Path) -> dict[str, list[dict]]:
    """{rule: [benchmark rows]}; the rule is the first folder (or the file stem) under benchmarks/."""
    rows = defaultdict(list)
    root = results / "benchmarks"
    for tsv in sorted(root.rglob("*.tsv")):
        rel = tsv.relative_to(root)
        rule = rel.parts[0] if len(rel.parts) > 1 else tsv.stem
        with tsv.open() as f:
            rows[rule].extend(csv.DictReader(f, delimiter="\t"))
    if not rows:
        raise SystemExit(f"no benchmark files under {root}: run the workflow first")
    return rows


def rule_table(rows: dict[str, list[dict]]) -> list[dict]:
    table = []
    for rule, runs in rows.items():
        seconds = [float(r["s"]) for r in runs]
        rss = [float(r["max_rss"]) for r in runs if r.get("max_rss") not in (None, "", "-", "NA")]
        table.append(
            {
                "rule": rule,
                "jobs": len(runs),
                "total_s": sum(seconds),
                "mean_s": sum(seconds) / len(seconds),
                "max_s": max(seconds),
                "max_rss_mb": max(rss) if rss else float("nan"),
            }
        )
    return sorted(table, key=lambda r: -r["total_s"])


def markdown(table: list[dict]) -> str:
    lines = [
        "| rule | jobs | total (s) | mean per job (s) | slowest job (s) | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in table:
        lines.append(
            f"| {r['rule']} | {r['jobs']} | {r['total_s']:.1f} | {r['mean_s']:.1f} | {r['max_s']:.1f} | "
            f"{r['max_rss_mb']:.0f} |"
        )
    total = sum(r["total_s"] for r in table)
    lines.append(f"| **total** | {sum(r['jobs'] for r in table)} | {total:.1f} | | | |")
    return "\n".join(lines) + "\n"


def planned_jobs(n_scenes: int, tmp: Path) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """Jobs and declared job-minutes per rule of the paper config with `n_scenes` stand-in DL3DV
    scenes (a dry run; `runtime` of each job's resources), and the GPU rules."""
    root = tmp / f"dl3dv{n_scenes}"
    hashes = [f"{i:064x}" for i in range(1, n_scenes + 1)]
    held_out = f"{10_000:064x}"  # one evaluation scene, disjoint from the training list
    for h in [*hashes, held_out]:
        (root / "1K" / h).mkdir(parents=True, exist_ok=True)
        (root / "1K" / h / "transforms.json").write_text("{}")
    (tmp / f"list{n_scenes}.csv").write_text("hash,batch\n" + "".join(f"{h},1K\n" for h in hashes))
    (tmp / f"eval{n_scenes}.csv").write_text(f"hash,batch\n{held_out},1K\n")
    (tmp / f"local{n_scenes}.yaml").write_text(
        f"results: {tmp}/r\nscenes:\n  source: dl3dv\n  dl3dv:\n    root: {root}\n"
        f"    hash_list: {tmp}/list{n_scenes}.csv\n    eval_hash_list: {tmp}/eval{n_scenes}.csv\n"
    )
    out = subprocess.run(
        [str(SNAKEMAKE), "-n", "--configfile", "configs/paper.yaml", str(tmp / f"local{n_scenes}.yaml")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if out.returncode:
        raise SystemExit(out.stderr + out.stdout)
    counts = {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", out.stdout, re.M) if k not in ("all", "total")}
    minutes: dict[str, int] = defaultdict(int)
    for rule, resources in re.findall(r"^rule (\w+):\n(?:    .*\n)*?    resources: ([^\n]*)", out.stdout, re.M):
        runtime = re.search(r"\bruntime=(\d+)", resources)
        minutes[rule] += int(runtime.group(1)) if runtime else 0
    gpus = set(re.findall(r"^rule (\w+):\n(?:    .*\n)*?    resources: [^\n]*\bgpu=1", out.stdout, re.M))
    return counts, dict(minutes), gpus


def paper_estimate() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        (one, one_min, gpus), (two, two_min, _) = planned_jobs(1, Path(tmp)), planned_jobs(2, Path(tmp))
    lines = [
        "| rule | GPU | jobs per scene | jobs per run | minutes per job (declared) | job-hours per scene | per run |",
        "|---|:-:|---:|---:|---:|---:|---:|",
    ]
    per_scene_h = per_run_h = 0.0
    for rule in sorted(set(one) | set(two)):
        scene = two.get(rule, 0) - one.get(rule, 0)
        fixed = one.get(rule, 0) - scene
        scene_min = two_min.get(rule, 0) - one_min.get(rule, 0)
        fixed_min = one_min.get(rule, 0) - scene_min
        per_scene_h += scene_min / 60
        per_run_h += fixed_min / 60
        gpu = "yes" if rule in gpus else ""
        m = two_min.get(rule, 0) / max(two.get(rule, 0), 1)
        lines.append(f"| {rule} | {gpu} | {scene} | {fixed} | {m:g} | {scene_min / 60:.1f} | {fixed_min / 60:.1f} |")
    lines.append(f"| **total** | | | | | **{per_scene_h:.1f}** | **{per_run_h:.1f}** |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=REPO / "results" / "demo", help="results folder of a run")
    parser.add_argument("--paper", action="store_true", help="also estimate the paper config per scene")
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables to this Markdown file")
    args = parser.parse_args()
    text = f"Per-rule wall time of {args.results} (benchmark: files)\n\n" + markdown(
        rule_table(read_benchmarks(args.results))
    )
    if args.paper:
        text += "\nPaper config (configs/paper.yaml): jobs x declared runtime\n\n" + paper_estimate()
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
