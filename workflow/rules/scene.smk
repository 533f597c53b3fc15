# Scenes: the embedded scene is generated; DL3DV scenes are checked where they lie.


rule scene_synth:
    output:
        directory(f"{RESULTS}/scenes/embedded"),
    log:
        f"{RESULTS}/logs/scene_synth.log",
    benchmark:
        f"{RESULTS}/benchmarks/scene_synth.tsv"
    params:
        opts=cli_set("scenes.embedded"),
    threads: job_threads("scene_synth")
    resources:
        **job_resources("scene_synth"),
    conda:
        software_env("scene_synth")
    shell:
        "lionlora -q --threads {threads} scene synth --out {output} {params.opts} > {log} 2>&1"


rule scene_check:
    input:
        lambda wc: scene_dir(wc.scene),
    output:
        f"{RESULTS}/scenes/{{scene}}.check.txt",
    log:
        f"{RESULTS}/logs/scene_check/{{scene}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/scene_check/{{scene}}.tsv"
    params:
        downsample=config["scenes"]["downsample"],
    threads: job_threads("scene_check")
    resources:
        **job_resources("scene_check"),
    conda:
        software_env("scene_check")
    shell:
        "lionlora --threads {threads} scene check --scene {input} --downsample {params.downsample} > {output} 2> {log}"


_CHECKED = scene_ids() + [s for s in eval_scene_ids() if s != EMBEDDED_EVAL]  # the held-out views share the room
ALL_TARGETS.extend(f"{RESULTS}/scenes/{s}.check.txt" for s in dict.fromkeys(_CHECKED))
