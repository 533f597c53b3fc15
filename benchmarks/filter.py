"""Speed of `lionlora filter` per 240-frame 480p clip (KLT + flow), and its decisions on the labelled set.

    .venv/bin/python benchmarks/filter.py [--seeds 3] [--repeats 3]

Prints Markdown tables:

1. seconds per 240-frame 480x720 clip at 24 fps for each part of the analysis (decode + resize,
   KLT on the border points, DIS flow), the whole analysis, and cutting the clip (H.264), compared
   with CoTracker3 on CPU. The reference is 28 s per 49 frames at 256x384 (random weights, measured
   for the issue); it is scaled to the clip by frames x pixels (the issue's rule) and, as a lower
   bound, by frames only (CoTracker resizes every input to its fixed model resolution).
2. the statistics and decisions on the labelled set for several seeds, and the margins of the
   default thresholds (the README's justification of them).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import cv2
import numpy as np

from lionlora.flow import pair_magnitudes
from lionlora.io.video import probe_video, write_video
from lionlora.pipelines.webvideo import FilterConfig, filter_videos, make_tracker
from lionlora.pipelines.webvideo.analysis import analyse_video, analysis_queries, track_size
from lionlora.pipelines.webvideo.clips import iter_clip_frames, plan_clips, write_clips
from lionlora.pipelines.webvideo.synthetic import KINDS, make_video, write_labelled_set

COTRACKER_S, COTRACKER_FRAMES, COTRACKER_PIXELS = 28.0, 49, 256 * 384


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def speed(tmp: Path, repeats: int) -> None:
    cfg = FilterConfig()  # the paper's clip: 240 frames, 480x720, 24 fps
    video = write_video(
        tmp / "clip480p.mp4", make_video("static_objects", cfg.clip_frames, cfg.height, cfg.width), fps=cfg.fps
    )
    plan = plan_clips(probe_video(video), cfg)
    h, w = track_size(cfg)
    tracker = make_tracker(cfg)
    queries = analysis_queries(cfg)

    def decode():
        return np.stack(
            [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for _, f in iter_clip_frames(video, plan, cfg)]
        )

    t_decode, frames = best_of(decode, repeats)
    t_klt, _ = best_of(lambda: tracker(frames, queries), repeats)
    t_flow, _ = best_of(lambda: pair_magnitudes(frames, cfg.flow), repeats)
    t_all, _ = best_of(lambda: analyse_video(video, plan, cfg, tracker), repeats)
    t_write, _ = best_of(lambda: write_clips(video, plan, cfg, tmp / "clips"), 1)
    pixel_scale = cfg.height * cfg.width / COTRACKER_PIXELS
    frame_scale = cfg.clip_frames / COTRACKER_FRAMES
    ref_full = COTRACKER_S * frame_scale * pixel_scale
    ref_frames = COTRACKER_S * frame_scale
    print(
        f"## Speed per {cfg.clip_frames}-frame {cfg.height}x{cfg.width} clip "
        f"({len(queries)} border points tracked at {h}x{w}, flow at {cfg.flow.height}x{cfg.flow.width}, "
        f"{os.cpu_count()} CPU cores, best of {repeats})\n"
    )
    print("| part | seconds |\n| --- | --- |")
    for name, t in [
        ("decode + resize", t_decode),
        ("klt tracking", t_klt),
        ("dis flow", t_flow),
        ("analysis (all of the above)", t_all),
        ("cutting the clip (H.264, kept videos only)", t_write),
    ]:
        print(f"| {name} | {t:.2f} |")
    print(
        f"\nCoTracker3 on CPU: {COTRACKER_S:g} s per {COTRACKER_FRAMES} frames at 256x384 -> "
        f"{ref_full:.0f} s per clip scaled by frames x pixels ({frame_scale:.2f} x {pixel_scale:.2f}), "
        f"{ref_frames:.0f} s scaled by frames only."
    )
    print(
        f"klt analysis: {ref_full / t_all:.0f}x faster (frames x pixels), {ref_frames / t_all:.0f}x (frames only); "
        f"tracking alone {ref_full / t_klt:.0f}x / {ref_frames / t_klt:.0f}x.\n"
    )


def labelled(tmp: Path, seeds: int) -> None:
    cfg = FilterConfig(clip_frames=49, fps=12, height=240, width=360)
    stats: dict[str, list[tuple[float, float]]] = {k: [] for k in KINDS}
    wrong = 0
    print(
        f"## Labelled set ({len(KINDS)} videos x {seeds} seeds, 49 frames at 240x360, thresholds "
        f"max_camera_motion={cfg.max_camera_motion:g}, min_object_motion={cfg.min_object_motion:g})\n"
    )
    print(
        "| seed | video | expected | kept | static_camera | camera_motion | object_motion | motion (px/frame) |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    for seed in range(seeds):
        src = write_labelled_set(tmp / f"set{seed}", frames=49, height=240, width=360, fps=12, seed=seed)
        summary = filter_videos(src, tmp / f"out{seed}", cfg)
        for row in summary.rows:
            kind = row["video"][:-4]
            expected = KINDS[kind].keep
            wrong += (row["keep"] == "true") != expected
            stats[kind].append((float(row["camera_motion"]), float(row["object_motion"])))
            print(
                f"| {seed} | {kind} | {'keep' if expected else 'reject'} | {row['keep']} | {row['static_camera']} "
                f"| {float(row['camera_motion']):.4f} | {float(row['object_motion']):.5f} | {float(row['motion']):.3f} |"
            )
    print("\n| video | expected | camera_motion | object_motion |\n| --- | --- | --- | --- |")
    for kind, values in stats.items():
        c, m = np.array(values).T
        print(
            f"| {kind} | {'keep' if KINDS[kind].keep else 'reject'} | {c.min():.4f} - {c.max():.4f} "
            f"| {m.min():.5f} - {m.max():.5f} |"
        )
    static_max = max(c for k, v in stats.items() if KINDS[k].static for c, _ in v)
    moving_min = min(c for k, v in stats.items() if not KINDS[k].static for c, _ in v)
    still_max = max(m for k, v in stats.items() if KINDS[k].static and not KINDS[k].moving for _, m in v)
    kept_min = min(m for k, v in stats.items() if KINDS[k].keep for _, m in v)
    print(f"\nwrong decisions: {wrong} of {seeds * len(KINDS)}")
    print(
        f"camera_motion: static cameras <= {static_max:.4f}, moving cameras >= {moving_min:.4f} "
        f"(threshold {cfg.max_camera_motion:g}: margins {cfg.max_camera_motion / static_max:.0f}x and "
        f"{moving_min / cfg.max_camera_motion:.1f}x)"
    )
    print(
        f"object_motion: still videos <= {still_max:.5f}, kept videos >= {kept_min:.5f} of min(H, W) per frame "
        f"(threshold {cfg.min_object_motion:g}: margins {cfg.min_object_motion / still_max:.1f}x and "
        f"{kept_min / cfg.min_object_motion:.1f}x)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=3, help="labelled sets to build (default 3)")
    p.add_argument("--repeats", type=int, default=3, help="timing repeats, best taken (default 3)")
    p.add_argument("--skip-labelled", action="store_true", help="only the speed table")
    p.add_argument("--skip-speed", action="store_true", help="only the labelled-set tables")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_speed:
            speed(Path(tmp), args.repeats)
        if not args.skip_labelled:
            labelled(Path(tmp), args.seeds)


if __name__ == "__main__":
    main()
