# Shared helpers of the workflow: config validation, paths, and the command line of each stage.
import json
import os
import shlex
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

validate(config, "../schemas/config.schema.yaml")

RESULTS = config["results"]


# Wildcards shared by several rules files are constrained here, once.
wildcard_constraints:
    scene=r"[A-Za-z0-9_-]+",
    primitive=r"[a-z][a-z_]*(\+[a-z][a-z_]*)*",  # a camera primitive, or several joined with '+'

# The `lionlora` command installed next to the Python running Snakemake (the project's .venv),
# or the one on PATH.
_venv_cli = Path(sys.executable).parent / "lionlora"
LIONLORA = str(_venv_cli) if _venv_cli.exists() else "lionlora"

# Every rules file appends the outputs that `rule all` should build.
ALL_TARGETS = []


def cli_set(options):
    """`--set key=value` arguments (JSON values, shell-quoted) for a stage's config section."""
    return " ".join(
        "--set " + shlex.quote(f"{key}={json.dumps(value)}") for key, value in (options or {}).items()
    )


def stage_options(section, shared):
    """A stage's `options` plus the values it takes from shared sections (`clip`, `filter`).

    `shared` maps option names to their shared values. A stage option that sets one of them to
    something else is a config error: every stage must see the same clip length and size.
    """
    options = dict((config.get(section) or {}).get("options") or {})
    for key, value in shared.items():
        if key in options and options[key] != value:
            raise WorkflowError(f"config: {section}.options.{key} = {options[key]!r} contradicts the shared "
                                f"value {value!r} (set it in `clip`/`filter` instead)")
        options[key] = value
    return options


def scene_ids():
    """Scene names of the configured source: 'embedded', or the DL3DV hashes of the list."""
    scenes = config["scenes"]
    if scenes["source"] == "embedded":
        return ["embedded"]
    from lionlora.scenes import read_scene_list

    return [ref.hash for ref in read_scene_list(scenes["dl3dv"]["hash_list"])]


def scene_dir(scene):
    """Folder of a scene: the embedded scene under results, or the DL3DV folder on disk (where
    `lionlora scene fetch` puts it when scenes.dl3dv.fetch is set)."""
    scenes = config["scenes"]
    if scenes["source"] == "embedded":
        return f"{RESULTS}/scenes/embedded"
    from lionlora.scenes import SceneRef, resolve_scene

    if scenes["dl3dv"].get("fetch"):
        from lionlora.scenes.fetch import scene_folder

        return str(scene_folder(scenes["dl3dv"]["root"], dl3dv_refs()[scene]))
    return str(resolve_scene(scenes["dl3dv"]["root"], SceneRef(scene)))


_DL3DV_REFS = {}


def dl3dv_refs():
    """hash -> SceneRef (with its batch) of scenes.dl3dv.hash_list, read once."""
    if not _DL3DV_REFS:
        from lionlora.scenes import read_scene_list

        _DL3DV_REFS.update((r.hash, r) for r in read_scene_list(config["scenes"]["dl3dv"]["hash_list"]))
    return _DL3DV_REFS
