"""Lists of DL3DV scenes: a CSV with a ``hash`` column (and optionally ``batch``) or plain text.

DL3DV-10K is distributed as ``ROOT/<batch>/<hash>/`` (batches 1K, 2K, ...); benchmark copies are
often flat, ``ROOT/<hash>/``. :func:`resolve_scene` accepts both.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from lionlora.errors import InputError, SceneError

_HASH = re.compile(r"^[0-9a-f]{16,128}$")


@dataclass(frozen=True)
class SceneRef:
    """One scene of a list: its DL3DV hash and, when known, its batch folder."""

    hash: str
    batch: str | None = None


def read_scene_list(path: str | Path) -> list[SceneRef]:
    """Read a scene list.

    Accepted: a CSV whose header has a ``hash`` column (case-insensitive; an optional ``batch``
    column), or a text file with one hash per line (``#`` comments allowed). Duplicates are
    removed, order kept. Every hash must be lowercase hex.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "", "an existing scene list (CSV with a 'hash' column, or one hash per line)")
    text = path.read_text().strip()
    if not text:
        raise InputError(path, "", "at least one scene hash", got="empty file")
    first = text.splitlines()[0]
    refs: list[SceneRef] = []
    if "," in first or first.strip().lower() == "hash":
        rows = list(csv.DictReader(text.splitlines()))
        cols = {c.lower().strip(): c for c in (rows[0].keys() if rows else csv.reader([first]).__next__())}
        if "hash" not in cols:
            raise InputError(path, "hash", "a CSV column named 'hash'", got=list(cols))
        for i, row in enumerate(rows):
            h = (row[cols["hash"]] or "").strip().lower()
            batch = (row.get(cols["batch"]) or "").strip() or None if "batch" in cols else None
            if not _HASH.match(h):
                raise InputError(path, f"row {i + 2}: hash", "a hexadecimal scene hash", got=h)
            refs.append(SceneRef(h, batch))
    else:
        for i, line in enumerate(text.splitlines()):
            h = line.split("#", 1)[0].strip().lower()
            if not h:
                continue
            if not _HASH.match(h):
                raise InputError(path, f"line {i + 1}", "a hexadecimal scene hash", got=h)
            refs.append(SceneRef(h))
    seen: set[str] = set()
    unique = [r for r in refs if not (r.hash in seen or seen.add(r.hash))]
    if not unique:
        raise InputError(path, "", "at least one scene hash", got="none")
    return unique


def resolve_scene(root: str | Path, ref: SceneRef) -> Path:
    """Folder of scene ``ref`` under a DL3DV root (``root/batch/hash``, ``root/hash`` or ``root/*/hash``)."""
    root = Path(root)
    candidates = []
    if ref.batch:
        candidates.append(root / ref.batch / ref.hash)
    candidates.append(root / ref.hash)
    candidates.extend(sorted(root.glob(f"*/{ref.hash}")))
    for c in candidates:
        if (c / "transforms.json").is_file():
            return c
    raise SceneError(
        root, ref.hash, "a scene folder with transforms.json (ROOT/<batch>/<hash> or ROOT/<hash>)", got="not found"
    )
