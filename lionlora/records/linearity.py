"""The summary JSON of ``lionlora eval motion`` / ``eval camera-linearity`` (the workflow's ``motion.json``),
read by ``lionlora eval table`` (``pearson_r``) and ``lionlora eval figures`` (the fit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from lionlora.errors import InputError
from lionlora.records.base import JsonRecord, number

#: What a figure needs besides r.
FIT = ("n", "slope", "intercept")


@dataclass
class LinearityResult(JsonRecord):
    """Pearson r between S and the motion magnitude, the least-squares line, and (``details``) how the
    magnitudes were measured: ``label``/``step`` for figures, the per-video CSV, the config."""

    WHAT: ClassVar[str] = "a linearity result (lionlora eval motion)"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"p_value", "n", "slope", "intercept", "spearman_r", "n_failed"})

    pearson_r: float | None = None
    p_value: float | None = None
    n: int | None = None
    slope: float | None = None
    intercept: float | None = None
    spearman_r: float | None = None
    n_failed: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def validate(self, source: str | Path) -> Self:
        number(self.pearson_r, source, "pearson_r")
        for key in ("p_value", "slope", "intercept", "spearman_r"):
            number(getattr(self, key), source, key, allow_none=True)
        for key in ("n", "n_failed"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise InputError(source, key, "a count >= 0", got=value)
        return self

    def complete(self, source: str | Path) -> Self:
        """The fit a figure draws: ``n``, ``slope`` and ``intercept`` present."""
        self.validate(source)
        for key in FIT:
            if getattr(self, key) is None:
                raise InputError(source, key, "a number", got="missing")
        return self

    def write(self, path: str | Path) -> Path:
        self.complete(path)
        return super().write(path)
