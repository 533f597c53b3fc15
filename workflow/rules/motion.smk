# Motion-strength sweeps (Fig. 6, Fig. 10): one conditioning image, the motion LoRA at several
# scaling values S, per run:
#   lionlora            the final adapter, S through the scaling token (LiON-LoRA)
#   adapter_scale       the plain LoRA (RESULTS/lora_plain, no token), S as its adapter scale (Fig. 10 baseline)
#   lionlora_stepN      the adapter's training checkpoint at step N (Fig. 6 series)
# Each run writes {RESULTS}/generated/{run}/motion/S{s}.mp4 and a manifest (video,scale) that
# `lionlora eval motion` reads (rules/eval_quality.smk).
#
# config["generate"]["motion"]:
#   adapter   the motion adapter (a `lora` value of the pairs manifest), default "motion"
#   image     conditioning clip under RESULTS (its first frame), e.g. clips/embedded/dolly_in/clip.mp4
#   scales    the S values of the sweep
#   runs      which of lionlora / adapter_scale to generate
#   series    checkpoint steps of the Fig. 6 series (the train config must keep them:
#             keep_checkpoints >= their number, checkpoint_every dividing each)

_MOTION = (config.get("generate") or {}).get("motion") or {}
_MOTION_ADAPTER = _MOTION.get("adapter", "motion")


def motion_runs():
    """run name -> (adapter folder, extra flags of `lionlora generate`)."""
    final = adapter_dir(_MOTION_ADAPTER)
    runs = {}
    for run in _MOTION.get("runs", []):
        runs[run] = (adapter_dir(_MOTION_ADAPTER, run), "--adapter-scale" if run == "adapter_scale" else "")
    for step in _MOTION.get("series", []):
        runs[f"lionlora_step{step}"] = (f"{final}/checkpoints/step_{int(step):06d}", "")
    return runs


def motion_scale_names():
    return [f"{float(s):.3f}" for s in _MOTION.get("scales", [])]


if _MOTION:

    rule generate_motion:
        input:
            image=f"{RESULTS}/{_MOTION['image']}",
            # the checkpoints are written by the same training run as the final adapter
            adapter=lambda wc: f"{adapter_dir(_MOTION_ADAPTER, wc.run)}/adapter.safetensors",
            model=lora_model_input,
        output:
            f"{RESULTS}/generated/{{run}}/motion/S{{scale}}.mp4",
        wildcard_constraints:
            run="|".join(motion_runs()) or "none",
            scale=r"[0-9.]+",
        log:
            f"{RESULTS}/logs/generate_motion/{{run}}/S{{scale}}.log",
        params:
            model=lora_model(),
            adapter=lambda wc: motion_runs()[wc.run][0],
            flags=lambda wc: motion_runs()[wc.run][1],
            prompt=shlex.quote(scene_prompt_of(Path(_MOTION["image"]).parent.parent.name)),
            opts=cli_set({k: v for k, v in _GENERATE.items() if k not in _GENERATE_WORKFLOW_KEYS}),
        threads: _THREADS
        resources:
            gpu=_GPUS,
        shell:
            "OMP_NUM_THREADS={threads} {LIONLORA} -q generate --model {params.model} --image {input.image} "
            "--prompt {params.prompt} --lora {_MOTION_ADAPTER}={params.adapter}:{wildcards.scale} {params.flags} "
            "--out {output} {params.opts} > {log} 2>&1"

    rule motion_manifest:
        input:
            lambda wc: [f"{RESULTS}/generated/{wc.run}/motion/S{s}.mp4" for s in motion_scale_names()],
        output:
            f"{RESULTS}/generated/{{run}}/motion/manifest.csv",
        wildcard_constraints:
            run="|".join(motion_runs()) or "none",
        log:
            f"{RESULTS}/logs/generate_motion/{{run}}/manifest.log",
        shell:
            "{LIONLORA} -q eval motion-manifest --videos {input} --out {output} > {log} 2>&1"
