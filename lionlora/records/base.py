"""A record stored as one JSON object: its dataclass fields are the keys, written in field order."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Self

from lionlora.checks import is_finite_number
from lionlora.errors import InputError
from lionlora.io.files import read_json, write_json


class JsonRecord:
    """Base of the JSON records (subclasses are dataclasses).

    ``to_json`` writes the fields in their order, leaving out those named in ``OMIT_NONE`` while
    they are None, then the ``details`` mapping (every other key of the file, in its order), so that
    a file read and written back is unchanged. ``from_json`` splits an object the same way and calls
    ``validate``, the one place where a subclass checks its invariants.
    """

    #: What the file is, in words (for error messages).
    WHAT: ClassVar[str] = "a JSON record"
    #: Fields left out of the file while None (keys a writer adds only when it knows them).
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset()

    details: dict[str, Any]

    def validate(self, source: str | Path) -> Self:
        """Check the invariants (raises :class:`InputError` naming ``source`` and the key); returns self."""
        return self

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "details" or (value is None and f.name in self.OMIT_NONE):
                continue
            out[f.name] = value
        out.update(self.details)
        return out

    @classmethod
    def from_json(cls, data: Any, source: str | Path = "record") -> Self:
        if not isinstance(data, dict):
            raise InputError(source, "", f"a JSON object ({cls.WHAT})", got=type(data).__name__)
        names = {f.name for f in dataclasses.fields(cls)} - {"details"}  # type: ignore[arg-type]
        known = {k: v for k, v in data.items() if k in names}
        details = {k: v for k, v in data.items() if k not in names}
        return cls(**known, details=details).validate(source)  # type: ignore[call-arg]

    def write(self, path: str | Path) -> Path:
        """Check, then write the record to ``path`` atomically."""
        return write_json(path, self.validate(path).to_json())

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """The record in ``path`` (:class:`InputError` naming the file when missing, not JSON or invalid)."""
        return cls.from_json(read_json(path, cls.WHAT), path)


def number(value: Any, source: str | Path, key: str, allow_none: bool = False) -> float | None:
    """``value`` as a float: a finite number (or None where allowed), else :class:`InputError`."""
    if value is None and allow_none:
        return None
    if not is_finite_number(value):
        raise InputError(source, key, "a finite number", got="missing" if value is None else value)
    return float(value)
