"""File helpers: atomic writes (temporary file beside the target, then rename) and JSON reads.

A killed job therefore never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lionlora.errors import InputError


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    The temporary name keeps the target's suffix (or ``suffix``) so that libraries which pick a
    format from the extension (video muxers, image writers) still work. On an exception the
    temporary file is removed and the target is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.",
        suffix=".tmp" + (suffix if suffix is not None else path.suffix),
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def write_json(path: str | Path, data: Any, indent: int = 2) -> Path:
    """Write ``data`` as JSON atomically (numpy arrays and paths are converted)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=indent, default=_json_default, allow_nan=False) + "\n")
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def write_csv(path: str | Path, rows: list[dict], columns: list[str] | tuple[str, ...]) -> Path:
    """Write dict rows as CSV with ``columns`` (missing cells empty), atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    return write_text(path, buf.getvalue())


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write a binary file atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_npy(path: str | Path, array: np.ndarray) -> Path:
    """Write one array as ``.npy`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array)
    return path


def update_hash(h: Any, path: str | Path, chunk: int = 1 << 20) -> Any:
    """Feed a file's bytes to the hashlib object ``h`` in chunks; return ``h``."""
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return update_hash(hashlib.sha256(), path).hexdigest()


def read_json(path: str | Path, what: str = "a JSON file") -> Any:
    """Read JSON, raising :class:`InputError` that names the file when it is missing or invalid."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "", f"an existing file ({what})")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"valid JSON ({what}); parse error: {exc}") from None


@contextlib.contextmanager
def atomic_dir(path: str | Path, marker: str) -> Iterator[Path]:
    """Build a folder output in a temporary folder beside ``path``, then move it into place.

    An existing ``path`` is replaced only when it is empty or holds ``marker`` (a file every
    complete output of the stage contains); otherwise :class:`InputError` is raised rather than
    deleting a folder the stage did not write.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or (any(path.iterdir()) and not (path / marker).exists())):
        raise InputError(
            path,
            "",
            f"a new or empty folder, or a previous output of this stage (with {marker})",
            got="an existing folder with other content",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
