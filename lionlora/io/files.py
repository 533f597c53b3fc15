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

from lionlora.errors import InputError, OutputError


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    The temporary name keeps the target's suffix (or ``suffix``) so that libraries which pick a
    format from the extension (video muxers, image writers) still work. On an exception the
    temporary file is removed and the target is left untouched.
    """
    path = check_output(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.",
            suffix=".tmp" + (suffix if suffix is not None else path.suffix),
            dir=path.parent,
        )
    except OSError as exc:
        raise OutputError.from_os(exc, path) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual file mode
            os.replace(tmp_path, path)
        except OSError as exc:
            raise OutputError.from_os(exc, path) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def check_output(path: str | Path, folder: bool = False) -> Path:
    """``path`` as a :class:`~pathlib.Path` once it is clear that a file (or with ``folder``, a
    folder) can be written there; call it before the first write of a stage.

    Raises:
        OutputError: a folder where a file is to go or the reverse, a file where a parent folder
            is to go, or a nearest existing parent folder that is not writable.
    """
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise OutputError(path, "an existing file is in the way (the output is a folder)")
    if not folder and path.is_dir():
        raise OutputError(path, "an existing folder is in the way (the output is a file)")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(path, f"{parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(path, f"the folder {parent} is not writable")
            break
    return path


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
    path = check_output(path, folder=True)
    if path.exists() and any(path.iterdir()) and not (path / marker).exists():
        raise InputError(
            path,
            "",
            f"a new or empty folder, or a previous output of this stage (with {marker})",
            got="an existing folder with other content",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as exc:
        raise OutputError.from_os(exc, path) from None
    try:
        yield tmp
        try:
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700
            if path.exists():
                old = path.with_name(f".{path.name}.old-{os.getpid()}")
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except OSError as exc:
            raise OutputError.from_os(exc, path) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_csv(path: str | Path, what: str = "a CSV file"):
    """A CSV as a pandas DataFrame of strings (empty cells ``""``).

    Raises:
        InputError: naming the file when it is missing, a folder, empty (0 bytes or no header)
            or not parseable as CSV.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "", f"an existing file ({what})", got="a folder" if path.is_dir() else "no such file")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError(path, "", f"{what} with a header row", got="an empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"{what}, readable as CSV", got=str(exc)) from None
