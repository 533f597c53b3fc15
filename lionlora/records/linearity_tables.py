"""The two CSV files of the linearity measurements (Figs. 6 and 10).

* :class:`LinearityManifest`: ``{column},scale`` (``column`` = ``video`` for ``eval motion``,
  ``camera`` for ``eval camera-linearity``), written by ``lionlora eval motion-manifest`` and read
  by ``eval motion`` / ``eval camera-linearity``. Paths are relative to the manifest's folder.
* :class:`PerVideoMagnitudes`: ``OUT_per_video.csv`` beside a linearity summary, one row per video
  (``{column},scale,magnitude,status,reason``), written by ``eval motion`` / ``eval
  camera-linearity`` and read by ``eval figures fig10``.

The invariant both share, every ``scale`` an S in (0, 1], is checked here with the one tolerance of
:mod:`lionlora.checks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lionlora.checks import scale_in_range, scale_range_text
from lionlora.errors import InputError
from lionlora.io.files import atomic_path, read_csv, write_csv

PER_VIDEO_COLUMNS = ("scale", "magnitude", "status", "reason")


def _scales(table, path: Path) -> list[float]:
    import pandas as pd

    scales = pd.to_numeric(table["scale"], errors="coerce")
    for i, (raw, value) in enumerate(zip(table["scale"], scales, strict=True)):
        if not scale_in_range(value):
            raise InputError(path, f"scale (row {i + 1})", scale_range_text(), got=raw)
    return [float(s) for s in scales]


@dataclass
class LinearityManifest:
    """Rows ``(path, S)`` of a linearity manifest; ``column`` names the path column."""

    column: str
    paths: list[str]
    scales: list[float]

    def write(self, path: str | Path) -> Path:
        """Write the manifest atomically (checks every S first)."""
        for i, scale in enumerate(self.scales):
            if not scale_in_range(scale):
                raise InputError(path, f"scale (row {i + 1})", scale_range_text(), got=scale)
        rows = [{self.column: p, "scale": s} for p, s in zip(self.paths, self.scales, strict=True)]
        return write_csv(path, rows, [self.column, "scale"])

    @classmethod
    def read(cls, path: str | Path, column: str) -> LinearityManifest:
        """The manifest at ``path``.

        Raises:
            InputError: missing, empty or unreadable file; a missing column; no rows; an S outside
                (0, 1]; an empty path (the field names the row).
        """
        path = Path(path)
        table = read_csv(path, f"a CSV manifest with columns {column},scale")
        for col in (column, "scale"):
            if col not in table.columns:
                raise InputError(path, col, f"a column '{col}' (columns {column},scale)", got=list(table.columns))
        if table.empty:
            raise InputError(path, "", "at least one row", got="no rows")
        scales = _scales(table, path)
        paths = [str(p) for p in table[column]]
        for i, p in enumerate(paths):
            if not p.strip():
                raise InputError(path, f"{column} (row {i + 1})", "a path", got="")
        return cls(column, paths, scales)

    def to_frame(self):
        """The rows as a pandas DataFrame (``column``, ``scale``)."""
        import pandas as pd

        return pd.DataFrame({self.column: self.paths, "scale": self.scales})


@dataclass
class PerVideoMagnitudes:
    """The per-video rows of a linearity measurement, as a pandas DataFrame with ``column`` and
    :data:`PER_VIDEO_COLUMNS`."""

    table: object  # pandas.DataFrame

    def write(self, path: str | Path) -> Path:
        """Write the CSV atomically."""
        with atomic_path(path) as tmp:
            self.table.to_csv(tmp, index=False)
        return Path(path)

    @classmethod
    def read(cls, path: str | Path) -> PerVideoMagnitudes:
        """The per-video CSV at ``path``, ``scale`` and ``magnitude`` as floats.

        Raises:
            InputError: missing, empty or unreadable file; a missing column; an S outside (0, 1].
        """
        import pandas as pd

        path = Path(path)
        table = read_csv(path, "the per-video CSV written beside a linearity result")
        for col in PER_VIDEO_COLUMNS:
            if col not in table.columns:
                raise InputError(path, col, f"a column '{col}'", got=list(table.columns))
        table["scale"] = _scales(table, path)
        table["magnitude"] = pd.to_numeric(table["magnitude"], errors="coerce")
        return cls(table)

    def ok(self):
        """The rows whose magnitude was measured."""
        return self.table[self.table["status"] == "ok"]
