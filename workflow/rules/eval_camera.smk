# Camera-control evaluation: SfM poses of the ground-truth clips (the noise floor) and of each
# method's generated videos, scored against the ground-truth cameras, then tables beside the paper.
#
# Config: `eval_camera` (options of `lionlora eval camera`), `eval_table` (options of
# `lionlora eval table`) and `eval_targets` (which primitives and methods the table collects).
# One folder per video: RESULTS/eval/{method}/{scene}__{primitive}/camera.json, with the recovered
# cameras.json beside it when any frame registered (not a declared output: a failed row has none).

EVAL_FLOOR = (config.get("eval_table") or {}).get("floor", "gt")
EVAL_CAMERA_SHELL = (
    "{LIONLORA} -q eval camera --video {input.video} --gt {input.gt} --out {output} {params.opts} > {log} 2>&1"
)


def camera_eval_results():
    """Per-video JSONs `eval table` collects: the floor on every GT clip, and every method's videos,
    on the held-out evaluation scenes."""
    targets = config.get("eval_targets") or {}
    generate = config.get("generate") or {}
    # by default: every generated video, and the floor on the clips it was conditioned on
    primitives = targets.get("primitives") or generate.get("primitives", [])
    methods = [EVAL_FLOOR, *(targets.get("methods") or generate.get("methods", []))]
    return [f"{RESULTS}/eval/{m}/{s}__{p}/camera.json" for m in methods for s in eval_scene_ids() for p in primitives]


rule eval_camera_floor:
    input:
        video=f"{RESULTS}/clips/{{scene}}/{{primitive}}/clip.mp4",
        gt=f"{RESULTS}/clips/{{scene}}/{{primitive}}/cameras.json",
    output:
        f"{RESULTS}/eval/{EVAL_FLOOR}/{{scene}}__{{primitive}}/camera.json",
    log:
        f"{RESULTS}/logs/eval_camera/{EVAL_FLOOR}/{{scene}}__{{primitive}}.log",
    params:
        opts=cli_set(config.get("eval_camera")),
    shell:
        EVAL_CAMERA_SHELL


rule eval_camera_generated:
    input:
        video=f"{RESULTS}/generated/{{method}}/{{scene}}__{{primitive}}/clip.mp4",
        gt=f"{RESULTS}/generated/{{method}}/{{scene}}__{{primitive}}/cameras.json",
    output:
        f"{RESULTS}/eval/{{method}}/{{scene}}__{{primitive}}/camera.json",
    wildcard_constraints:
        method=rf"(?!{EVAL_FLOOR}$)[A-Za-z0-9_.-]+",
    log:
        f"{RESULTS}/logs/eval_camera/{{method}}/{{scene}}__{{primitive}}.log",
    params:
        opts=cli_set(config.get("eval_camera")),
    shell:
        EVAL_CAMERA_SHELL


rule eval_camera_table:
    input:
        camera_eval_results(),
        FVD_RESULTS + MOTION_RESULTS,  # planned in rules/eval_quality.smk
    output:
        csv=f"{RESULTS}/tables/camera_metrics.csv",
        per_video=f"{RESULTS}/tables/per_video.csv",
        md=f"{RESULTS}/tables/camera_tables.md",
    log:
        f"{RESULTS}/logs/eval_camera/table.log",
    params:
        opts=cli_set(config.get("eval_table")),
    shell:
        "{LIONLORA} eval table --results {RESULTS}/eval --out {RESULTS}/tables {params.opts} > {log} 2>&1"


# The floor and the methods' videos need clips and generated videos from other stages; the table
# joins ALL_TARGETS where those stages' rules exist (see eval_targets in the config).


if camera_eval_results():
    ALL_TARGETS.append(f"{RESULTS}/tables/camera_tables.md")
