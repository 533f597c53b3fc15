"""Benchmark of camera evaluation: SfM settings (CamI2V recipe vs the defaults) and metric speed.

Renders 49-frame 480x720 clips exactly from the embedded scene along the workflow's camera
primitives (pan, dolly, orbit and a fused dolly+orbit, depth-scaled from a capture camera), encodes them as H.264 like real clips, then for each SfM
setting prints the wall and CPU time per clip (CPU time, summed over threads, is the steadier
figure on a shared machine), the registered frames and the noise floor (the metrics of the
recovered cameras against the known ones). Run from the repository root::

    .venv/bin/python benchmarks/camera_eval.py            # (a) CamI2V recipe, (b) defaults, (c) (b) + refinement
    .venv/bin/python benchmarks/camera_eval.py --sweep    # also one-change-at-a-time variants
    .venv/bin/python benchmarks/camera_eval.py --cache DIR  # keep the rendered clips for the next run

The last lines time the metric code on 1000 trajectories of 49 frames.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from lionlora.eval.camera.config import CameraEvalConfig
from lionlora.eval.camera.metrics import METRICS, camera_errors
from lionlora.eval.camera.sfm import recover_poses
from lionlora.geometry import Intrinsics
from lionlora.io.video import read_video, write_video
from lionlora.pipelines.synth import build_room, render_view
from lionlora.pipelines.synth.layout import capture_path
from lionlora.pipelines.trajectories import primitive_trajectory

PRIMITIVES = ("pan_right", "dolly_in", "orbit_left", "dolly_in+orbit_left")


def camera_paths(room, n: int, K: Intrinsics, seed: int, primitives=PRIMITIVES) -> dict[str, np.ndarray]:
    """The workflow's camera primitives (``lionlora.pipelines.trajectories``) from the middle camera of the
    embedded scene's capture sweep, scaled by the median depth of its exactly rendered view:
    ``{name: c2w [n, 4, 4]}``. (From the sweep's first camera the orbit passes through a box.)"""
    start = capture_path(seed, 9)[4]
    depth = render_view(room, start, K, supersample=1)[1]
    median = float(np.median(depth[np.isfinite(depth)]))
    return {name: primitive_trajectory(name, start, K, n, median).c2w for name in primitives}


def render_clips(
    out: Path, n: int, width: int, height: int, seed: int, primitives=PRIMITIVES
) -> dict[str, tuple[np.ndarray, np.ndarray, Intrinsics]]:
    """Render each path, write it as mp4 and read it back: ``{name: (frames, c2w, K)}``.

    Clips already in ``out`` (same name, size and frame count) are reused.
    """
    from tqdm import tqdm

    room = build_room(seed)
    K = Intrinsics.from_fov(68.0, width, height)
    clips = {}
    for name, c2w in camera_paths(room, n, K, seed, primitives).items():
        path = out / f"{name.replace('+', '_')}_{width}x{height}_{n}_s{seed}.mp4"
        if not path.exists():
            frames = [render_view(room, c, K)[0] for c in tqdm(c2w, desc=f"render {name}", unit="frame")]
            write_video(path, frames, fps=8)
        clips[name] = (read_video(path), c2w, K)
    return clips


def run_one(label: str, cfg: CameraEvalConfig, name: str, clip: tuple) -> dict:
    """SfM on one clip: wall and CPU seconds (all threads), registration and floor errors."""
    frames, c2w, K = clip
    t0, c0 = time.perf_counter(), time.process_time()
    res = recover_poses(frames, cfg, intrinsics=K, source=name)
    row = {"clip": name, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    best = res.best()
    row.update(registered=best.num_registered, frames=len(frames))
    if best.registered.all():
        row.update({k: float(v) for k, v in camera_errors(c2w, best.c2w).items()})
    print(
        f"  {label:<28} {name:<20} wall {row['seconds']:6.1f}s cpu {row['cpu']:6.1f}s  "
        f"registered {best.num_registered}/{len(frames)}  "
        + "  ".join(f"{k}={row[k]:.5f}" for k in METRICS if k in row),
        flush=True,
    )
    return row


def summarise(label: str, rows: list[dict]) -> str:
    wall = sum(r["seconds"] for r in rows)
    cpu = sum(r["cpu"] for r in rows)
    reg = sum(r["registered"] for r in rows)
    frames = sum(r["frames"] for r in rows)
    parts = [f"{label:<28} wall {wall:7.1f}s  cpu {cpu:7.1f}s  registered {reg}/{frames}"]
    for k in METRICS:
        vals = [r[k] for r in rows if k in r]
        parts.append(f"{k}={np.mean(vals):.5f}" if vals else f"{k}=n/a")
    return "  ".join(parts)


def sweep_settings(default: CameraEvalConfig) -> list[tuple[str, CameraEvalConfig]]:
    """One option changed at a time: the recipe towards the defaults, then the defaults' neighbours."""
    recipe = CameraEvalConfig.cami2v_recipe()
    rep = dataclasses.replace
    return [
        ("recipe, 300 tracks/view", rep(recipe, tracks_per_view=300)),
        ("recipe, extraction 540 px", rep(recipe, max_image_size=540)),
        ("defaults, extraction 480 px", rep(default, max_image_size=480)),
        ("defaults, extraction 600 px", rep(default, max_image_size=600)),
        ("defaults, 2048 features", rep(default, max_features=2048)),
        ("defaults, first octave 0", rep(default, first_octave=0)),
        ("defaults, overlap 10 linear", rep(default, quadratic_overlap=False)),
        ("defaults, 100 tracks/view", rep(default, tracks_per_view=100)),
        ("defaults, intrinsics free", rep(default, fix_intrinsics=False)),
        ("defaults, incremental", rep(default, mapper="incremental")),
    ]


def time_metrics(batch: int = 1000, frames: int = 49, seed: int = 0) -> float:
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(seed)
    n = batch * frames
    c2w = np.tile(np.eye(4), (2, n, 1, 1))
    c2w[:, :, :3, :3] = Rotation.random(2 * n, random_state=seed).as_matrix().reshape(2, n, 3, 3)
    c2w[:, :, :3, 3] = rng.normal(size=(2, n, 3))
    gt, pred = c2w.reshape(2, batch, frames, 4, 4)
    camera_errors(gt[:2], pred[:2])  # warm-up
    t0 = time.perf_counter()
    camera_errors(gt, pred)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=49)
    ap.add_argument("--width", type=int, default=720)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--seed", type=int, default=0, help="embedded room layout")
    ap.add_argument("--sweep", action="store_true", help="also run one-change-at-a-time variants")
    ap.add_argument("--cache", type=Path, default=None, help="folder keeping the rendered clips between runs")
    ap.add_argument(
        "--primitives",
        default=",".join(PRIMITIVES),
        help="comma-separated clips to run (a reduced run on a busy machine: e.g. pan_right)",
    )
    args = ap.parse_args()

    default = CameraEvalConfig()
    settings = [
        ("(a) CamI2V recipe", CameraEvalConfig.cami2v_recipe()),
        ("(b) defaults", default),
        ("(c) defaults + refinement", dataclasses.replace(default, refine_keypoints=True)),
    ]
    if args.sweep:
        settings += sweep_settings(default)
    with contextlib.ExitStack() as stack:
        cache = args.cache or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        clips = render_clips(cache, args.frames, args.width, args.height, args.seed, args.primitives.split(","))
        print(f"{len(clips)} clips of {args.frames} frames at {args.width}x{args.height}")
        rows: dict[str, list[dict]] = {label: [] for label, _ in settings}
        for name, clip in clips.items():  # interleaved, so that a busy machine slows every setting alike
            for label, cfg in settings:
                rows[label].append(run_one(label, cfg, name, clip))
    print("\nsummary (times summed over clips; metrics averaged over clips with every frame registered)")
    for label, _ in settings:
        print(summarise(label, rows[label]))
    la = settings[0][0]
    for lb, _ in settings[1:3]:
        for key, what in (("seconds", "wall"), ("cpu", "CPU")):
            ta, tb = (sum(r[key] for r in rows[label]) for label in (la, lb))
            print(f"speed-up of {lb[:3]} over (a), {what} time: {ta / tb:.2f}x")
    seconds = time_metrics()
    print(f"metrics: 1000 trajectories of 49 frames in {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
