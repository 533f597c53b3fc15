"""The result of ``lionlora eval fvd`` / ``eval frechet`` (``fvd.json``, ``fvd_basic.json``,
``fvd_fused.json``), read by ``lionlora eval table``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from lionlora.errors import InputError
from lionlora.records.base import JsonRecord, number


@dataclass
class FvdResult(JsonRecord):
    """``fvd`` over ``n_real`` real and ``n_fake`` generated videos; ``comparable_to_paper`` is False
    when the detector had random weights (absent: comparable). ``details`` holds how the number was
    made (preset, frames, covariance, weights, cache, warnings, config)."""

    WHAT: ClassVar[str] = "an FVD result of lionlora eval fvd"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"n_real", "n_fake", "comparable_to_paper"})

    fvd: float | None = None
    n_real: int | None = None
    n_fake: int | None = None
    comparable_to_paper: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def validate(self, source: str | Path) -> Self:
        number(self.fvd, source, "fvd")
        for key in ("n_real", "n_fake"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise InputError(source, key, "a count of videos >= 0", got=value)
        if self.comparable_to_paper is not None and not isinstance(self.comparable_to_paper, bool):
            raise InputError(source, "comparable_to_paper", "true or false", got=self.comparable_to_paper)
        return self

    @property
    def comparable(self) -> bool:
        """Whether the number may be set beside published FVDs."""
        return self.comparable_to_paper is not False
