# Camera-primitive clips of every scene -> RESULTS/clips/{scene}/{primitive}/ (clip.mp4, cameras.json,
# depth.json). Basic primitives train the LoRAs; fused ones (NAME+NAME) are the complex poses of Table 2.


def clip_primitives(kinds=("primitives", "fused")):
    """Primitive names of the configured clips (basic and/or fused)."""
    render = config.get("render") or {}
    return [name for kind in kinds for name in render.get(kind, [])]


def render_options(scene=None):
    """Options of `lionlora render`: render.options with the clip's length and size (and, for the
    demo's held-out scene, its own start camera scenes.eval_start_frame)."""
    clip = config.get("clip") or {}
    options = stage_options("render", {k: clip[k] for k in ("frames", "width", "height") if k in clip})
    if scene == EMBEDDED_EVAL:
        options["start_frame"] = config["scenes"].get("eval_start_frame", 0)
    return options


rule render_clip:
    input:
        ply=lambda wc: f"{RESULTS}/splats/{splat_scene(wc.scene)}/point_cloud.ply",
        scene=lambda wc: scene_dir(wc.scene),
    output:
        video=f"{RESULTS}/clips/{{scene}}/{{primitive}}/clip.mp4",
        cameras=f"{RESULTS}/clips/{{scene}}/{{primitive}}/cameras.json",
    log:
        f"{RESULTS}/logs/render/{{scene}}/{{primitive}}.log",
    threads: 1
    params:
        out=lambda wc: f"{RESULTS}/clips/{wc.scene}/{wc.primitive}",
        opts=lambda wc: cli_set(render_options(wc.scene)),
    shell:
        "OMP_NUM_THREADS={threads} {LIONLORA} -q render --splat {input.ply} --scene {input.scene}"
        " --primitive '{wildcards.primitive}' --out '{params.out}' {params.opts} > '{log}' 2>&1"


ALL_TARGETS.extend(
    f"{RESULTS}/clips/{s}/{p}/cameras.json" for s in scene_ids() for p in clip_primitives()
)
