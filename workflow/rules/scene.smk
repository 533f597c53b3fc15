# Scenes: the embedded scene is generated; DL3DV scenes are checked where they lie.


rule scene_synth:
    output:
        directory(f"{RESULTS}/scenes/embedded"),
    log:
        f"{RESULTS}/logs/scene_synth.log",
    params:
        opts=cli_set(config["scenes"].get("embedded")),
    shell:
        "{LIONLORA} -q scene synth --out {output} {params.opts} > {log} 2>&1"


rule scene_check:
    input:
        lambda wc: scene_dir(wc.scene),
    output:
        f"{RESULTS}/scenes/{{scene}}.check.txt",
    log:
        f"{RESULTS}/logs/scene_check/{{scene}}.log",
    params:
        downsample=config["scenes"].get("downsample", 2),
    shell:
        "{LIONLORA} scene check --scene {input} --downsample {params.downsample} > {output} 2> {log}"


_CHECKED = scene_ids() + [s for s in eval_scene_ids() if s != EMBEDDED_EVAL]  # the held-out views share the room
ALL_TARGETS.extend(f"{RESULTS}/scenes/{s}.check.txt" for s in dict.fromkeys(_CHECKED))
