"""The record of a generated video (``V.json`` beside ``V.mp4``): ``lionlora generate`` writes it,
``lionlora eval motion-manifest`` reads the S of its LoRAs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from lionlora.checks import is_4k_plus_1, is_finite_number
from lionlora.errors import InputError
from lionlora.records.base import JsonRecord


@dataclass
class VideoRecord(JsonRecord):
    """How a video was generated: the conditioning ``image`` and ``prompt``, its size (``frames`` =
    4k + 1), the ``loras`` (each ``name``, ``path``, ``scale``: S or lambda, ``weight``), the time
    taken, the resolved ``config``, and, when ground-truth cameras were written, ``cameras``
    (``source`` and the ``scale`` they were cut at)."""

    WHAT: ClassVar[str] = "the lionlora generate record of a video"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"cameras"})

    image: str | None = None
    prompt: str | None = None
    frames: int | None = None
    height: int | None = None
    width: int | None = None
    loras: list[dict[str, Any]] = field(default_factory=list)
    seconds: float | None = None
    config: dict[str, Any] | None = None
    cameras: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def validate(self, source: str | Path) -> Self:
        if self.frames is not None and not is_4k_plus_1(self.frames):
            raise InputError(source, "frames", "4k + 1 frames (CogVideoX's VAE compresses time by 4)", got=self.frames)
        if not isinstance(self.loras, list):
            raise InputError(source, "loras", "a list of the video's LoRAs", got=self.loras)
        for i, lora in enumerate(self.loras):
            if not isinstance(lora, dict) or not isinstance(lora.get("name"), str):
                raise InputError(source, f"loras[{i}].name", "a LoRA name", got=lora)
            if not is_finite_number(lora.get("scale")):
                raise InputError(source, f"loras[{i}].scale", "a finite number", got=lora.get("scale"))
        return self

    def shared_scale(self, source: str | Path) -> float:
        """The one scale shared by the video's LoRAs (what a linearity manifest lists for the video)."""
        scales = {lora["scale"] for lora in self.loras}
        if len(scales) != 1:
            raise InputError(
                source,
                "loras[].scale",
                "one scaling value S shared by the video's LoRAs",
                got=sorted(scales, key=str) or "no LoRA",
            )
        return scales.pop()
