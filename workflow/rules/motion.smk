# Motion-strength sweeps (Fig. 6, Fig. 10): one conditioning image, the motion LoRA at several
# scaling values S, per run:
#   lionlora            the final adapter, S through the scaling token (LiON-LoRA)
#   adapter_scale       the plain LoRA (RESULTS/lora_plain, no token), S as its adapter scale (Fig. 10 baseline)
#   lionlora_stepN      the adapter's training checkpoint at step N (Fig. 6 series)
# Each run writes {RESULTS}/generated/{run}/motion/S{s}.mp4 (one job per run) and a manifest (video,scale) that
# `lionlora eval motion` reads (rules/eval_quality.smk).
#
# config["generate"]["motion"]:
#   adapter   the motion adapter (a `lora` value of the pairs manifest)
#   image     conditioning clip under RESULTS (its first frame), e.g. clips/embedded/dolly_in/clip.mp4
#   scales    the S values of the sweep
#   runs      which of lionlora / adapter_scale to generate
#   series    checkpoint steps of the Fig. 6 series (the train config must keep them:
#             keep_checkpoints >= their number, checkpoint_every dividing each)

if motion_planned():

    rule generate_motion:
        # the whole sweep of one run from one loaded model (`generate --video`, one video per S)
        input:
            image=f"{RESULTS}/{config['generate']['motion']['image']}",
            # the checkpoints are written by the same training run as the final adapter
            adapter=lambda wc: f"{adapter_dir(config['generate']['motion']['adapter'], wc.run)}/adapter.safetensors",
            model=lora_model_input,
        output:
            [f"{RESULTS}/generated/{{run}}/motion/S{s}.mp4" for s in motion_scale_names()],
        wildcard_constraints:
            run="|".join(motion_runs()) or "none",
        log:
            f"{RESULTS}/logs/generate_motion/{{run}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/generate_motion/{{run}}.tsv"
        params:
            model=lora_model(),
            videos=motion_video_args,
            flags=lambda wc: motion_runs()[wc.run][1],
            prompt=shlex.quote(scene_prompt_of(Path(config["generate"]["motion"]["image"]).parent.parent.name)),
            opts=cli_set("generate"),
            gpu=gpu_prefix("generate_motion"),
        threads: job_threads("generate_motion")
        resources:
            **job_resources("generate_motion", videos=len(motion_scale_names())),
        conda:
            software_env("generate_motion")
        shell:
            "{params.gpu} lionlora -q --threads {threads} generate --model {params.model} --image {input.image} "
            "--prompt {params.prompt} {params.flags} {params.videos} {params.opts} > {log} 2>&1"

    rule motion_manifest:
        input:
            lambda wc: [f"{RESULTS}/generated/{wc.run}/motion/S{s}.mp4" for s in motion_scale_names()],
        output:
            f"{RESULTS}/generated/{{run}}/motion/manifest.csv",
        wildcard_constraints:
            run="|".join(motion_runs()) or "none",
        log:
            f"{RESULTS}/logs/generate_motion/{{run}}/manifest.log",
        benchmark:
            f"{RESULTS}/benchmarks/motion_manifest/{{run}}.tsv"
        threads: job_threads("motion_manifest")
        resources:
            **job_resources("motion_manifest"),
        conda:
            software_env("motion_manifest")
        shell:
            "lionlora -q --threads {threads} eval motion-manifest --videos {input} --out {output} > {log} 2>&1"
