# 3DGS reconstruction of every scene -> RESULTS/splats/{scene}/ (point_cloud.ply, metrics.json).
# Torch runs single-threaded: its small tensor ops gain nothing from a second thread, and two jobs
# on two cores then do not oversubscribe the machine.


rule reconstruct:
    input:
        lambda wc: scene_dir(wc.scene),
    output:
        ply=f"{RESULTS}/splats/{{scene}}/point_cloud.ply",
        metrics=f"{RESULTS}/splats/{{scene}}/metrics.json",
    log:
        f"{RESULTS}/logs/reconstruct/{{scene}}.log",
    threads: 1
    params:
        out=lambda wc: f"{RESULTS}/splats/{wc.scene}",
        opts=cli_set(config.get("reconstruct")),
    shell:
        "OMP_NUM_THREADS={threads} {LIONLORA} -q reconstruct --scene {input} --out {params.out} {params.opts}"
        " > {log} 2>&1"


ALL_TARGETS.extend(f"{RESULTS}/splats/{s}/metrics.json" for s in scene_ids())
