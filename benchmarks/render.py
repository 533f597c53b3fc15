"""Clip rendering speed: the torch engine at the demo size, and gsplat (CUDA) at the paper size.

    python benchmarks/render.py [--splat PLY] [--threads 1] [--work DIR] [--gsplat-gaussians 1000000]

* torch: frames per second (RGB + expected depth, no encoding) at the demo clip size with the
  demo's Gaussians, and the time of a whole demo clip (render + H.264 encode + files).
* gsplat, where CUDA and gsplat are available: the time to render and encode a 600-frame 720x480
  clip (paper size) with the demo Gaussians replicated to ``--gsplat-gaussians`` (DL3DV scale).

Without ``--splat`` the demo reconstruction is run first (about as long as
benchmarks/reconstruct.py).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def _demo_splat(work: Path, scene: Path) -> Path:
    from _common import demo_section

    from lionlora.config import from_dict
    from lionlora.pipelines.gaussians import ReconstructConfig, reconstruct

    out = work / "splat"
    if not (out / "point_cloud.ply").exists():
        reconstruct(scene, out, from_dict(ReconstructConfig, demo_section("reconstruct"), "configs/demo.yaml"))
    return out / "point_cloud.ply"


def _torch_fps(splat: Path, scene: Path, cfg, frames: int = 20) -> float:
    import torch

    from lionlora.pipelines.gaussians import get_engine, read_ply
    from lionlora.pipelines.gaussians.view import render
    from lionlora.pipelines.render.clip import clip_intrinsics
    from lionlora.pipelines.trajectories import primitive_trajectory
    from lionlora.scenes import load_scene

    sc = load_scene(scene, check_images=False)
    K = clip_intrinsics(sc.cameras.intrinsics, cfg.width, cfg.height)
    traj = primitive_trajectory("orbit_left", sc.cameras.c2w[0], K, frames, 5.0)
    g = read_ply(splat)
    engine = get_engine("torch")
    with torch.no_grad():
        render(g, engine, traj.c2w[0], K, render_mode="RGB+ED")  # warm-up
        t = time.perf_counter()
        for c2w in traj.c2w:
            render(g, engine, c2w, K, render_mode="RGB+ED", tile_size=cfg.tile_size)
    return frames / (time.perf_counter() - t)


def _replicated(splat: Path, n: int, out: Path) -> Path:
    import torch

    from lionlora.pipelines.gaussians import Gaussians, read_ply, write_ply

    g = read_ply(splat)
    idx = torch.randint(len(g), (n,), generator=torch.Generator().manual_seed(0))
    big = Gaussians(**{k: v[idx].clone() for k, v in g.params().items()})
    big.means += torch.randn(big.means.shape, generator=torch.Generator().manual_seed(1)) * torch.exp(big.scales)
    return write_ply(out, big)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splat", type=Path, default=None, help="3DGS .ply (default: reconstruct the demo scene)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the workflow uses 1)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the scene, splat and clips")
    parser.add_argument("--gsplat-gaussians", type=int, default=1_000_000, help="Gaussians of the gsplat timing")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")

    import torch
    from _common import demo_section, embedded_scene

    from lionlora.config import from_dict
    from lionlora.pipelines.gaussians import read_ply
    from lionlora.pipelines.gaussians.engines import gsplat_available
    from lionlora.pipelines.render import RenderConfig, render_clip

    torch.set_num_threads(args.threads)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_render_"))
    scene = embedded_scene(work)
    splat = args.splat or _demo_splat(work, scene)
    clip = demo_section("clip")
    opts = {
        **(demo_section("render").get("options") or {}),
        **{k: clip[k] for k in ("frames", "width", "height") if k in clip},
    }
    cfg = from_dict(RenderConfig, opts, "configs/demo.yaml")
    n = len(read_ply(splat))
    fps = _torch_fps(splat, scene, cfg)
    print(
        f"torch engine: {fps:.1f} frames/s at {cfg.width}x{cfg.height} with {n} Gaussians "
        f"({args.threads} thread(s), RGB + expected depth)"
    )
    t = time.perf_counter()
    render_clip(splat, scene, "dolly_in+orbit_left", work / "clip_demo", cfg)
    print(
        f"torch engine: demo clip ({cfg.frames} frames {cfg.width}x{cfg.height}, render + encode) "
        f"{time.perf_counter() - t:.1f} s"
    )

    if not gsplat_available():
        print("gsplat: not measured (needs a CUDA device and pip install -e '.[gpu]')")
        return
    big = _replicated(splat, args.gsplat_gaussians, work / "big.ply")
    paper = RenderConfig(engine="gsplat", frames=600, width=720, height=480, preset="fast")
    render_clip(big, scene, "orbit_left", work / "clip_warmup", RenderConfig(engine="gsplat", frames=8))
    torch.cuda.synchronize()
    t = time.perf_counter()
    render_clip(big, scene, "dolly_in+orbit_left", work / "clip_paper", paper)
    print(
        f"gsplat engine: 600-frame 720x480 clip with {args.gsplat_gaussians} Gaussians (render + encode, "
        f"preset {paper.preset}) {time.perf_counter() - t:.1f} s on {torch.cuda.get_device_name()}"
    )


if __name__ == "__main__":
    main()
