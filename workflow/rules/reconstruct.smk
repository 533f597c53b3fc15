# 3DGS reconstruction of every scene -> RESULTS/splats/{scene}/ (point_cloud.ply, metrics.json).
# The demo's torch engine runs one thread per job: its small tensor ops gain nothing from a
# second one, and two jobs on two cores then do not oversubscribe the machine.


rule reconstruct:
    input:
        lambda wc: scene_dir(wc.scene),
    output:
        ply=f"{RESULTS}/splats/{{scene}}/point_cloud.ply",
        metrics=f"{RESULTS}/splats/{{scene}}/metrics.json",
    log:
        f"{RESULTS}/logs/reconstruct/{{scene}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/reconstruct/{{scene}}.tsv"
    params:
        out=lambda wc, output: os.path.dirname(output.ply),
        opts=cli_set("reconstruct"),
        gpu=gpu_prefix("reconstruct"),
    threads: job_threads("reconstruct")
    resources:
        **job_resources("reconstruct"),
    conda:
        software_env("reconstruct")
    shell:
        "{params.gpu} lionlora -q --threads {threads} reconstruct --scene {input} --out {params.out} {params.opts}"
        " > {log} 2>&1"


ALL_TARGETS.extend(f"{RESULTS}/splats/{s}/metrics.json" for s in scene_ids())
