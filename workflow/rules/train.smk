# LiON-LoRA on CogVideoX: the model, one adapter per primitive / motion LoRA, generated videos.
#
# config["train"]: the options of `lionlora train` (lionlora.apps.train.TrainConfig) plus
#   model     "demo" (the tiny random-init model written by `lionlora demo-model`) or a hub id / folder
#   adapters  the adapters to train: values of the `lora` column of RESULTS/pairs/manifest.csv
#   launch    a command put before `lionlora` (e.g. "accelerate launch --multi_gpu --num_processes 4")
# config["generate"]: the options of `lionlora generate` (lionlora.apps.generate.GenerateConfig) plus
#   methods     lionlora | vanilla (Fig. 2) | adapter_scale (Fig. 10) | base (CogVideoX without LoRA);
#               vanilla and adapter_scale use plain LoRAs (`lionlora train --variant plain`, no scaling
#               token) trained on the same pairs into RESULTS/lora_plain/{name}, as the paper ran them
#   primitives  clips to condition on: RESULTS/clips/{scene}/{primitive}/ (fused ones joined with '+')
#   scale       the scaling value S of every LoRA (and of the GT cameras written beside each video)
#   prompt      the text prompt template ({scene}: the scene's name); a scene listed in
#               scenes.captions (CSV scene,prompt) gets its caption instead, in training pairs too

_TRAIN = config.get("train", {})
_GENERATE = config.get("generate", {})
_TRAIN_WORKFLOW_KEYS = ("model", "adapters", "launch")
_GENERATE_WORKFLOW_KEYS = ("model", "methods", "primitives", "scale", "prompt", "motion")
# The demo's tiny model runs fastest on one thread per job (its ops are far too small to share);
# the real model runs on a GPU: `--resources gpu=N` keeps jobs from sharing one.
_DEMO = _TRAIN.get("model", "demo") == "demo"
_THREADS = 1 if _DEMO else 4
_GPUS = 0 if _DEMO else 1
METHOD_FLAGS = {"lionlora": "", "vanilla": "--vanilla-fusion", "adapter_scale": "--adapter-scale", "base": ""}
# Adapter folder under RESULTS of each training variant, and the variant each method's videos use.
VARIANT_DIRS = {"lion": "lora", "plain": "lora_plain"}
METHOD_VARIANT = {"vanilla": "plain", "adapter_scale": "plain"}


def adapter_dir(name, method="lionlora"):
    """RESULTS/lora/{name} (LiON-LoRA) or RESULTS/lora_plain/{name} (the baselines' plain LoRA)."""
    return f"{RESULTS}/{VARIANT_DIRS[METHOD_VARIANT.get(method, 'lion')]}/{name}"


wildcard_constraints:
    name=r"[A-Za-z0-9_-]+",
    method="|".join(METHOD_FLAGS),
    lora_dir="|".join(VARIANT_DIRS.values()),


def lora_model():
    """The CogVideoX I2V pipeline: the demo model's folder, or the configured hub id / folder."""
    model = _TRAIN.get("model", "demo")
    return f"{RESULTS}/models/tiny" if _DEMO else model


def lora_model_input(wildcards=None):
    """The demo model as a file dependency (a hub id or an external folder is not built here)."""
    return [f"{RESULTS}/models/tiny"] if _DEMO else []


def video_loras(method, primitive):
    """Adapters used for a generated video: one per primitive of a fused name; none for `base`."""
    return [] if method == "base" else primitive.split("+")


rule demo_model:
    output:
        directory(f"{RESULTS}/models/tiny"),
    log:
        f"{RESULTS}/logs/demo_model.log",
    shell:
        "{LIONLORA} -q demo-model --out {output} > {log} 2>&1"


rule train_lora:
    input:
        manifest=f"{RESULTS}/pairs/manifest.csv",
        model=lora_model_input,
    output:
        adapter=f"{RESULTS}/{{lora_dir}}/{{name}}/adapter.safetensors",
        config=f"{RESULTS}/{{lora_dir}}/{{name}}/adapter.json",
    log:
        f"{RESULTS}/logs/train/{{lora_dir}}/{{name}}.log",
    params:
        launch=_TRAIN.get("launch", ""),
        model=lora_model(),
        out=lambda wc: f"{RESULTS}/{wc.lora_dir}/{wc.name}",
        variant=lambda wc: {d: v for v, d in VARIANT_DIRS.items()}[wc.lora_dir],
        opts=cli_set({k: v for k, v in _TRAIN.items() if k not in _TRAIN_WORKFLOW_KEYS}),
    threads: _THREADS
    resources:
        gpu=_GPUS,
    shell:
        "OMP_NUM_THREADS={threads} {params.launch} {LIONLORA} -q train --model {params.model} --manifest {input.manifest} "
        "--lora {wildcards.name} --out {params.out} --variant {params.variant} {params.opts} > {log} 2>&1"


rule generate_video:
    input:
        clip=f"{RESULTS}/clips/{{scene}}/{{primitive}}/clip.mp4",
        cameras=f"{RESULTS}/clips/{{scene}}/{{primitive}}/cameras.json",
        adapters=lambda wc: [
            f"{adapter_dir(n, wc.method)}/adapter.safetensors" for n in video_loras(wc.method, wc.primitive)
        ],
        model=lora_model_input,
    output:
        video=f"{RESULTS}/generated/{{method}}/{{scene}}__{{primitive}}/clip.mp4",
        cameras=f"{RESULTS}/generated/{{method}}/{{scene}}__{{primitive}}/cameras.json",
    log:
        f"{RESULTS}/logs/generate/{{method}}/{{scene}}__{{primitive}}.log",
    params:
        model=lora_model(),
        loras=lambda wc: " ".join(
            f"--lora {n}={adapter_dir(n, wc.method)}:{_GENERATE.get('scale', 1.0)}"
            for n in video_loras(wc.method, wc.primitive)
        ),
        flags=lambda wc: METHOD_FLAGS[wc.method],
        prompt=lambda wc: shlex.quote(scene_prompt_of(wc.scene)),
        opts=cli_set({k: v for k, v in _GENERATE.items() if k not in _GENERATE_WORKFLOW_KEYS}),
    threads: _THREADS
    resources:
        gpu=_GPUS,
    shell:
        "OMP_NUM_THREADS={threads} {LIONLORA} -q generate --model {params.model} --image {input.clip} --prompt {params.prompt} "
        "{params.loras} {params.flags} --cameras {input.cameras} --out {output.video} {params.opts} > {log} 2>&1"


rule analyze_loras:
    input:
        adapters=[f"{RESULTS}/lora/{n}/adapter.safetensors" for n in _TRAIN.get("adapters", [])],
        images=[f"{RESULTS}/clips/{s}/{_TRAIN['adapters'][0]}/clip.mp4" for s in scene_ids()]
        if _TRAIN.get("adapters") else [],
        model=lora_model_input,
    output:
        summary=f"{RESULTS}/figures/lora_analysis/summary.json",
        similarity=f"{RESULTS}/figures/lora_analysis/similarity.png",
        norms=f"{RESULTS}/figures/lora_analysis/norms.png",
    log:
        f"{RESULTS}/logs/analyze_loras.log",
    params:
        model=lora_model(),
        loras=" ".join(f"--lora {n}={RESULTS}/lora/{n}" for n in _TRAIN.get("adapters", [])),
        images=lambda wc, input: " ".join(f"--image {shlex.quote(f)}" for f in input.images),
        out=f"{RESULTS}/figures/lora_analysis",
    threads: _THREADS
    resources:
        gpu=_GPUS,
    shell:
        "OMP_NUM_THREADS={threads} {LIONLORA} -q analyze --model {params.model} {params.loras} {params.images} --out {params.out} > {log} 2>&1"


# Targets. The demo model has no other input; the adapters need RESULTS/pairs/manifest.csv and the
# videos RESULTS/clips/..., written by the pairs and render stages: TRAIN_TARGETS, GENERATE_TARGETS
# and ANALYZE_TARGETS are listed here for `rule all` once those stages are in the workflow.
if _DEMO:
    ALL_TARGETS.append(f"{RESULTS}/models/tiny")

TRAIN_TARGETS = [f"{RESULTS}/lora/{n}/adapter.safetensors" for n in _TRAIN.get("adapters", [])]
GENERATE_TARGETS = [
    f"{RESULTS}/generated/{m}/{s}__{p}/clip.mp4"
    for m in _GENERATE.get("methods", [])
    for s in eval_scene_ids()
    for p in _GENERATE.get("primitives", [])
]



def check_generation_prompts():
    """CFG > 1 with a prompt equal to the negative prompt guides nothing: refused at plan time."""
    from lionlora.apps.generate import GenerateConfig, check_guidance
    from lionlora.errors import ConfigError

    if not _GENERATE.get("methods"):
        return
    cfg = GenerateConfig(cfg=float(_GENERATE.get("cfg", 6.0)), negative_prompt=str(_GENERATE.get("negative_prompt", "")))
    for scene in eval_scene_ids():
        try:
            check_guidance(cfg, scene_prompt_of(scene))
        except ConfigError as exc:
            raise WorkflowError(f"config generate (scene {scene}): {exc}") from None


check_generation_prompts()
ANALYZE_TARGETS = [f"{RESULTS}/figures/lora_analysis/summary.json"] if len(_TRAIN.get("adapters", [])) >= 2 else []
ALL_TARGETS.extend(TRAIN_TARGETS + ANALYZE_TARGETS)
