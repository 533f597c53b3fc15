# Camera-primitive clips of every scene -> RESULTS/clips/{scene}/{primitive}/ (clip.mp4, cameras.json,
# depth.json). Basic primitives train the LoRAs; fused ones (NAME+NAME) are the complex poses of Table 2.


rule render_clip:
    input:
        ply=lambda wc: f"{RESULTS}/splats/{splat_scene(wc.scene)}/point_cloud.ply",
        scene=lambda wc: scene_dir(wc.scene),
    output:
        video=f"{RESULTS}/clips/{{scene}}/{{primitive}}/clip.mp4",
        cameras=f"{RESULTS}/clips/{{scene}}/{{primitive}}/cameras.json",
    log:
        f"{RESULTS}/logs/render/{{scene}}/{{primitive}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/render_clip/{{scene}}/{{primitive}}.tsv"
    params:
        out=lambda wc, output: os.path.dirname(output.video),
        opts=lambda wc: cli_set("render", **render_extra(wc.scene)),
        gpu=gpu_prefix("render_clip"),
    threads: job_threads("render_clip")
    resources:
        **job_resources("render_clip"),
    conda:
        software_env("render_clip")
    shell:
        "{params.gpu} lionlora -q --threads {threads} render --splat {input.ply} --scene {input.scene}"
        " --primitive '{wildcards.primitive}' --out '{params.out}' {params.opts} > '{log}' 2>&1"


ALL_TARGETS.extend(f"{RESULTS}/clips/{s}/{p}/cameras.json" for s in scene_ids() for p in clip_primitives())
