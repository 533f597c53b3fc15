"""The training-pairs manifest (contract 1): ``lionlora pairs`` writes ``OUT/manifest.csv``,
``lionlora train`` reads it.

One row per (clip, S): ``clip`` (mp4 path relative to the manifest's folder), ``kind`` (``camera`` /
``motion``), ``lora`` (the adapter the pair trains), ``scale`` (S), ``frames`` (JSON list of frame
indices into the clip), ``cameras`` (camera pairs: the cameras.json of exactly those frames,
relative to the manifest's folder; empty for motion pairs) and ``prompt``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lionlora.checks import scale_in_range, scale_range_text
from lionlora.errors import InputError
from lionlora.io.files import read_csv, write_text

COLUMNS = ("clip", "kind", "lora", "scale", "frames", "cameras", "prompt")
KINDS = ("camera", "motion")


@dataclass(frozen=True)
class PairRow:
    """One training pair; ``frames[0]`` is the conditioning frame."""

    clip: str
    kind: str
    lora: str
    scale: float
    frames: tuple[int, ...]
    cameras: str = ""
    prompt: str = ""

    def validate(self, source: str | Path, row: int) -> PairRow:
        """Check the row's invariants (``row``: its 1-based number in the file, for messages)."""
        if self.kind not in KINDS:
            raise InputError(source, f"row {row}: kind", "'camera' or 'motion'", got=self.kind)
        if not scale_in_range(self.scale):
            raise InputError(source, f"row {row}: scale", scale_range_text(), got=self.scale)
        frames = self.frames
        if not frames or not all(isinstance(f, int) and not isinstance(f, bool) and f >= 0 for f in frames):
            raise InputError(source, f"row {row}: frames", "a JSON list of frame indices >= 0", got=list(frames))
        if not self.clip:
            raise InputError(source, f"row {row}: clip", "a clip path (relative to the manifest)", got=self.clip)
        return self

    def to_csv_row(self) -> dict[str, Any]:
        return {**asdict(self), "frames": json.dumps(list(self.frames))}

    @classmethod
    def from_csv_row(cls, cells: dict[str, str], source: str | Path, row: int) -> PairRow:
        try:
            scale = float(cells["scale"])
        except ValueError:
            raise InputError(source, f"row {row}: scale", scale_range_text(), got=cells["scale"]) from None
        try:
            frames = json.loads(cells["frames"])
        except (json.JSONDecodeError, TypeError):
            frames = None
        if not isinstance(frames, list):
            raise InputError(source, f"row {row}: frames", "a JSON list of frame indices >= 0", got=cells["frames"])
        return cls(
            cells["clip"], cells["kind"], cells["lora"], scale, tuple(frames), cells["cameras"], cells["prompt"]
        ).validate(source, row)


@dataclass
class PairsManifest:
    """The rows of a pairs manifest, in file order."""

    rows: list[PairRow] = field(default_factory=list)

    def to_table(self) -> pd.DataFrame:
        return pd.DataFrame([r.to_csv_row() for r in self.rows], columns=list(COLUMNS))

    def write(self, path: str | Path) -> Path:
        """Check every row, then write the CSV atomically."""
        for i, r in enumerate(self.rows, start=1):
            r.validate(path, i)
        return write_text(path, self.to_table().to_csv(index=False))

    @classmethod
    def read(cls, path: str | Path) -> PairsManifest:
        """The manifest at ``path``.

        Raises:
            InputError: missing, empty or unreadable file, a missing column; a row with an unknown kind, an S outside (0, 1], or a
                frame list that is not JSON indices >= 0 (the field names the row).
        """
        path = Path(path)
        table = read_csv(path, "a pairs manifest (CSV)")
        missing = [c for c in COLUMNS if c not in table.columns]
        if missing:
            raise InputError(path, missing[0], f"the columns {', '.join(COLUMNS)}", got=list(table.columns))
        cells = table.to_dict("records")
        return cls([PairRow.from_csv_row(c, path, i) for i, c in enumerate(cells, start=1)])

    def for_lora(self, lora: str) -> list[tuple[int, PairRow]]:
        """``(row number, row)`` of the adapter ``lora``'s pairs."""
        return [(i, r) for i, r in enumerate(self.rows, start=1) if r.lora == lora]
