# Shared helpers of the workflow: the config check, paths, targets, and the threads and
# resources of every job. Rule files read values from here and from `config` only, and hand
# them to their shell commands through `params:`.
import dataclasses
import importlib
import json
import os
import re
import shlex
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from lionlora.config import from_dict, unknown_key_error
from lionlora.errors import ConfigError, InputError


report: "../report/workflow.rst"


# The jobs run the `lionlora` command of the environment running Snakemake (the project .venv,
# or the conda environment of workflow/envs/lionlora.yaml): its bin folder goes first on PATH.
os.environ.update(PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


# ---------------------------------------------------------------------------------------------
# The config, checked at parse time (so `snakemake -n` fails on a typo)
# ---------------------------------------------------------------------------------------------

SCHEMA = yaml.safe_load(Path(workflow.basedir, "schemas", "config.schema.yaml").read_text())


def stage_class(dotted):
    """The dataclass named by a schema's `x-stage` (e.g. lionlora.apps.train.TrainConfig)."""
    package, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(package), name)


def check_keys(data, schema, path=""):
    """Check every key of `data` against the schema and the stage dataclasses.

    Returns {section path: the stage options it sets}. An unknown key raises a one-line error
    naming the key and the closest valid name; so does a key the workflow sets itself.
    """
    sections = {}
    if not isinstance(data, dict):
        return sections
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    stage = schema.get("x-stage")
    reserved = schema.get("x-workflow-sets", [])
    fields = [f.name for f in dataclasses.fields(stage_class(stage)) if f.name not in reserved] if stage else []
    for key, value in data.items():
        where = f"{path}{key}"
        if key in props:
            sections.update(check_keys(value, props[key], f"{where}."))
        elif key in reserved:
            raise WorkflowError(f"config: {where} is set by the workflow itself; remove it from the config")
        elif isinstance(extra, dict):
            sections.update(check_keys(value, extra, f"{where}."))
        elif key not in fields and (stage or extra is False):
            owner = stage.rpartition(".")[2] if stage else f"the workflow config section {path[:-1] or 'root'}"
            raise WorkflowError(str(unknown_key_error("config", where, [*props, *fields], owner)))
    if stage:
        sections[path[:-1]] = {k: v for k, v in data.items() if k not in props}
    return sections


def shared_options():
    """Stage options set once for every stage: the clip length and size, the web clips' length."""
    clip, web = config["clip"], config["filter"]
    pick = lambda src, names: {new: src[old] for old, new in names.items() if old in src}
    return {
        "render": pick(clip, {"frames": "frames", "width": "width", "height": "height"}),
        "pairs": {
            **pick(clip, {"frames": "camera_frames", "sample_frames": "sample_frames"}),
            **pick(web, {"clip_frames": "motion_frames"}),
            # camera pairs are captioned like the videos generated from their scenes (scene_prompt_of)
            **pick(config["generate"], {"prompt": "camera_prompt"}),
            **({"captions": config["scenes"]["captions"]} if config["scenes"]["captions"] else {}),
        },
    }


def resolve_stages(sections):
    """{section: (options as set, dataclass)}; shared values join their stages' options."""
    stages = {}
    for section, options in sections.items():
        options = dict(options)
        for key, value in shared_options().get(section, {}).items():
            if key in options and options[key] != value:
                raise WorkflowError(
                    f"config: {section}.{key} = {options[key]!r} contradicts the shared value {value!r} "
                    "(set it in `clip`/`filter` instead)"
                )
            options[key] = value
        cls = stage_class(section_schema(section)["x-stage"])
        try:
            stages[section] = (options, from_dict(cls, options, "config", prefix=f"{section}."))
        except ConfigError as exc:
            raise WorkflowError(str(exc)) from None
    return stages


def config_error_line(exc):
    """One line for a config error: ours as is, a JSON-schema one as `config: key.path: message`."""
    schema_error = exc.__context__  # snakemake's validate raises while handling jsonschema's error
    if hasattr(schema_error, "absolute_path"):
        where = ".".join(str(p) for p in schema_error.absolute_path)
        return f"config: {where}: {schema_error.message}"
    return str(exc).strip().splitlines()[0]


def section_schema(section):
    node = SCHEMA
    for part in section.split("."):
        node = node["properties"][part]
    return node


try:
    check_keys(config, SCHEMA)  # typos first, with the closest valid name
    validate(config, "../schemas/config.schema.yaml")  # types of the workflow's own keys; their defaults
    STAGES = resolve_stages(check_keys(config, SCHEMA))
except WorkflowError as exc:  # a config error is one line, not a traceback
    sys.exit(f"config error: {config_error_line(exc)}")
RESULTS = config["results"]


def stage(section):
    """The resolved dataclass of a stage section (every default from the dataclass)."""
    return STAGES[section][1]


def cli_set(section, skip=(), **extra):
    """`--set key=value` arguments (JSON values, shell-quoted) of the options a section sets.

    `skip`: options passed as arguments of their own (e.g. train.model as --model).
    """
    options = {k: v for k, v in {**STAGES[section][0], **extra}.items() if k not in skip}
    return " ".join(f"--set {shlex.quote(f'{key}={json.dumps(value)}')}" for key, value in options.items())


# Wildcards shared by several rules files are constrained here, once.
wildcard_constraints:
    scene=r"[A-Za-z0-9_-]+",
    primitive=r"[a-z][a-z_]*([+][a-z][a-z_]*)*",  # a camera primitive, or several joined by a plus sign
    name=r"[A-Za-z0-9_-]+",
    method="lionlora|vanilla|adapter_scale|base",
    lora_dir="lora|lora_plain",


# Every rules file appends the outputs that the default target builds.
ALL_TARGETS = []


# ---------------------------------------------------------------------------------------------
# Threads and resources of every rule
# ---------------------------------------------------------------------------------------------

# {job: {size: (threads, mem_mb, runtime in minutes)}}. "demo": from the CPU demo's benchmark
# files (benchmarks/workflow_cost.py): about twice the peak RSS, and the wall time on a loaded
# 2-core machine with a margin; "paper": estimates per job on one GPU node (docs: workflow cost).
# `jobs:` in a config overrides them per rule.
JOB_COST = {
    "scene_fetch": {"demo": (1, 1000, 60), "paper": (1, 1000, 600)},  # one DL3DV archive (network-bound)
    "scene_synth": {"demo": (1, 1000, 5), "paper": (1, 1000, 5)},
    "scene_check": {"demo": (1, 500, 2), "paper": (1, 4000, 5)},
    "reconstruct": {"demo": (1, 1500, 30), "paper": (4, 32000, 60)},
    "render_clip": {"demo": (1, 1500, 10), "paper": (4, 16000, 15)},
    "webvideo_demo_videos": {"demo": (1, 500, 5), "paper": (1, 1000, 5)},
    "webvideo_filter": {"demo": (1, 500, 10), "paper": (8, 16000, 240)},
    "pairs": {"demo": (1, 1000, 5), "paper": (1, 4000, 10)},
    "demo_model": {"demo": (1, 1000, 5), "paper": (1, 2000, 5)},
    "pretrain_model": {"demo": (2, 3000, 30), "paper": (2, 3000, 30)},  # the demo's pretrained tiny model
    "train_lora": {"demo": (1, 3000, 15), "paper": (8, 96000, 4320)},
    "generate_video": {"demo": (1, 1500, 5), "paper": (4, 48000, 15)},  # runtime per video (PER_VIDEO)
    "generate_motion": {"demo": (1, 1500, 5), "paper": (4, 48000, 15)},  # runtime per video
    "motion_manifest": {"demo": (1, 1000, 2), "paper": (1, 1000, 2)},
    "analyze_loras": {"demo": (1, 3000, 10), "paper": (4, 48000, 60)},
    "eval_i3d_init": {"demo": (1, 1000, 2), "paper": (1, 2000, 2)},
    "eval_fvd": {"demo": (1, 3000, 15), "paper": (4, 16000, 30)},
    "eval_motion": {"demo": (1, 2000, 10), "paper": (4, 8000, 30)},
    "eval_fig6": {"demo": (1, 1000, 2), "paper": (1, 1000, 2)},
    "eval_fig10": {"demo": (1, 1000, 2), "paper": (1, 1000, 2)},
    "eval_camera_floor": {"demo": (1, 1000, 10), "paper": (4, 4000, 10)},
    "eval_camera_generated": {"demo": (1, 1000, 10), "paper": (4, 4000, 10)},
    "eval_camera_table": {"demo": (1, 2000, 5), "paper": (1, 4000, 10)},
    "tables_html": {"demo": (1, 500, 1), "paper": (1, 500, 1)},
    "benchmark_clips": {"demo": (1, 500, 1), "paper": (1, 500, 1)},  # symbolic links
    "benchmark_suite": {"demo": (1, 1000, 5), "paper": (1, 4000, 30)},
    "benchmark_generate": {"demo": (1, 1500, 15), "paper": (4, 48000, 600)},  # every suite sample
    "benchmark_run": {"demo": (1, 2000, 30), "paper": (4, 8000, 240)},  # threads: benchmark.jobs
}
DEFAULT_COST = (1, 1000, 10)  # any job not listed above (one thread, 1 GB, 10 minutes)
SIZE = "demo" if config["scenes"]["source"] == "embedded" else "paper"
for _job in config["jobs"]:
    if _job not in JOB_COST:
        sys.exit(f"config error: {unknown_key_error('config', f'jobs.{_job}', JOB_COST, 'the rules')}")


DEMO_MODELS = {"demo": "models/tiny", "pretrained": "models/pretrained"}


def demo_model():
    """True when train.model is a tiny model that `lionlora demo-model` writes (random-init or pretrained)."""
    return stage("train").model in DEMO_MODELS


def uses_gpu(job):
    """Whether a job runs on a GPU with this config (the engine, model and device of its stage)."""
    if job == "reconstruct":
        return stage("reconstruct").engine in ("gsplat", "nerfstudio")
    if job == "render_clip":
        return stage("render").engine == "gsplat"
    if job in ("train_lora", "analyze_loras"):
        return not demo_model() and stage("train").device != "cpu"
    if job in ("generate_video", "generate_motion", "benchmark_generate"):
        return not demo_model() and stage("generate").device != "cpu"
    if job == "eval_fvd":
        return stage("eval_quality.fvd").device != "cpu"
    if job == "webvideo_filter":
        return stage("filter").tracker == "cotracker" and stage("filter").cotracker.device != "cpu"
    return False


def job_threads(job):
    """Declared threads, passed on as `lionlora --threads` (torch, OpenCV, BLAS, pycolmap)."""
    if job == "webvideo_filter":  # one process per worker
        return stage("filter").workers
    if job == "benchmark_run":  # one process per video scored in parallel
        return config["benchmark"]["jobs"]
    threads = JOB_COST.get(job, {}).get(SIZE, DEFAULT_COST)[0]
    return config["jobs"].get(job, {}).get("threads", threads)


# Jobs that write several videos from one loaded model: JOB_COST's runtime is per video.
PER_VIDEO = ("generate_video", "generate_motion")


def job_resources(job, videos=1):
    """mem_mb, runtime (minutes; per video times `videos` for the PER_VIDEO jobs) and gpu=1 where
    the job runs on a GPU (SLURM: --gpus=1)."""
    _, mem_mb, runtime = JOB_COST.get(job, {}).get(SIZE, DEFAULT_COST)
    res = {"mem_mb": mem_mb, "runtime": runtime, **config["jobs"].get(job, {})}
    if job in PER_VIDEO:
        res["runtime"] = res["runtime"] * videos
    res.pop("threads", None)
    if uses_gpu(job):
        res["gpu"] = 1
    return res


def gpu_slots():
    """GPUs Snakemake may hand out locally (`--resources gpu=N`, as in profiles/local); 1 if unset."""
    value = workflow.global_resources.get("gpu")
    value = getattr(value, "value", value)
    return value if isinstance(value, int) and value > 0 else 1


def gpu_prefix(job):
    """The wrapper giving a local GPU job its own device (CUDA_VISIBLE_DEVICES); empty on CPU."""
    return f"python -m lionlora.gpu_slot --slots {gpu_slots()} --" if uses_gpu(job) else ""


def software_env(job):
    """The conda environment of a job: the project environment, or the nerfstudio one for that engine."""
    if job == "reconstruct" and stage("reconstruct").engine == "nerfstudio":
        return "../envs/nerfstudio.yaml"
    return "../envs/lionlora.yaml"


# ---------------------------------------------------------------------------------------------
# Scenes and clips
# ---------------------------------------------------------------------------------------------


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

    if "captions" not in _CAPTIONS:  # read once; a bad file is a one-line config error
        captions_file = config["scenes"]["captions"]
        try:
            _CAPTIONS["captions"] = read_captions(captions_file) if captions_file else {}
        except InputError as exc:
            sys.exit(f"config error: scenes.captions: {str(exc).strip().splitlines()[0]}")
    return scene_prompt(scene, config["generate"]["prompt"], _CAPTIONS["captions"])


_CAPTIONS = {}


def splat_scene(scene):
    """The scene whose splat renders `scene`'s clips (the held-out embedded views use the room's)."""
    return "embedded" if scene == EMBEDDED_EVAL else scene


def render_extra(scene):
    """Render options of one scene: the demo's held-out views start at camera scenes.eval_start_frame."""
    return {"start_frame": config["scenes"]["eval_start_frame"]} if scene == EMBEDDED_EVAL else {}


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
    """hash -> SceneRef (with its batch) of scenes.dl3dv.hash_list and eval_hash_list, read once."""
    if not _DL3DV_REFS:
        from lionlora.scenes import read_scene_list

        dl3dv = config["scenes"]["dl3dv"]
        for key in ("hash_list", "eval_hash_list"):
            _DL3DV_REFS.update((r.hash, r) for r in read_scene_list(dl3dv[key]))
    return _DL3DV_REFS


def clip_primitives(kinds=("primitives", "fused")):
    """Primitive names of the configured clips (basic and/or fused)."""
    return [name for kind in kinds for name in config["render"][kind]]


def pairs_clip_dirs():
    prims = config["pairs"]["primitives"] or clip_primitives(("primitives",))
    return [f"{RESULTS}/clips/{s}/{p}" for s in scene_ids() for p in prims]


def webvideos_planned():
    return bool(config["webvideos"]["input"])


def webvideo_input():
    source = config["webvideos"]["input"]
    return f"{RESULTS}/webvideos_input" if source == "demo" else source


def pairs_webvideos():
    """The web-video manifest, when the web-video stage is planned and pairs.include_webvideos holds."""
    wanted = config["pairs"]["include_webvideos"]
    return [f"{RESULTS}/webvideos/manifest.csv"] if webvideos_planned() and wanted else []


# ---------------------------------------------------------------------------------------------
# LoRAs, generated videos, motion sweeps
# ---------------------------------------------------------------------------------------------

METHOD_FLAGS = {"lionlora": "", "vanilla": "--vanilla-fusion", "adapter_scale": "--adapter-scale", "base": ""}
# Adapter folder under RESULTS of each training variant (`lionlora train --variant`), and the
# variant each method's videos use: the baselines run plain LoRAs, as the paper ran them.
VARIANT_DIRS = {"lion": "lora", "plain": "lora_plain"}
METHOD_VARIANT = {"vanilla": "plain", "adapter_scale": "plain"}


def adapter_dir(name, method="lionlora"):
    """RESULTS/lora/{name} (LiON-LoRA) or RESULTS/lora_plain/{name} (the baselines' plain LoRA)."""
    return f"{RESULTS}/{VARIANT_DIRS[METHOD_VARIANT.get(method, 'lion')]}/{name}"


def lora_variant(lora_dir):
    """The `--variant` of an adapter folder under RESULTS (lora: lion, lora_plain: plain)."""
    return {d: v for v, d in VARIANT_DIRS.items()}[lora_dir]


def lora_model():
    """The CogVideoX I2V pipeline: the demo model's folder, or the configured hub id / folder."""
    return f"{RESULTS}/{DEMO_MODELS[stage('train').model]}" if demo_model() else stage("train").model


def lora_model_input(wildcards=None):
    """The demo model as a file dependency (a hub id or an external folder is not built here)."""
    return [lora_model()] if demo_model() else []


def video_loras(method, primitive):
    """Adapters used for a generated video: one per primitive of a fused name; none for `base`."""
    return [] if method == "base" else primitive.split("+")


def generated_primitives():
    """Primitives every method's videos are generated for (one `generate_video` job per method and
    scene): generate.primitives, then any other primitive eval_targets scores."""
    extra = config["eval_targets"]["primitives"] or []
    return list(dict.fromkeys([*config["generate"]["primitives"], *extra]))


def generated_video(method, scene, primitive, name="clip.mp4"):
    return f"{RESULTS}/generated/{method}/{scene}__{primitive}/{name}"


def generate_video_adapters(wildcards):
    """The adapter files of a method's videos of one scene."""
    names = dict.fromkeys(n for p in generated_primitives() for n in video_loras(wildcards.method, p))
    return [f"{adapter_dir(n, wildcards.method)}/adapter.safetensors" for n in names]


def video_arg(fields):
    """One `--video KEY=VALUE ...` of `lionlora generate`, shell-quoted."""
    return "--video " + " ".join(shlex.quote(f) for f in fields)


def generate_video_args(wildcards):
    """`--video out=... image=... cameras=... [lora=NAME=PATH:S ...]` of each video of a method and scene."""
    scale, method, scene = config["generate"]["scale"], wildcards.method, wildcards.scene
    args = []
    for p in generated_primitives():
        clip = f"{RESULTS}/clips/{scene}/{p}"
        fields = [f"out={generated_video(method, scene, p)}", f"image={clip}/clip.mp4", f"cameras={clip}/cameras.json"]
        fields += [f"lora={n}={adapter_dir(n, method)}:{scale}" for n in video_loras(method, p)]
        args.append(video_arg(fields))
    return " ".join(args)


def generate_targets():
    gen = config["generate"]
    scenes = eval_scene_ids()  # held out from training
    return [generated_video(m, s, p) for m in gen["methods"] for s in scenes for p in gen["primitives"]]


def check_generation_prompts():
    """CFG > 1 with a scene's prompt equal to the negative prompt guides nothing: refused at plan time."""
    from lionlora.apps.generate import check_guidance

    if not config["generate"]["methods"]:
        return
    for scene in eval_scene_ids():
        try:
            check_guidance(stage("generate"), scene_prompt_of(scene))
        except ConfigError as exc:
            sys.exit(f"config error: generate (scene {scene}): {str(exc).strip().splitlines()[0]}")


def motion_planned():
    """Motion sweeps are planned when generate.motion names a conditioning image."""
    return bool(config["generate"]["motion"].get("image"))


def motion_runs():
    """run name -> (adapter folder, extra flags of `lionlora generate`)."""
    motion = config["generate"]["motion"]
    final = adapter_dir(motion["adapter"])
    runs = {run: (adapter_dir(motion["adapter"], run), METHOD_FLAGS[run]) for run in motion["runs"]}
    for step in motion["series"]:
        runs[f"lionlora_step{step}"] = (f"{final}/checkpoints/step_{int(step):06d}", "")
    return runs


def motion_scale_names():
    return [f"{float(s):.3f}" for s in config["generate"]["motion"]["scales"]]


def motion_video_args(wildcards):
    """`--video out=... lora=NAME=PATH:S` of each S of a run's sweep."""
    name = config["generate"]["motion"]["adapter"]
    adapter = motion_runs()[wildcards.run][0]
    return " ".join(
        video_arg([f"out={RESULTS}/generated/{wildcards.run}/motion/S{s}.mp4", f"lora={name}={adapter}:{s}"])
        for s in motion_scale_names()
    )


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def i3d_weights():
    """The I3D file: a configured path, or the random demo weights written by `eval i3d-init`."""
    eq = config["eval_quality"]
    return f"{RESULTS}/weights/i3d_random_seed{eq['i3d_seed']}.pt" if eq["i3d"] == "random" else eq["i3d"]


def i3d_ready():
    """FVD needs the I3D weights on disk (nothing is downloaded)."""
    eq = config["eval_quality"]
    return eq["i3d"] == "random" or Path(eq["i3d"]).is_file()


def fvd_options(wildcards):
    """`--set` options of `eval fvd`: the `fvd` section plus the subset's include/exclude patterns."""
    fvd = stage("eval_quality.fvd")
    extra = {}
    if wildcards.suffix:
        for key, patterns in config["eval_quality"]["subsets"][wildcards.suffix.lstrip("_")].items():
            extra[key] = list(getattr(fvd, key)) + list(patterns)
    return cli_set("eval_quality.fvd", **extra)


def fvd_videos(wildcards):
    """Files behind the two folders: the rendered clips and the method's generated camera videos."""
    real = [f"{RESULTS}/clips/{s}/{p}/clip.mp4" for s in scene_ids() for p in clip_primitives()]
    fake = [t for t in generate_targets() if t.startswith(f"{RESULTS}/generated/{wildcards.method}/")]
    return real + fake


def motion_manifest(wildcards):
    manifest = config["eval_quality"]["motion_manifest"].format(method=wildcards.method)
    return f"{RESULTS}/{manifest}"


def motion_series(wildcards):
    """`--label/--step` of a method that is one checkpoint of a Fig. 6 series."""
    entry = config["eval_quality"]["series"].get(wildcards.method) or {}
    args = [f"--label {shlex.quote(str(entry['label']))}"] if entry.get("label") else []
    args += [f"--step {int(entry['step'])}"] if entry.get("step") is not None else []
    return " ".join(args)


def fvd_results():
    """The method-level results `eval table` shows beside the camera metrics."""
    eq = config["eval_quality"]
    methods = eq["methods"] if i3d_ready() else []
    return [f"{RESULTS}/eval/{m}/fvd{x}.json" for m in methods for x in ["", *(f"_{s}" for s in eq["subsets"])]]


def motion_results():
    return [f"{RESULTS}/eval/{m}/motion.json" for m in config["eval_quality"]["motion_methods"]]


def eval_floor():
    """Method folder of the SfM noise floor (eval_table.floor)."""
    return stage("eval_table").floor


def floor_gt(wildcards):
    """GT cameras of the noise floor: those of the first generated method's video (the frames it
    shows, at its size), else the whole clip's."""
    methods = config["generate"]["methods"]
    if methods:
        return generated_video(methods[0], wildcards.scene, wildcards.primitive, "cameras.json")
    return f"{RESULTS}/clips/{wildcards.scene}/{wildcards.primitive}/cameras.json"


def floor_frames_flag():
    return "--source-frames" if config["generate"]["methods"] else ""


def camera_eval_results():
    """Per-video JSONs `eval table` collects: the floor on every GT clip, and every method's videos,
    on the held-out evaluation scenes."""
    targets, gen = config["eval_targets"], config["generate"]
    primitives = targets["primitives"] or gen["primitives"]
    methods = [eval_floor(), *(targets["methods"] or gen["methods"])]
    return [f"{RESULTS}/eval/{m}/{s}__{p}/camera.json" for m in methods for s in eval_scene_ids() for p in primitives]


# ---------------------------------------------------------------------------------------------
# Benchmark (rules/benchmark.smk)
# ---------------------------------------------------------------------------------------------

BENCH = config["benchmark"]
BENCH_DIR = f"{RESULTS}/benchmark"
BENCH_SUITE = BENCH["suite"] or f"{BENCH_DIR}/suite"


def _bench_path(path):
    return str(path).replace("{results}", RESULTS)


def bench_adapters():
    """{NAME: {primitive: path}} with {results} filled in; a NAME used for videos too is refused."""
    adapters = {name: {p: _bench_path(f) for p, f in prims.items()} for name, prims in BENCH["adapters"].items()}
    twice = sorted(set(adapters) & set(BENCH["videos"]))
    if twice:
        sys.exit(f"config error: benchmark method {twice[0]!r} is both in benchmark.videos and benchmark.adapters")
    for name, prims in adapters.items():
        if not prims:
            sys.exit(f"config error: benchmark.adapters.{name} names no adapter ({{primitive: PATH}})")
    unknown = sorted(set(BENCH["options"]) - set(adapters))
    if unknown:
        sys.exit(f"config error: benchmark.options.{unknown[0]} is not a benchmark.adapters method")
    return adapters


def bench_videos():
    """{NAME: DIR} of every scored method: the given folders and the generated ones."""
    videos = {name: _bench_path(d) for name, d in BENCH["videos"].items()}
    videos.update({name: f"{BENCH_DIR}/videos/{name}" for name in bench_adapters()})
    return videos


def adapter_input(path):
    """The file Snakemake tracks for an adapter: the folder's adapter.safetensors, or the file."""
    return path if path.endswith(".safetensors") else f"{path}/adapter.safetensors"


def bench_lora_args(name):
    options = BENCH["options"].get(name) or {}
    scale = options.get("scale", config["generate"]["scale"])
    args = [f"--lora {shlex.quote(f'{p}={path}:{scale}')}" for p, path in bench_adapters()[name].items()]
    if options.get("fusion"):
        args.append(f"--fusion {options['fusion']}")
    if options.get("adapter_scale"):
        args.append("--adapter-scale")
    return " ".join(args)


def bench_suite_clips():
    """Clip folders of the built suite: every evaluation scene's `benchmark.primitives`."""
    prims = BENCH["primitives"] or config["generate"]["primitives"]
    return [f"{RESULTS}/clips/{s}/{p}" for s in eval_scene_ids() for p in prims]


def bench_suite_options():
    clip = config["clip"]
    height, width = BENCH.get("height", clip.get("height", 480)), BENCH.get("width", clip.get("width", 720))
    captions = config["scenes"]["captions"]
    prompts = f" --prompts {shlex.quote(captions)}" if captions else ""
    return f"--frames {BENCH['frames']} --height {height} --width {width}{prompts}"


def bench_fvd_args():
    real, i3d = BENCH["real"], BENCH["i3d"]
    if bool(real) != bool(i3d):
        sys.exit("config error: benchmark.real and benchmark.i3d go together (FVD needs both)")
    return f"--real {shlex.quote(_bench_path(real))} --i3d {shlex.quote(_bench_path(i3d))}" if real else ""


def bench_links():
    """Shell commands linking the suite's clips under RESULTS/benchmark/clips/{scene}/{primitive}."""
    root = Path(BENCH_DIR, "clips")
    return " && ".join(
        f"mkdir -p {shlex.quote(str(root / Path(d).parent.name))} && "
        f"ln -s {shlex.quote(str(Path(d).resolve()))} {shlex.quote(str(root.joinpath(*Path(d).parts[-2:])))}"
        for d in bench_suite_clips()
    )
