"""Which suite scenes trained the adapters behind each method's videos (``benchmark run``'s ‡ flags).

A method's training scenes are known from its videos folder only:

* ``DIR/benchmark_generate.json`` (written by ``lionlora benchmark generate``): each adapter in
  ``loras`` gives the scenes recorded in its file (:func:`lionlora.lora.io.read_training_scenes`).
  A diffusers LoRA file records none; an adapter path that no longer exists or cannot be read is
  unknown, with a warning and its reason recorded, never an error.
* ``DIR/training_scenes.txt`` (one scene per line, written by whoever made the videos): the
  scenes another method declares it trained on (the footnote names the file as the adapter).

A folder with neither flags nothing: the tables cannot know what another method trained on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lionlora.errors import InputError
from lionlora.eval.camera.tables import training_scene_flags
from lionlora.io.files import read_json
from lionlora.lora.io import read_training_scenes

from .manifest import read_scenes

log = logging.getLogger(__name__)

GENERATE_RECORD = "benchmark_generate.json"
DECLARED = "training_scenes.txt"


def _adapter(record: Path, name: str, spec: Any) -> dict[str, Any]:
    """``{path, format, scenes[, reason]}`` of one ``loras`` entry; scenes None when unknown."""
    if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
        raise InputError(record, f"loras.{name}.path", "the adapter's path (a string)", got=spec)
    out: dict[str, Any] = {"path": spec["path"], "format": spec.get("format"), "scenes": None}
    if out["format"] == "diffusers":
        out["reason"] = "a diffusers LoRA file records no training scenes"
        return out
    try:
        out["scenes"] = read_training_scenes(spec["path"])
    except InputError as exc:  # moved, deleted or unreadable since generation: unknown, not fatal
        log.warning("%s: training scenes of adapter %s unknown: %s", record, name, exc)
        out["reason"] = str(exc)
        return out
    if out["scenes"] is None:
        out["reason"] = "the adapter file records no training scenes"
    return out


def method_adapters(folder: Path) -> dict[str, dict[str, Any]] | None:
    """The adapters behind a videos folder with their training scenes (None: neither file there).

    Raises:
        InputError: a ``benchmark_generate.json`` that is not JSON or has no ``loras`` object, a
            ``training_scenes.txt`` that is not text.
    """
    record, declared = folder / GENERATE_RECORD, folder / DECLARED
    if not record.is_file() and not declared.is_file():
        return None
    adapters: dict[str, dict[str, Any]] = {}
    if record.is_file():
        data = read_json(record, "the record of lionlora benchmark generate")
        loras = data.get("loras") if isinstance(data, dict) else None
        if not isinstance(loras, dict):
            raise InputError(record, "loras", "an object {NAME: {path, scale, format}}", got=loras)
        adapters.update({name: _adapter(record, name, spec) for name, spec in sorted(loras.items())})
    if declared.is_file():
        try:
            scenes = read_scenes(declared)
        except UnicodeDecodeError:
            raise InputError(declared, "", "a text file, one scene per line", got="binary data") from None
        adapters[DECLARED] = {"path": str(declared), "format": "declared", "scenes": scenes}
    return adapters


def benchmark_flags(suite_scenes: list[str], videos: dict[str, Path]) -> tuple[dict[str, dict], dict[str, Any]]:
    """``({method: {scene: [adapters]}}, record)`` for the ``--videos`` folders.

    The record has, per method, ``adapters`` (name -> path, scenes or null, reason when unknown;
    null when the folder says nothing) and ``flags``.
    """
    flags, methods = {}, {}
    for name, folder in videos.items():
        adapters = method_adapters(folder)
        flags[name] = training_scene_flags(suite_scenes, {a: rec["scenes"] for a, rec in (adapters or {}).items()})
        methods[name] = {"adapters": adapters, "flags": flags[name]}
    return flags, {"suite_scenes": list(suite_scenes), "methods": methods}
