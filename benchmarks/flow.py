"""Optical-flow magnitude cost: seconds per 49-frame 480x720 video for each flow backend.

    .venv/bin/python benchmarks/flow.py [--repeats 2]

The video is a real photograph (scikit-image) translating 4 px per frame; the magnitude is computed
at the default analysis resolution (240x360), as `lionlora eval motion` and the web-video filter do.
Backends that cannot run here (RAFT without torchvision) are reported with the reason.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lionlora.errors import LionLoraError


def translating_video(t: int = 49, h: int = 480, w: int = 720, speed: int = 4) -> np.ndarray:
    import cv2
    from skimage import data

    img = cv2.resize(data.astronaut(), (2 * w, h + 8), interpolation=cv2.INTER_CUBIC)
    return np.stack([img[:h, i * speed : i * speed + w] for i in range(t)])


def main() -> None:
    from lionlora.flow import FlowConfig, flow_magnitude

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    video = translating_video()
    cfg0 = FlowConfig()
    print(
        f"49 frames 480x720, analysis {cfg0.height}x{cfg0.width}, true speed "
        f"{4 * cfg0.width / 720:.2f} px/frame at analysis size"
    )
    for backend in ("dis", "farneback", "raft"):
        try:
            cfg = FlowConfig(backend=backend)
        except LionLoraError as exc:
            print(f"{backend:10s} unavailable: {str(exc)[:110]}...")
            continue
        flow_magnitude(video[:3], cfg)  # warm-up (model load for RAFT)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            mag = flow_magnitude(video, cfg)
            times.append(time.perf_counter() - t0)
        print(f"{backend:10s} {min(times):.2f} s/video  (magnitude {mag:.3f} px/frame)")


if __name__ == "__main__":
    main()
