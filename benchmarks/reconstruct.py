"""Seconds per 3DGS optimisation step of the torch engine on the demo scene and configuration.

    python benchmarks/reconstruct.py [--steps 100] [--threads 1] [--work DIR]

Prints the seconds per step (wall and CPU), the Gaussian count and the held-out PSNR reached.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None, help="optimisation steps (default: the demo's)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the workflow uses 1)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the scene and the output")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")

    import torch
    from _common import demo_section, embedded_scene

    from lionlora.config import from_dict
    from lionlora.pipelines.gaussians import ReconstructConfig, reconstruct

    torch.set_num_threads(args.threads)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_reconstruct_"))
    scene = embedded_scene(work)
    section = dict(demo_section("reconstruct"))
    if args.steps is not None:
        section["steps"] = args.steps
    cfg = from_dict(ReconstructConfig, section, "configs/demo.yaml")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    m = reconstruct(scene, work / "splat", cfg)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        f"torch engine, {m['width']}x{m['height']}, {cfg.steps} steps, {args.threads} thread(s): "
        f"{m['seconds_per_step']:.3f} s/step (optimisation loop, wall); whole run {wall:.1f} s wall, "
        f"{cpu:.1f} s CPU"
    )
    print(
        f"Gaussians {m['n_gaussians_init']} -> {m['n_gaussians']}; held-out PSNR {m['psnr_init']:.2f} -> "
        f"{m['psnr']:.2f} dB, SSIM {m['ssim_init']:.3f} -> {m['ssim']:.3f}"
    )


if __name__ == "__main__":
    main()
