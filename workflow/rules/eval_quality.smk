# Video quality and motion linearity: FVD of each method's generated videos against the real
# clips, Pearson of S vs optical-flow magnitude, and the paper's Fig. 6 / Fig. 10.
#
# Inputs follow the path conventions: real clips under {RESULTS}/<eval_quality.real>, generated
# videos under {RESULTS}/generated/{method}/, a motion manifest (video,scale) per method at
# {RESULTS}/<eval_quality.motion_manifest>. Targets are added only for the methods listed in the
# config, so an empty list plans nothing.


rule eval_i3d_init:
    output:
        f"{RESULTS}/weights/i3d_random_seed{{seed}}.pt",
    wildcard_constraints:
        seed=r"\d+",
    log:
        f"{RESULTS}/logs/eval_i3d_init/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval_i3d_init/seed{{seed}}.tsv"
    threads: job_threads("eval_i3d_init")
    resources:
        **job_resources("eval_i3d_init"),
    conda:
        software_env("eval_i3d_init")
    shell:
        "lionlora -q --threads {threads} eval i3d-init --out {output} --seed {wildcards.seed} > {log} 2>&1"


rule eval_fvd:
    input:
        videos=fvd_videos,
        i3d=i3d_weights(),
    output:
        f"{RESULTS}/eval/{{method}}/fvd{{suffix}}.json",
    wildcard_constraints:
        method=r"[A-Za-z0-9_.+-]+",
        suffix=r"(_[A-Za-z0-9]+)?",
    log:
        f"{RESULTS}/logs/eval_fvd/{{method}}{{suffix}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval_fvd/{{method}}{{suffix}}.tsv"
    params:
        opts=fvd_options,
        cache=f"{RESULTS}/cache/i3d_features",
        real=f"{RESULTS}/{config['eval_quality']['real']}",
        fake=lambda wc: f"{RESULTS}/generated/{wc.method}",
        gpu=gpu_prefix("eval_fvd"),
    threads: job_threads("eval_fvd")
    resources:
        **job_resources("eval_fvd"),
    conda:
        software_env("eval_fvd")
    shell:
        "{params.gpu} lionlora -q --threads {threads} eval fvd --real {params.real} --fake {params.fake} "
        "--i3d {input.i3d} --out {output} --cache-dir {params.cache} {params.opts} > {log} 2>&1"


rule eval_motion:
    input:
        motion_manifest,
    wildcard_constraints:
        method=r"[A-Za-z0-9_.+-]+",
    output:
        json=f"{RESULTS}/eval/{{method}}/motion.json",
        csv=f"{RESULTS}/eval/{{method}}/motion_per_video.csv",
    log:
        f"{RESULTS}/logs/eval_motion/{{method}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval_motion/{{method}}.tsv"
    params:
        series=motion_series,
        opts=cli_set("eval_quality.motion"),
    threads: job_threads("eval_motion")
    resources:
        **job_resources("eval_motion"),
    conda:
        software_env("eval_motion")
    shell:
        "lionlora -q --threads {threads} eval motion --manifest {input} --out {output.json} {params.series} "
        "{params.opts} > {log} 2>&1"


rule eval_fig6:
    input:
        [f"{RESULTS}/eval/{m}/motion.json" for m in config["eval_quality"]["fig6"]],
    output:
        report(
            f"{RESULTS}/figures/fig6_correlation_vs_step.png",
            caption="../report/fig6.rst",
            category="Figures",
            labels={"figure": "Fig. 6: linearity vs training step"},
        ),
    log:
        f"{RESULTS}/logs/eval_figures/fig6.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval_fig6.tsv"
    threads: job_threads("eval_fig6")
    resources:
        **job_resources("eval_fig6"),
    conda:
        software_env("eval_fig6")
    shell:
        "lionlora -q --threads {threads} eval figures fig6 --inputs {input} --out {output} > {log} 2>&1"


rule eval_fig10:
    input:
        [f"{RESULTS}/eval/{m}/motion.json" for m in config["eval_quality"]["fig10"]],
    output:
        report(
            f"{RESULTS}/figures/fig10_magnitude_vs_scale.png",
            caption="../report/fig10.rst",
            category="Figures",
            labels={"figure": "Fig. 10: motion magnitude vs S"},
        ),
    log:
        f"{RESULTS}/logs/eval_figures/fig10.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval_fig10.tsv"
    threads: job_threads("eval_fig10")
    resources:
        **job_resources("eval_fig10"),
    conda:
        software_env("eval_fig10")
    shell:
        "lionlora -q --threads {threads} eval figures fig10 --inputs {input} --out {output} > {log} 2>&1"


if config["eval_quality"]["methods"] and not i3d_ready():
    print(
        f"FVD not planned: put the I3D weights at {config['eval_quality']['i3d']} (see README, eval_quality)",
        file=sys.stderr,
    )
ALL_TARGETS.extend(fvd_results() + motion_results())
if config["eval_quality"]["fig6"]:
    ALL_TARGETS.append(f"{RESULTS}/figures/fig6_correlation_vs_step.png")
if config["eval_quality"]["fig10"]:
    ALL_TARGETS.append(f"{RESULTS}/figures/fig10_magnitude_vs_scale.png")
