# The benchmark (`snakemake benchmark`): a portable suite from the run's held-out clips (or the
# suite given), videos generated for it from adapters, and every method scored beside the paper's
# tables in RESULTS/benchmark/tables/ (lionlora benchmark suite | generate | run).
#
# config["benchmark"]:
#   suite       an existing suite folder; empty: built from the clips of the evaluation scenes
#               into RESULTS/benchmark/suite (frames / height / width below, prompts: scenes.captions)
#   primitives  clips the built suite holds (default: generate.primitives)
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

_BENCH = config.get("benchmark") or {}
BENCH_DIR = f"{RESULTS}/benchmark"
BENCH_SUITE = _BENCH.get("suite") or f"{BENCH_DIR}/suite"


def _bench_path(path):
    return str(path).replace("{results}", RESULTS)


def bench_adapters():
    """{NAME: {primitive: path}} with {results} filled in; a NAME used for videos too is refused."""
    adapters = {name: {p: _bench_path(f) for p, f in prims.items()} for name, prims in (_BENCH.get("adapters") or {}).items()}
    twice = sorted(set(adapters) & set(_BENCH.get("videos") or {}))
    if twice:
        raise WorkflowError(f"config: benchmark method {twice[0]!r} is both in benchmark.videos and benchmark.adapters")
    for name, prims in adapters.items():
        if not prims:
            raise WorkflowError(f"config: benchmark.adapters.{name} names no adapter ({{primitive: PATH}})")
    return adapters


def bench_videos():
    """{NAME: DIR} of every scored method: the given folders and the generated ones."""
    videos = {name: _bench_path(d) for name, d in (_BENCH.get("videos") or {}).items()}
    videos.update({name: f"{BENCH_DIR}/videos/{name}" for name in bench_adapters()})
    return videos


def adapter_input(path):
    """The file Snakemake tracks for an adapter: the folder's adapter.safetensors, or the file."""
    return path if path.endswith(".safetensors") else f"{path}/adapter.safetensors"


def bench_lora_args(name):
    options = (_BENCH.get("options") or {}).get(name) or {}
    scale = options.get("scale", _GENERATE.get("scale", 1.0))
    args = [f"--lora {shlex.quote(f'{p}={path}:{scale}')}" for p, path in bench_adapters()[name].items()]
    if options.get("fusion"):
        args.append(f"--fusion {options['fusion']}")
    if options.get("adapter_scale"):
        args.append("--adapter-scale")
    return " ".join(args)


def bench_suite_clips():
    """Clip folders of the built suite: every evaluation scene's `benchmark.primitives`."""
    prims = _BENCH.get("primitives") or _GENERATE.get("primitives", [])
    return [f"{RESULTS}/clips/{s}/{p}" for s in eval_scene_ids() for p in prims]


def bench_suite_options():
    clip = config.get("clip") or {}
    frames = _BENCH.get("frames", 49)
    height, width = _BENCH.get("height", clip.get("height", 480)), _BENCH.get("width", clip.get("width", 720))
    captions = config["scenes"].get("captions")
    return f"--frames {frames} --height {height} --width {width}" + (f" --prompts {shlex.quote(captions)}" if captions else "")


def bench_fvd_args():
    real, i3d = _BENCH.get("real"), _BENCH.get("i3d")
    if bool(real) != bool(i3d):
        raise WorkflowError("config: benchmark.real and benchmark.i3d go together (FVD needs both)")
    return f"--real {shlex.quote(_bench_path(real))} --i3d {shlex.quote(_bench_path(i3d))}" if real else ""


if not _BENCH.get("suite"):

    rule benchmark_clips:
        # The suite's clip root: links to the held-out scenes' clips only (RESULTS/clips also holds
        # the training scenes, whose samples would score adapters on their own training data).
        input:
            [f"{d}/cameras.json" for d in bench_suite_clips()],
        output:
            directory(f"{BENCH_DIR}/clips"),
        params:
            links=" && ".join(
                f"mkdir -p {shlex.quote(str(Path(BENCH_DIR, 'clips', Path(d).parent.name)))} && "
                f"ln -s {shlex.quote(str(Path(d).resolve()))} {shlex.quote(str(Path(BENCH_DIR, 'clips', *Path(d).parts[-2:])))}"
                for d in bench_suite_clips()
            ),
        shell:
            "{params.links}"

    rule benchmark_suite:
        input:
            f"{BENCH_DIR}/clips",
        output:
            f"{BENCH_SUITE}/manifest.csv",
        log:
            f"{RESULTS}/logs/benchmark/suite.log",
        params:
            opts=bench_suite_options(),
        shell:
            "rm -rf {BENCH_SUITE} && {LIONLORA} -q benchmark suite --clips {input} --out {BENCH_SUITE} {params.opts} > {log} 2>&1"


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
    params:
        model=lora_model(),
        loras=lambda wc: bench_lora_args(wc.bench),
        opts=cli_set({k: v for k, v in _GENERATE.items() if k not in _GENERATE_WORKFLOW_KEYS}),
    threads: _THREADS
    resources:
        gpu=_GPUS,
    shell:
        "OMP_NUM_THREADS={threads} {LIONLORA} -q benchmark generate --suite {BENCH_SUITE} --model {params.model} "
        "{params.loras} --out {output} {params.opts} > {log} 2>&1"


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
    params:
        videos=" ".join(f"--videos {shlex.quote(f'{n}={d}')}" for n, d in bench_videos().items()),
        fvd=bench_fvd_args(),
        baseline=f"--baseline {shlex.quote(_BENCH['baseline'])}" if _BENCH.get("baseline") else "",
        jobs=_BENCH.get("jobs", 1),
        opts=cli_set(config.get("eval_camera")),
    threads: _BENCH.get("jobs", 1)
    shell:
        "{LIONLORA} -q benchmark run --suite {BENCH_SUITE} {params.videos} --out {BENCH_DIR}/tables "
        "{params.fvd} {params.baseline} --jobs {params.jobs} {params.opts} > {log} 2>&1"


rule benchmark:
    input:
        f"{BENCH_DIR}/tables/camera_tables.md" if bench_videos() else [],
