"""Cost of reproducible H.264 settings: file size, PSNR and encode time against x264's defaults.

    .venv/bin/python benchmarks/video_encode.py [--runs 3] [--frames 61]

For each encoder setting and each test video (labelled synthetic videos: objects moving before a
static camera, a pan, a hand-held shake; 240x360), the frames are encoded ``--runs`` times, each in
its own process, and the table reports how many distinct files came out, the size in KiB, the
RGB PSNR of the decoded video against the frames, and the encode time. The toolkit's setting is
:data:`lionlora.io.video.REPRODUCIBLE_X264` with :data:`lionlora.io.video.ENCODER_THREADS`.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lionlora.io.video import ENCODER_THREADS, REPRODUCIBLE_X264, read_video
from lionlora.pipelines.gaussians.metrics import psnr
from lionlora.pipelines.webvideo.synthetic import make_video

#: label -> (x264-params, encoder threads); threads 0 lets x264 choose (the old default)
SETTINGS = {
    "x264 defaults, auto threads (before)": ("", 0),
    "mbtree=0, auto threads": ("mbtree=0", 0),
    "rc-lookahead=0, 1 thread": ("rc-lookahead=0", 1),
    "mbtree=0, 1 thread": ("mbtree=0", 1),
    f"{REPRODUCIBLE_X264}, {ENCODER_THREADS} thread (toolkit)": (REPRODUCIBLE_X264, ENCODER_THREADS),
}
KINDS = ("static_objects", "pan", "shake")


def encode_in_process(out: Path, frames_npy: Path, params: str, threads: int) -> float:
    t0 = time.perf_counter()
    code = (
        "import sys, numpy as np\n"
        "from lionlora.io.video import VideoWriter\n"
        "with VideoWriter(sys.argv[1], fps=24.0, x264_params=sys.argv[3], threads=int(sys.argv[4])) as w:\n"
        "    [w.write(f) for f in np.load(sys.argv[2])]\n"
    )
    subprocess.run([sys.executable, "-c", code, str(out), str(frames_npy), params, str(threads)], check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--frames", type=int, default=61)
    args = ap.parse_args()
    print("| setting | video | distinct files / runs | KiB | PSNR dB | encode s (incl. process start) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for kind in KINDS:
            frames = make_video(kind, args.frames, 240, 360)
            npy = tmp / f"{kind}.npy"
            np.save(npy, frames)
            for label, (params, threads) in SETTINGS.items():
                hashes, times = set(), []
                for run in range(args.runs):
                    out = tmp / f"{kind}_{run}.mp4"
                    times.append(encode_in_process(out, npy, params, threads))
                    hashes.add(hashlib.sha256(out.read_bytes()).hexdigest())
                quality = float(np.mean([psnr(a / 255.0, b / 255.0) for a, b in zip(read_video(out), frames)]))
                kib = out.stat().st_size / 1024
                print(
                    f"| {label} | {kind} | {len(hashes)} / {args.runs} | {kib:.1f} | {quality:.2f} | {min(times):.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
