# The benchmark (`snakemake benchmark`): a portable suite from the run's held-out clips (or the
# suite given), videos generated for it from adapters, and every method scored beside the paper's
# tables in RESULTS/benchmark/tables/ (lionlora benchmark suite | generate | run).
#
# config["benchmark"]:
#   suite       an existing suite folder; empty: built from the clips of the evaluation scenes
#               into RESULTS/benchmark/suite (frames / height / width below, prompts: scenes.captions)
#   primitives  clips the built suite holds (empty: generate.primitives)
#   frames, height, width   the built suite's samples (default: 49 and the clip size)
#   videos      {NAME: DIR}: videos of any method, {sample}.mp4 per suite sample
#   adapters    {NAME: {primitive: PATH}}: LiON-LoRA adapters (folder or .safetensors) or diffusers
#               LoRA files; each NAME's videos are generated into RESULTS/benchmark/videos/NAME.
#               "{results}" in a path is the run's results folder (e.g. {results}/lora/pan_left).
#   options     {NAME: {scale, fusion, adapter_scale}}: per adapter method, S (or the plain LoRA's
#               adapter scale; default generate.scale), fusion lion|vanilla, adapter_scale true|false
#   real, i3d   real videos and I3D weights: FVD per method (both or neither)
#   baseline    the NAME of the no-control baseline (failure penalty)
#   jobs        videos scored in parallel
# Generation takes the generate section's sampler options (steps, cfg, frames, ...) and model.
# The helpers are in common.smk (Benchmark).

if not BENCH["suite"]:

    rule benchmark_clips:
        # The suite's clip root: links to the held-out scenes' clips only (RESULTS/clips also holds
        # the training scenes, whose samples would score adapters on their own training data).
        input:
            [f"{d}/cameras.json" for d in bench_suite_clips()],
        output:
            directory(f"{BENCH_DIR}/clips"),
        log:
            f"{RESULTS}/logs/benchmark/clips.log",
        benchmark:
            f"{RESULTS}/benchmarks/benchmark_clips.tsv"
        params:
            links=bench_links(),
        threads: job_threads("benchmark_clips")
        resources:
            **job_resources("benchmark_clips"),
        conda:
            software_env("benchmark_clips")
        shell:
            "({params.links}) > {log} 2>&1"

    rule benchmark_suite:
        input:
            f"{BENCH_DIR}/clips",
        output:
            f"{BENCH_SUITE}/manifest.csv",
        log:
            f"{RESULTS}/logs/benchmark/suite.log",
        benchmark:
            f"{RESULTS}/benchmarks/benchmark_suite.tsv"
        params:
            suite=lambda wc, output: os.path.dirname(output[0]),
            opts=bench_suite_options(),
        threads: job_threads("benchmark_suite")
        resources:
            **job_resources("benchmark_suite"),
        conda:
            software_env("benchmark_suite")
        shell:
            "rm -rf {params.suite} && lionlora -q --threads {threads} benchmark suite --clips {input} "
            "--out {params.suite} {params.opts} > {log} 2>&1"


rule benchmark_generate:
    input:
        suite=f"{BENCH_SUITE}/manifest.csv",
        adapters=lambda wc: [adapter_input(p) for p in bench_adapters()[wc.bench].values()],
        model=lora_model_input,
    output:
        directory(f"{BENCH_DIR}/videos/{{bench}}"),
    wildcard_constraints:
        bench="|".join(bench_adapters()) or "none",
    log:
        f"{RESULTS}/logs/benchmark/generate_{{bench}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/benchmark_generate/{{bench}}.tsv"
    params:
        suite=lambda wc, input: os.path.dirname(input.suite),
        model=lora_model(),
        loras=lambda wc: bench_lora_args(wc.bench),
        opts=cli_set("generate"),
        gpu=gpu_prefix("benchmark_generate"),
    threads: job_threads("benchmark_generate")
    resources:
        **job_resources("benchmark_generate"),
    conda:
        software_env("benchmark_generate")
    shell:
        "{params.gpu} lionlora -q --threads {threads} benchmark generate --suite {params.suite} "
        "--model {params.model} {params.loras} --out {output} {params.opts} > {log} 2>&1"


rule benchmark_run:
    input:
        suite=f"{BENCH_SUITE}/manifest.csv",
        videos=list(bench_videos().values()),
    output:
        md=f"{BENCH_DIR}/tables/camera_tables.md",
        csv=f"{BENCH_DIR}/tables/camera_metrics.csv",
        per_video=f"{BENCH_DIR}/tables/per_video.csv",
    log:
        f"{RESULTS}/logs/benchmark/run.log",
    benchmark:
        f"{RESULTS}/benchmarks/benchmark_run.tsv"
    params:
        suite=lambda wc, input: os.path.dirname(input.suite),
        out=lambda wc, output: os.path.dirname(output.md),
        videos=" ".join(f"--videos {shlex.quote(f'{n}={d}')}" for n, d in bench_videos().items()),
        fvd=bench_fvd_args(),
        baseline=f"--baseline {shlex.quote(BENCH['baseline'])}" if BENCH["baseline"] else "",
        jobs=BENCH["jobs"],
        opts=cli_set("eval_camera"),
    threads: job_threads("benchmark_run")
    resources:
        **job_resources("benchmark_run"),
    conda:
        software_env("benchmark_run")
    shell:
        "lionlora -q --threads {threads} benchmark run --suite {params.suite} {params.videos} --out {params.out} "
        "{params.fvd} {params.baseline} --jobs {params.jobs} {params.opts} > {log} 2>&1"

rule benchmark:
    input:
        f"{BENCH_DIR}/tables/camera_tables.md" if bench_videos() else [],
