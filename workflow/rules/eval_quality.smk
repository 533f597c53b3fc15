# Video quality and motion linearity: FVD of each method's generated videos against the real
# clips, Pearson of S vs optical-flow magnitude, and the paper's Fig. 6 / Fig. 10.
#
# Inputs follow the path conventions: real clips under {RESULTS}/<eval_quality.real>, generated
# videos under {RESULTS}/generated/{method}/, a motion manifest (video,scale) per method at
# {RESULTS}/<eval_quality.motion_manifest>. Targets are added only for the methods listed in the
# config, so an empty list plans nothing.

EQ = config.get("eval_quality") or {}


def i3d_weights():
    """The I3D file: a configured path, or the random demo weights written by `eval i3d-init`."""
    weights = EQ.get("i3d", "random")
    if weights == "random":
        return f"{RESULTS}/weights/i3d_random_seed{EQ.get('i3d_seed', 0)}.pt"
    return weights


def fvd_options(wildcards):
    """`--set` options of `eval fvd`: the `fvd` section plus the subset's include/exclude patterns."""
    opts = dict(EQ.get("fvd") or {})
    if wildcards.suffix:
        for key, patterns in EQ.get("subsets", {})[wildcards.suffix.lstrip("_")].items():
            opts[key] = list(opts.get(key) or []) + list(patterns)
    return cli_set(opts)


def motion_series(wildcards):
    """`--label/--step` of a method that is one checkpoint of a Fig. 6 series."""
    entry = (EQ.get("series") or {}).get(wildcards.method) or {}
    args = [f"--label {shlex.quote(str(entry['label']))}"] if entry.get("label") else []
    args += [f"--step {int(entry['step'])}"] if entry.get("step") is not None else []
    return " ".join(args)


rule eval_i3d_init:
    output:
        f"{RESULTS}/weights/i3d_random_seed{{seed}}.pt",
    wildcard_constraints:
        seed=r"\d+",
    log:
        f"{RESULTS}/logs/eval_i3d_init/seed{{seed}}.log",
    shell:
        "{LIONLORA} -q eval i3d-init --out {output} --seed {wildcards.seed} > {log} 2>&1"


def fvd_videos(wildcards):
    """Files behind the two folders: the rendered clips and the method's generated camera videos."""
    real = [f"{RESULTS}/clips/{s}/{p}/clip.mp4" for s in scene_ids() for p in clip_primitives()]
    fake = [t for t in GENERATE_TARGETS if t.startswith(f"{RESULTS}/generated/{wildcards.method}/")]
    return real + fake


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
    params:
        opts=fvd_options,
        cache=f"{RESULTS}/cache/i3d_features",
        real=f"{RESULTS}/{EQ.get('real', 'clips')}",
        fake=lambda wc: f"{RESULTS}/generated/{wc.method}",
    shell:
        "{LIONLORA} -q eval fvd --real {params.real} --fake {params.fake} --i3d {input.i3d} --out {output} "
        "--cache-dir {params.cache} {params.opts} > {log} 2>&1"


rule eval_motion:
    input:
        lambda wc: f"{RESULTS}/" + EQ.get("motion_manifest", "generated/{method}/motion/manifest.csv").format(
            method=wc.method
        ),
    wildcard_constraints:
        method=r"[A-Za-z0-9_.+-]+",
    output:
        json=f"{RESULTS}/eval/{{method}}/motion.json",
        csv=f"{RESULTS}/eval/{{method}}/motion_per_video.csv",
    log:
        f"{RESULTS}/logs/eval_motion/{{method}}.log",
    params:
        series=motion_series,
        opts=cli_set(EQ.get("motion")),
    shell:
        "{LIONLORA} -q eval motion --manifest {input} --out {output.json} {params.series} {params.opts} > {log} 2>&1"


rule eval_fig6:
    input:
        [f"{RESULTS}/eval/{m}/motion.json" for m in EQ.get("fig6") or []],
    output:
        f"{RESULTS}/figures/fig6_correlation_vs_step.png",
    log:
        f"{RESULTS}/logs/eval_figures/fig6.log",
    shell:
        "{LIONLORA} -q eval figures fig6 --inputs {input} --out {output} > {log} 2>&1"


rule eval_fig10:
    input:
        [f"{RESULTS}/eval/{m}/motion.json" for m in EQ.get("fig10") or []],
    output:
        f"{RESULTS}/figures/fig10_magnitude_vs_scale.png",
    log:
        f"{RESULTS}/logs/eval_figures/fig10.log",
    shell:
        "{LIONLORA} -q eval figures fig10 --inputs {input} --out {output} > {log} 2>&1"


# FVD needs the I3D weights on disk (nothing is downloaded): plan it only when they are there.
_I3D_READY = EQ.get("i3d", "random") == "random" or Path(EQ["i3d"]).is_file()
if EQ.get("methods") and not _I3D_READY:
    print(f"FVD not planned: put the I3D weights at {EQ['i3d']} (see README, eval_quality)", file=sys.stderr)
# The method-level results `eval table` shows beside the camera metrics (rules/eval_camera.smk).
FVD_RESULTS = [
    f"{RESULTS}/eval/{m}/fvd{x}.json"
    for m in ((EQ.get("methods") or []) if _I3D_READY else [])
    for x in ["", *(f"_{s}" for s in EQ.get("subsets") or {})]
]
MOTION_RESULTS = [f"{RESULTS}/eval/{m}/motion.json" for m in EQ.get("motion_methods") or []]
ALL_TARGETS.extend(FVD_RESULTS + MOTION_RESULTS)
if EQ.get("fig6"):
    ALL_TARGETS.append(f"{RESULTS}/figures/fig6_correlation_vs_step.png")
if EQ.get("fig10"):
    ALL_TARGETS.append(f"{RESULTS}/figures/fig10_magnitude_vs_scale.png")
