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

from dataclasses import dataclass, field
from pathlib import Path

from lionlora.errors import InputError
from lionlora.io.files import read_csv, write_csv

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


@dataclass
class WebVideoManifest:
    """The record both sides use: ``lionlora filter`` writes it, ``lionlora pairs`` reads its clips.

    Rows are dicts of cells (strings, formatted with :func:`fmt_bool` / :func:`fmt_float`); the
    file holds :data:`COLUMNS`, rows sorted by ``video``, missing cells empty.
    """

    rows: list[dict[str, str]] = field(default_factory=list)

    def write(self, path: str | Path) -> Path:
        """Write the manifest atomically."""
        return write_csv(path, sorted(self.rows, key=lambda r: r["video"]), COLUMNS)

    @classmethod
    def read(cls, path: str | Path, columns: tuple[str, ...] = COLUMNS) -> WebVideoManifest:
        """The manifest at ``path``, which must have ``columns`` (a reader that needs fewer names them).

        Raises:
            InputError: the file is missing, empty or unreadable, or lacks one of ``columns``.
        """
        path = Path(path)
        table = read_csv(path, "a web-video manifest (manifest.csv)")
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise InputError(path, missing[0], f"the manifest columns {list(columns)}", got=list(table.columns))
        return cls(table.to_dict("records"))

    def accepted_clips(self, path: str | Path, prompt_column: str = "prompt") -> list[tuple[Path, str]]:
        """``(path, prompt)`` of every accepted clip of the manifest read from ``path`` (clip paths
        are relative to its folder; prompts empty where ``prompt_column`` is empty or absent).

        Raises:
            InputError: a listed clip file that does not exist.
        """
        path = Path(path)
        folder = path.parent
        out = []
        for row in self.rows:
            prompt = (row.get(prompt_column) or "") if prompt_column else ""
            for rel in clip_paths(row):
                if not (folder / rel).is_file():
                    raise InputError(path, "clips", "existing clip files", got=str(rel))
                out.append((folder / rel, prompt))
        return out


def write_manifest(path: str | Path, rows: list[dict]) -> Path:
    """Write rows (sorted by ``video``) with :data:`COLUMNS`, atomically; missing cells are empty."""
    return WebVideoManifest(rows).write(path)


def read_manifest(path: str | Path) -> list[dict]:
    """Rows of a manifest as dicts of strings (:meth:`WebVideoManifest.read`)."""
    return WebVideoManifest.read(path).rows


def clip_paths(row: dict) -> list[str]:
    """The ``clips`` cell as a list of paths relative to the manifest's folder."""
    return [p for p in (c.strip() for c in (row.get("clips") or "").split(";")) if p]
