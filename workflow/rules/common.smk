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


# The demo's held-out evaluation scene: the embedded room's splat rendered from another start
# camera of its capture sweep (scenes.eval_start_frame), so no evaluation first frame is a training one.
EMBEDDED_EVAL = "embedded_eval"


def eval_scene_ids():
    """Scenes the evaluation generates from and scores: never a training scene.

    DL3DV: the hashes of scenes.dl3dv.eval_hash_list, which must share none with hash_list. The
    embedded source: `embedded_eval`, the same room seen from held-out start cameras.
    """
    scenes = config["scenes"]
    if scenes["source"] == "embedded":
        return [EMBEDDED_EVAL]
    from lionlora.scenes import read_scene_list

    dl3dv = scenes["dl3dv"]
    if not dl3dv.get("eval_hash_list"):
        raise WorkflowError("config: scenes.dl3dv.eval_hash_list is missing: evaluation needs its own scene list, "
                            "disjoint from scenes.dl3dv.hash_list (evaluating on training scenes leaks their clips)")
    held = [ref.hash for ref in read_scene_list(dl3dv["eval_hash_list"])]
    shared = sorted(set(held) & set(scene_ids()))
    if shared:
        raise WorkflowError(f"config: scenes.dl3dv.eval_hash_list shares {len(shared)} scene(s) with hash_list "
                            f"(e.g. {shared[0]}): evaluation scenes must be held out from training")
    return held


def scene_prompt_of(scene):
    """The text prompt of a scene's pairs and videos: its row of scenes.captions (CSV scene,prompt),
    else the template generate.prompt with {scene} replaced (lionlora.scenes.captions)."""
    from lionlora.scenes import read_captions, scene_prompt

    captions_file = config["scenes"].get("captions")
    captions = read_captions(captions_file) if captions_file else {}
    return scene_prompt(scene, str((config.get("generate") or {}).get("prompt", "")), captions)


def splat_scene(scene):
    """The scene whose splat renders `scene`'s clips (the held-out embedded views use the room's)."""
    return "embedded" if scene == EMBEDDED_EVAL else scene


def scene_dir(scene):
    """Folder of a scene: the embedded scene under results, or the DL3DV folder on disk."""
    scenes = config["scenes"]
    if scenes["source"] == "embedded":
        return f"{RESULTS}/scenes/embedded"
    from lionlora.scenes import SceneRef, resolve_scene

    return str(resolve_scene(scenes["dl3dv"]["root"], SceneRef(scene)))
