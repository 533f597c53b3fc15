"""Per-scene prompts: a captions CSV (``scene,prompt``) and the prompt template for scenes it lacks.

The training pairs of a scene's camera clips, the videos generated from its first frames and the
benchmark suite's samples all take the scene's prompt from here, so that an adapter is trained
and evaluated on the same text. A scene listed in the captions file gets its caption; any other
scene gets the template with ``{scene}`` replaced by the scene's name (a template without
placeholders is the same prompt for every scene).
"""

from __future__ import annotations

import csv
from pathlib import Path

from lionlora.errors import ConfigError, InputError

CAPTION_COLUMNS = ("scene", "prompt")


def read_captions(path: str | Path) -> dict[str, str]:
    """``{scene: prompt}`` of a captions CSV with the columns ``scene,prompt``.

    Raises:
        InputError: no such file, a missing column, an empty scene name, or a scene listed twice
            with different prompts.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "", "an existing captions CSV with the columns scene,prompt", got="no such file")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in CAPTION_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(path, missing[0], "the columns scene,prompt", got=reader.fieldnames)
        captions: dict[str, str] = {}
        for row, rec in enumerate(reader, start=2):
            scene, prompt = (rec["scene"] or "").strip(), (rec["prompt"] or "").strip()
            if not scene:
                raise InputError(path, f"row {row}: scene", "a scene name", got=rec["scene"])
            if captions.get(scene, prompt) != prompt:
                raise InputError(
                    path, f"row {row}: prompt", f"one prompt per scene ({scene!r} is listed twice)", prompt
                )
            captions[scene] = prompt
    return captions


def scene_prompt(scene: str, template: str = "", captions: dict[str, str] | None = None) -> str:
    """The prompt of ``scene``: its caption, else ``template`` with ``{scene}`` filled in."""
    if captions and scene in captions:
        return captions[scene]
    try:
        return template.format(scene=scene)
    except (KeyError, IndexError, ValueError):
        raise ConfigError("prompt template", "", "text whose only placeholder is {scene}", got=template) from None
