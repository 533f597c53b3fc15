"""3DGS on a capture without SfM points: triangulated vs random initialisation, s/step and PSNR gain.

    .venv/bin/python benchmarks/bare_capture.py [--steps 300] [--threads 1] [--work DIR]

The demo's embedded scene is exported as a transforms.json-only capture (images_4 = 240x135, no
COLMAP model), the shape of a nerfstudio / instant-ngp capture. No real capture can be downloaded
here, so this stands in for one. For each initialisation (``triangulate`` with the known poses,
the default; ``random``, the explicit option) the demo's reconstruction settings run ``--steps``
steps with the torch engine and the script prints a Markdown table: initial points, triangulation
seconds, s/step (optimisation loop, wall), Gaussians at the end, held-out PSNR at init and at the end.
Targets of issue 13: <= 0.5 s/step at 135x240 and >= +3 dB over the initialisation within 300 steps.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--work", type=Path, default=None, help="folder for the scene and the outputs")
    parser.add_argument("--inits", default="triangulate,random", help="comma-separated: triangulate, random")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")

    import torch
    from _common import demo_section, embedded_scene

    from lionlora.config import from_dict
    from lionlora.pipelines.gaussians import ReconstructConfig, reconstruct

    torch.set_num_threads(args.threads)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_bare_"))
    full = embedded_scene(work)
    bare = work / "bare"
    if not bare.exists():
        shutil.copytree(full, bare, ignore=shutil.ignore_patterns("colmap", "images_2"))
    cfg = from_dict(ReconstructConfig, {**demo_section("reconstruct"), "steps": args.steps}, "configs/demo.yaml")
    print("| init | initial Gaussians | init s | s/step | Gaussians | PSNR init | PSNR end | gain dB |")
    print("|---|---|---|---|---|---|---|---|")
    for init in args.inits.split(","):
        run = dataclasses.replace(cfg, triangulate=init == "triangulate", init="random" if init == "random" else "sfm")
        t0 = time.perf_counter()
        m = reconstruct(bare, work / f"splat_{init}", run)
        setup = time.perf_counter() - t0 - m["seconds_per_step"] * args.steps
        print(
            f"| {m['init']} | {m['n_gaussians_init']} | {setup:.1f} | {m['seconds_per_step']:.3f} | "
            f"{m['n_gaussians']} | {m['psnr_init']:.2f} | {m['psnr']:.2f} | {m['psnr'] - m['psnr_init']:+.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
