"""Benchmark of ``lionlora benchmark run``: videos scored per minute, by ``--jobs``.

Renders clips like ``benchmarks/camera_eval.py`` (49-frame 480x720 clips of the embedded scene
along the workflow's primitives, exact cameras; ``--supersample 1`` renders faster with the same
cameras), lays them out like the render stage, builds a
suite, then scores the suite's own clips as a method (so every video counts twice: the noise
floor and the method) with each ``--jobs`` value, from an empty cache. Prints, per value, the wall
time, the CPU time of this process and its workers, and videos per minute: measured on the wall
clock, and the CPU-bound figure ``60 * videos * cores / cpu_seconds`` (steadier on a shared
machine). Run from the repository root::

    .venv/bin/python benchmarks/benchmark_run.py --jobs 2 1 --primitives pan_right dolly_in --supersample 1
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from camera_eval import PRIMITIVES, camera_paths
from tqdm import tqdm

from lionlora.benchmark.run import run_benchmark
from lionlora.benchmark.suite import NOISE_FLOOR, REFERENCE, SuiteConfig, build_suite
from lionlora.geometry import Intrinsics, Trajectory
from lionlora.io.cameras_json import write_cameras
from lionlora.io.video import write_video
from lionlora.pipelines.synth import build_room, render_view


def write_clips(root: Path, args: argparse.Namespace) -> int:
    """``root/embedded/{primitive}/clip.mp4`` + ``cameras.json`` (the render stage's layout)."""
    room = build_room(args.seed)
    K = Intrinsics.from_fov(68.0, args.width, args.height)
    paths = camera_paths(room, args.frames, K, args.seed)
    for name in args.primitives:
        folder = root / "embedded" / name
        frames = [
            render_view(room, c, K, supersample=args.supersample)[0]
            for c in tqdm(paths[name], desc=f"render {name}", unit="frame")
        ]
        write_video(folder / "clip.mp4", frames, fps=8)
        write_cameras(folder / "cameras.json", Trajectory(paths[name], K), metadata={"primitive": name})
    return len(args.primitives)


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=49)
    ap.add_argument("--width", type=int, default=720)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, nargs="+", default=[2])
    ap.add_argument("--primitives", nargs="+", default=list(PRIMITIVES), choices=PRIMITIVES)
    ap.add_argument("--supersample", type=int, default=2, help="render supersampling (1: faster)")
    args = ap.parse_args()
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        n_clips = write_clips(work / "clips", args)
        suite = work / "suite"
        build_suite(work / "clips", suite, SuiteConfig(frames=args.frames, height=args.height, width=args.width))
        print(f"{n_clips} samples of {args.frames} frames at {args.width}x{args.height}; cores: {os.cpu_count()}")
        for jobs in args.jobs:
            shutil.rmtree(suite / NOISE_FLOOR, ignore_errors=True)
            out = work / f"out_jobs{jobs}"
            t0, c0 = time.perf_counter(), cpu_seconds()
            rec = run_benchmark(suite, {"own": suite / REFERENCE}, out, jobs=jobs, figures=False)
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            n = rec["timing"]["videos_scored"]
            cores = min(jobs, os.cpu_count() or 1)
            print(
                f"--jobs {jobs}: {n} videos in {wall:.1f} s wall, {cpu:.1f} s CPU -> "
                f"{60 * n / wall:.2f} videos/min (wall), {60 * n * cores / cpu:.2f} videos/min (CPU-bound, {cores} cores); "
                f"counts {rec['counts']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
