# LiON-LoRA on CogVideoX: the model, one adapter per primitive / motion LoRA, generated videos.
#
# config["train"]: the options of `lionlora train` (lionlora.apps.train.TrainConfig) plus
#   adapters  the adapters to train: values of the `lora` column of RESULTS/pairs/manifest.csv
#   launch    a command put before `lionlora` (e.g. "accelerate launch --multi_gpu --num_processes 4")
#   (model "demo" is the tiny random-init model written by `lionlora demo-model`, "pretrained" the tiny
#   model `lionlora demo-model --pretrain` trains on the embedded room with config["pretrain"])
# config["generate"]: the options of `lionlora generate` (lionlora.apps.generate.GenerateConfig) plus
#   methods     lionlora | vanilla (Fig. 2) | adapter_scale (Fig. 10) | base (CogVideoX without LoRA);
#               vanilla and adapter_scale use plain LoRAs (`lionlora train --variant plain`, no scaling
#               token) trained on the same pairs into RESULTS/lora_plain/{name}, as the paper ran them
#   primitives  clips to condition on: RESULTS/clips/{scene}/{primitive}/ (fused ones joined with '+')
#   scale       the scaling value S of every LoRA (and of the GT cameras written beside each video)
#   prompt      the text prompt template ({scene}: the scene's name); a scene listed in
#               scenes.captions (CSV scene,prompt) gets its caption instead, in training pairs too
# Videos are generated from the held-out evaluation scenes only (common.smk: eval_scene_ids).


rule demo_model:
    output:
        directory(f"{RESULTS}/models/tiny"),
    log:
        f"{RESULTS}/logs/demo_model.log",
    benchmark:
        f"{RESULTS}/benchmarks/demo_model.tsv"
    threads: job_threads("demo_model")
    resources:
        **job_resources("demo_model"),
    conda:
        software_env("demo_model")
    shell:
        "lionlora -q --threads {threads} demo-model --out {output} > {log} 2>&1"


rule pretrain_model:
    output:
        directory(f"{RESULTS}/models/pretrained"),
    log:
        f"{RESULTS}/logs/pretrain_model.log",
    benchmark:
        f"{RESULTS}/benchmarks/pretrain_model.tsv"
    params:
        opts=cli_set("pretrain"),
    threads: job_threads("pretrain_model")
    resources:
        **job_resources("pretrain_model"),
    conda:
        software_env("pretrain_model")
    shell:
        "lionlora -q --threads {threads} demo-model --pretrain --out {output} {params.opts} > {log} 2>&1"


rule train_lora:
    input:
        manifest=f"{RESULTS}/pairs/manifest.csv",
        model=lora_model_input,
    output:
        adapter=f"{RESULTS}/{{lora_dir}}/{{name}}/adapter.safetensors",
        config=f"{RESULTS}/{{lora_dir}}/{{name}}/adapter.json",
    log:
        f"{RESULTS}/logs/train/{{lora_dir}}/{{name}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_lora/{{lora_dir}}/{{name}}.tsv"
    params:
        launch=config["train"]["launch"],
        model=lora_model(),
        out=lambda wc, output: os.path.dirname(output.adapter),
        variant=lambda wc: lora_variant(wc.lora_dir),
        opts=cli_set("train", skip=("model",)),
        gpu=gpu_prefix("train_lora"),
    # the adapters gate every generation and evaluation job after them: first among the ready jobs,
    # so that the demo does not end on one core with an adapter trained late
    priority: 2
    threads: job_threads("train_lora")
    resources:
        **job_resources("train_lora"),
    conda:
        software_env("train_lora")
    shell:
        "{params.gpu} {params.launch} lionlora -q --threads {threads} train --model {params.model} "
        "--manifest {input.manifest} --lora {wildcards.name} --out {params.out} --variant {params.variant} "
        "{params.opts} > {log} 2>&1"


if generated_primitives():

    rule generate_video:
        # every primitive's video of one method and scene from one loaded model (`generate --video`)
        input:
            clips=lambda wc: [f"{RESULTS}/clips/{wc.scene}/{p}/clip.mp4" for p in generated_primitives()],
            cameras=lambda wc: [f"{RESULTS}/clips/{wc.scene}/{p}/cameras.json" for p in generated_primitives()],
            adapters=generate_video_adapters,
            model=lora_model_input,
        output:
            video=[generated_video("{method}", "{scene}", p) for p in generated_primitives()],
            cameras=[generated_video("{method}", "{scene}", p, "cameras.json") for p in generated_primitives()],
        wildcard_constraints:
            method="|".join(METHOD_FLAGS),
            scene="|".join(re.escape(s) for s in eval_scene_ids()) or "none",
        log:
            f"{RESULTS}/logs/generate/{{method}}/{{scene}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/generate_video/{{method}}/{{scene}}.tsv"
        params:
            model=lora_model(),
            videos=generate_video_args,
            flags=lambda wc: METHOD_FLAGS[wc.method],
            prompt=lambda wc: shlex.quote(scene_prompt_of(wc.scene)),
            opts=cli_set("generate"),
            gpu=gpu_prefix("generate_video"),
        priority: 1  # then the camera videos, which the evaluation jobs wait on
        threads: job_threads("generate_video")
        resources:
            **job_resources("generate_video", videos=len(generated_primitives())),
        conda:
            software_env("generate_video")
        shell:
            "{params.gpu} lionlora -q --threads {threads} generate --model {params.model} --prompt {params.prompt} "
            "{params.flags} {params.videos} {params.opts} > {log} 2>&1"


rule analyze_loras:
    input:
        adapters=[f"{RESULTS}/lora/{n}/adapter.safetensors" for n in config["train"]["adapters"]],
        images=[f"{RESULTS}/clips/{s}/{config['train']['adapters'][0]}/clip.mp4" for s in scene_ids()]
        if config["train"]["adapters"]
        else [],
        model=lora_model_input,
    output:
        summary=f"{RESULTS}/figures/lora_analysis/summary.json",
        similarity=report(
            f"{RESULTS}/figures/lora_analysis/similarity.png",
            caption="../report/lora_similarity.rst",
            category="Figures",
            labels={"figure": "Fig. 4: LoRA similarity"},
        ),
        norms=report(
            f"{RESULTS}/figures/lora_analysis/norms.png",
            caption="../report/lora_norms.rst",
            category="Figures",
            labels={"figure": "Fig. 5: LoRA output norms"},
        ),
    log:
        f"{RESULTS}/logs/analyze_loras.log",
    benchmark:
        f"{RESULTS}/benchmarks/analyze_loras.tsv"
    params:
        model=lora_model(),
        loras=" ".join(f"--lora {n}={RESULTS}/lora/{n}" for n in config["train"]["adapters"]),
        images=lambda wc, input: " ".join(f"--image {shlex.quote(f)}" for f in input.images),
        out=lambda wc, output: os.path.dirname(output.summary),
        gpu=gpu_prefix("analyze_loras"),
    threads: job_threads("analyze_loras")
    resources:
        **job_resources("analyze_loras"),
    conda:
        software_env("analyze_loras")
    shell:
        "{params.gpu} lionlora -q --threads {threads} analyze --model {params.model} {params.loras} {params.images} "
        "--out {params.out} > {log} 2>&1"


# Targets: the demo model, the adapters and, with two adapters or more, their analysis (Figs. 4-5).
if demo_model():
    ALL_TARGETS.append(lora_model())
ALL_TARGETS.extend(f"{RESULTS}/lora/{n}/adapter.safetensors" for n in config["train"]["adapters"])
check_generation_prompts()
if len(config["train"]["adapters"]) >= 2:
    ALL_TARGETS.append(f"{RESULTS}/figures/lora_analysis/summary.json")
