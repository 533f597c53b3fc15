"""FVD throughput: I3D features of 49-frame 480x720 clips on CPU (random weights), and Frechet time.

    .venv/bin/python benchmarks/fvd.py [--clips N] [--preset videogpt] [--batch 1] [--device cpu]

Prints clips/s for preprocessing + I3D forward (the preset's resize, then Inception-I3D through the
same loading path as real weights, a random state dict written by `lionlora eval i3d-init`), and
seconds for the Frechet distance of 2048 x 400 features with each square-root method.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    from lionlora.eval.quality.frechet import frechet
    from lionlora.eval.quality.presets import get_preset, preprocess
    from lionlora.eval.quality.weights import load_i3d, write_random_i3d

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=3, help="clips to time (after one warm-up clip)")
    ap.add_argument("--preset", default="videogpt")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    preset = get_preset(args.preset)
    with tempfile.TemporaryDirectory() as tmp:
        detector = load_i3d(write_random_i3d(Path(tmp) / "i3d.pt", seed=0), device=args.device)
    rng = np.random.default_rng(0)
    clip = rng.integers(0, 256, size=(49, 480, 720, 3), dtype=np.uint8)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {detector.device}, "
        f"preset {preset.name}, batch {args.batch}"
    )

    def run(n: int) -> tuple[float, float]:
        t_pre = t_net = 0.0
        for _ in range(n):
            t0 = time.perf_counter()
            batch = torch.stack([preprocess(clip, preset) for _ in range(args.batch)])
            t1 = time.perf_counter()
            detector(batch, preset.rescale, preset.resize)
            t_pre, t_net = t_pre + t1 - t0, t_net + time.perf_counter() - t1
        return t_pre, t_net

    run(1)  # warm-up
    t_pre, t_net = run(args.clips)
    n = args.clips * args.batch
    print(
        f"I3D features, 49 frames 480x720 -> {tuple(batch_shape(preset))}: "
        f"{n / (t_pre + t_net):.3f} clips/s  (preprocess {t_pre / n:.2f} s/clip, I3D {t_net / n:.2f} s/clip)"
    )

    a = rng.normal(size=(2048, 400)) @ rng.normal(size=(400, 400)) * 0.1
    b = rng.normal(size=(2048, 400)) @ rng.normal(size=(400, 400)) * 0.1 + 0.05
    for sqrt in ("scipy", "trace_sqrt"):
        t0 = time.perf_counter()
        r = frechet(a, b, sqrt=sqrt)
        print(f"Frechet 2048 x 400, sqrt={sqrt}: {time.perf_counter() - t0:.3f} s (value {r.fvd:.4f})")


def batch_shape(preset):
    return (3, 49, preset.size, preset.size)


if __name__ == "__main__":
    main()
