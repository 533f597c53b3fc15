"""The web-video manifest ``DIR/manifest.csv``: one row per input video (contract 2 of the toolkit).

Columns (:data:`COLUMNS`):

=================  ==========================================================================
``video``          input path relative to the input folder (POSIX)
``status``         ``ok`` (analysed) or ``error`` (unreadable; ``reason`` says why)
``keep``           ``true`` when the camera is static and there is enough motion
``reason``         why the video was rejected or failed (empty when kept)
``static_camera``  ``true``/``false`` (empty on error)
``camera_motion``  largest per-clip median border displacement, fraction of min(H, W)
``motion``         mean optical-flow magnitude, px per frame at the flow analysis resolution
``frames``         source frames, ``fps`` source frame rate, ``width``/``height`` source size
``clips``          accepted clips, paths relative to DIR joined with ``;`` (empty when rejected)
``border_points``  border points tracked per clip; ``min_visible`` fewest still visible
``tracker``        tracker backend used
``object_motion``  the object-motion statistic: mean over frame pairs ``motion_gap`` apart of the
                   ``motion_percentile`` of the per-pixel flow magnitude, per frame, as a fraction of
                   the flow resolution's short side (resolution-independent)
``object_motion_unit``  the unit of ``object_motion``, spelled out (:data:`OBJECT_MOTION_UNIT`)
``bytes``          input size, ``mtime_ns`` its modification time, ``config`` the config
                   fingerprint: together the key that lets a re-run skip the video
=================  ==========================================================================
"""

from __future__ import annotations

import csv
from pathlib import Path

from lionlora.errors import InputError
from lionlora.io.files import write_csv

COLUMNS = (
    "video",
    "status",
    "keep",
    "reason",
    "static_camera",
    "camera_motion",
    "motion",
    "frames",
    "fps",
    "width",
    "height",
    "clips",
    "border_points",
    "min_visible",
    "tracker",
    "bytes",
    "mtime_ns",
    "config",
    "object_motion",
    "object_motion_unit",
)

#: the unit written beside every ``object_motion`` value
OBJECT_MOTION_UNIT = "fraction of min(H, W) per frame"

MANIFEST = "manifest.csv"
#: every row computed so far, rewritten after each video; it survives an interrupted run and a
#: workflow engine that deletes manifest.csv before re-running the stage
CACHE = ".manifest.cache.csv"


def fmt_bool(value: bool) -> str:
    return "true" if value else "false"


def fmt_float(value: float) -> str:
    return f"{value:.6g}"


def write_manifest(path: str | Path, rows: list[dict]) -> Path:
    """Write rows (sorted by ``video``) with :data:`COLUMNS`, atomically; missing cells are empty."""
    return write_csv(path, sorted(rows, key=lambda r: r["video"]), COLUMNS)


def read_manifest(path: str | Path) -> list[dict]:
    """Rows of a manifest as dicts of strings.

    Raises:
        InputError: the file is missing or lacks a column of :data:`COLUMNS`.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "", "an existing web-video manifest (manifest.csv)")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(path, missing[0], f"the manifest columns {list(COLUMNS)}", got=reader.fieldnames)
        return [dict(row) for row in reader]


def clip_paths(row: dict) -> list[str]:
    """The ``clips`` cell as a list of paths relative to the manifest's folder."""
    return [p for p in (c.strip() for c in (row.get("clips") or "").split(";")) if p]
