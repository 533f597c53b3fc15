"""The project's exception hierarchy.

Every error the toolkit raises on purpose derives from :class:`LionLoraError`; the CLI catches
that base class, prints one line and exits with status 1. Errors about inputs name the file, the
field and what was expected, so that a user can fix the input without reading the code.
"""

from __future__ import annotations

from pathlib import Path


class LionLoraError(Exception):
    """Base class of every error raised on purpose by the toolkit."""


class InputError(LionLoraError):
    """A file or argument does not hold what was expected.

    Args:
        source: the file (or argument name) that is wrong.
        field: the field, key or column inside it ("" when the whole input is wrong).
        expected: what was expected, in words.
        got: what was found (optional, shown with ``repr``).
    """

    def __init__(self, source: str | Path, field: str, expected: str, got: object = ...):
        self.source = str(source)
        self.field = field
        self.expected = expected
        self.got = got
        where = f"{self.source}" + (f": field '{field}'" if field else "")
        msg = f"{where}: expected {expected}"
        if got is not ...:
            text = repr(got)
            if len(text) > 120:
                text = text[:117] + "..."
            msg += f", got {text}"
        super().__init__(msg)


class ConfigError(InputError):
    """A configuration file or option holds an unknown key or a bad value."""


class CameraError(InputError):
    """A camera file or matrix is invalid (NaN, not rigid, wrong shape, count mismatch)."""


class SceneError(InputError):
    """A scene folder is incomplete or inconsistent (missing images, size mismatch)."""


class VideoError(InputError):
    """A video cannot be read or written (corrupt, truncated, empty, unsupported)."""


class DependencyError(LionLoraError):
    """An optional dependency or model file needed by the chosen engine is missing."""


class AdapterError(InputError):
    """A LoRA adapter file or name is invalid (pickle file, wrong width, unknown name, bad S)."""


class OutputError(LionLoraError):
    """An output cannot be written where it was asked for (unwritable folder, a file where a
    folder is expected or the reverse, a full disk).

    Args:
        path: the output path.
        reason: why, in words (e.g. the operating system's message).
    """

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: cannot write the output: {reason}")

    @classmethod
    def from_os(cls, exc: OSError, path: str | Path | None = None) -> OutputError:
        """The error for an :class:`OSError` raised while writing ``path`` (default: the OS's file name)."""
        where = path if path is not None else (exc.filename2 or exc.filename or "output")
        return cls(where, exc.strerror or str(exc))
