"""The per-video result of ``lionlora eval camera`` (``eval/{method}/{video}/camera.json``), read by
``lionlora eval table`` and ``lionlora eval camera-linearity``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Self

from lionlora.errors import InputError
from lionlora.records.base import JsonRecord, number

#: The camera metrics, in the order of the tables (radians, scene units; sums or means over frames).
METRICS = ("rot_err", "trans_err", "cam_mc", "ate")
STATUS_OK = "ok"
STATUS_FAILED = "failed"


@dataclass
class CameraResult(JsonRecord):
    """Metrics (None when the evaluation failed) and how they were obtained.

    ``status`` is ``ok`` or ``failed`` (``reason`` says why, or which frames the metrics cover);
    ``convention``/``reduce`` say how the metrics were computed (results with different ones do not
    go in one table); ``cameras`` is the recovered cameras.json, relative to this file's folder.
    """

    WHAT: ClassVar[str] = "a per-video result of lionlora eval camera"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"primitive"})

    rot_err: float | None = None
    trans_err: float | None = None
    cam_mc: float | None = None
    ate: float | None = None
    n_frames: int | None = None
    convention: str | None = None
    reduce: str | None = None
    registered: int | None = None
    status: str | None = None
    reason: str = ""
    trials_ok: int | None = None
    trials: list[dict[str, Any]] | None = None
    primitive: str | None = None
    video: str | None = None
    gt: str | None = None
    sfm: dict[str, Any] | None = None
    cameras: str | None = None
    config: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def validate(self, source: str | Path) -> Self:
        """What every reader relies on: a status, and metrics that are finite numbers where given."""
        self._check_strings(source, ("status",))
        if self.status not in (STATUS_OK, STATUS_FAILED):
            raise InputError(source, "status", "'ok' or 'failed'", got=self.status)
        for key in METRICS:
            number(getattr(self, key), source, key, allow_none=True)
        return self

    def complete(self, source: str | Path) -> Self:
        """What ``eval camera`` always writes and a table needs: the convention and reduction, and
        every metric unless the evaluation failed."""
        self.validate(source)
        self._check_strings(source, ("convention", "reduce"))
        for key in METRICS:
            number(getattr(self, key), source, key, allow_none=not self.ok)
        return self

    def _check_strings(self, source: str | Path, keys: tuple[str, ...]) -> None:
        for key in keys:
            value = getattr(self, key)
            if not isinstance(value, str):
                raise InputError(
                    source,
                    key,
                    "a string (is this a result of lionlora eval camera?)",
                    got="missing" if value is None else value,
                )

    def write(self, path: str | Path) -> Path:
        self.complete(path)
        return super().write(path)

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def metrics(self) -> dict[str, float | None]:
        return {key: getattr(self, key) for key in METRICS}

    def with_cameras_relative_to(self, path: str | Path) -> CameraResult:
        """A copy whose ``cameras`` path is relative to ``path``'s folder (file and cameras move together)."""
        if not self.cameras:
            return self
        folder = Path(path).parent.absolute()
        return replace(self, cameras=os.path.relpath(Path(self.cameras).absolute(), folder))

    def recovered_cameras(self, path: str | Path) -> Path:
        """The recovered cameras.json of this result, stored at ``path``: its ``cameras`` key
        (relative to the file's folder), else ``cameras.json`` beside it (the command's default)."""
        path = Path(path)
        return path.parent / self.cameras if isinstance(self.cameras, str) and self.cameras else default_cameras(path)


def default_cameras(path: str | Path) -> Path:
    """Default path of the recovered cameras: ``cameras.json`` beside the result file (the CLI contract)."""
    return Path(path).with_name("cameras.json")
