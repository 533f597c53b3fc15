"""RealEstate10K camera files (``cameras_re10k.txt``), the layout CameraCtrl, CamI2V and MotionCtrl read.

Layout written (UTF-8 text, ``\\n`` line ends, fields separated by one space)::

    lionlora://SAMPLE                      <- line 1: the source (RealEstate10K: the video URL); readers skip it
    TIMESTAMP fx/W fy/H cx/W cy/H 0 0 r11 r12 r13 t1 r21 r22 r23 t2 r31 r32 r33 t3
    ...                                    <- one line per frame, 19 numbers

* ``TIMESTAMP``: an integer, the frame's time in microseconds in the source clip
  (``round(source_frame * 1e6 / fps)``); with no known frame rate, the frame index.
* ``fx/W fy/H cx/W cy/H``: the pinhole intrinsics divided by the image width ``W`` and height ``H``
  (pixel-edge origin, as everywhere in the toolkit); then the two zeros RealEstate10K holds there.
* The last 12 numbers: the row-major 3x4 **world-to-camera** matrix ``[R | t]`` in **OpenCV** axes
  (x right, y down, z forward): ``p_cam = R p_world + t``. It is the inverse of the toolkit's
  camera-to-world pose (:mod:`lionlora.geometry`).

Numbers are written with Python's shortest round-trip ``repr``, so the same cameras give the
same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from lionlora.errors import CameraError
from lionlora.geometry.camera import Intrinsics, Trajectory
from lionlora.geometry.se3 import check_rigid, se3_inverse
from lionlora.io.files import write_text

FIELDS_PER_LINE = 19


def _num(x: float) -> str:
    x = float(x)
    return repr(0.0 if x == 0.0 else x)  # no "-0.0"


def re10k_lines(traj: Trajectory, timestamps: list[int] | None = None) -> list[str]:
    """The frame lines (without the header) of ``traj``; ``timestamps`` default to the frame index."""
    K = traj.intrinsics
    w2c = se3_inverse(traj.c2w)[:, :3, :4]
    stamps = list(range(len(traj))) if timestamps is None else [int(t) for t in timestamps]
    if len(stamps) != len(traj):
        raise CameraError("re10k", "timestamps", f"{len(traj)} timestamps, one per camera", got=len(stamps))
    intr = [_num(v) for v in (K.fx / K.width, K.fy / K.height, K.cx / K.width, K.cy / K.height)]
    return [" ".join([str(t), *intr, "0", "0", *(_num(v) for v in m.reshape(-1))]) for t, m in zip(stamps, w2c)]


def write_re10k(path: str | Path, traj: Trajectory, header: str, timestamps: list[int] | None = None) -> Path:
    """Write ``traj`` as a RealEstate10K camera file (atomically); ``header`` is the first line."""
    if "\n" in header or not header:
        raise CameraError(path, "header", "one non-empty line", got=header)
    return write_text(path, "\n".join([header, *re10k_lines(traj, timestamps)]) + "\n")


def read_re10k(path: str | Path, width: int, height: int) -> tuple[Trajectory, list[int]]:
    """Read a RealEstate10K camera file for images of ``width x height`` pixels.

    Returns:
        The cameras in the toolkit's convention (OpenCV camera-to-world) and the timestamps.
    Raises:
        CameraError: a line without 19 numbers, intrinsics that differ between lines, a non-rigid
            matrix, or no frame line.
    """
    path = Path(path)
    if not path.is_file():
        raise CameraError(path, "", "an existing RealEstate10K camera file", got="no such file")
    lines = [ln for ln in path.read_text().splitlines()[1:] if ln.strip()]
    if not lines:
        raise CameraError(path, "lines", "a header line and at least one camera line", got=0)
    rows = []
    for i, line in enumerate(lines, start=2):
        parts = line.split()
        try:
            values = [float(v) for v in parts]
        except ValueError:
            values = []
        if len(parts) != FIELDS_PER_LINE or len(values) != FIELDS_PER_LINE or not all(map(math.isfinite, values)):
            raise CameraError(path, f"line {i}", f"{FIELDS_PER_LINE} finite numbers", got=line[:80])
        rows.append(values)
    arr = np.asarray(rows)
    intr = arr[:, 1:5]
    if not np.allclose(intr, intr[0], rtol=1e-9, atol=0.0):
        bad = int(np.flatnonzero(~np.isclose(intr, intr[0], rtol=1e-9, atol=0.0).all(axis=1))[0]) + 2
        raise CameraError(
            path, f"line {bad}", "the intrinsics of the first line (shared intrinsics)", got=intr[bad - 2]
        )
    fx, fy, cx, cy = intr[0] * [width, height, width, height]
    w2c = check_rigid(arr[:, 7:].reshape(-1, 3, 4), str(path), "w2c")
    traj = Trajectory(se3_inverse(w2c), Intrinsics(fx, fy, cx, cy, int(width), int(height)))
    return traj, [int(t) for t in arr[:, 0]]
