"""``lionlora train | generate | demo-model | analyze``: the LiON-LoRA method on CogVideoX."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionlora.config import add_config_options


def register(sub: argparse._SubParsersAction) -> None:
    from lionlora.apps.analyze import AnalyzeConfig
    from lionlora.apps.demo_model import TinyModelConfig
    from lionlora.apps.generate import GenerateConfig
    from lionlora.apps.train import TrainConfig

    t = sub.add_parser("train", help="train one LiON-LoRA adapter (LoRA + scaling token) on a pairs manifest")
    add_config_options(t, TrainConfig)
    t.set_defaults(func=_train, out_kind="folder")

    g = sub.add_parser("generate", help="image-to-video with any number of fused LiON-LoRA adapters")
    g.add_argument(
        "--image",
        type=Path,
        help="conditioning first frame (image, or a video's first frame); required without --video",
    )
    g.add_argument("--prompt", help="text prompt; required without --video")
    g.add_argument(
        "--lora",
        action="append",
        default=[],
        metavar="NAME=PATH[:S]",
        help="adapter NAME stored at PATH (folder or adapter.safetensors) at scaling value S (default 1; repeatable)",
    )
    g.add_argument(
        "--weight", action="append", default=[], metavar="NAME=X", help="lambda_i of adapter NAME (eq. 3; default 1)"
    )
    g.add_argument(
        "--out", type=Path, help="output video (.mp4); a .json record is written beside it; required without --video"
    )
    g.add_argument(
        "--cameras",
        type=Path,
        default=None,
        help="GT cameras.json of the conditioning trajectory: its frames at S are written beside the video",
    )
    g.add_argument(
        "--vanilla-fusion",
        dest="cfg_fusion",
        action="store_const",
        const="vanilla",
        help="baseline of Fig. 2: vanilla fusion (eq. 3), joint attention, no norm consistency",
    )
    g.add_argument(
        "--video",
        action="append",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="one video of a batch, all from one loaded model (repeatable): out=PATH [image=PATH] [prompt=TEXT] "
        "[cameras=PATH] [lora=NAME=PATH[:S] ...]; image, prompt and cameras default to --image, --prompt and "
        "--cameras; no --out or --lora with it",
    )
    add_adapter_scale_flag(g)
    add_config_options(g, GenerateConfig, skip=("adapter_scale",))
    g.set_defaults(func=_generate, out_kind="file")

    d = sub.add_parser(
        "demo-model",
        help="write a tiny CogVideoX I2V pipeline (save_pretrained): random-init, or --pretrain on the embedded room",
    )
    d.add_argument("--out", type=Path, required=True, help="output folder")
    d.add_argument(
        "--pretrain",
        action="store_true",
        help="train it on CPU on clips of the embedded room along random camera paths (options: PretrainConfig, "
        "--config/--set; without it the options are TinyModelConfig's)",
    )
    add_config_options(d, TinyModelConfig)
    d.set_defaults(func=_demo_model, out_kind="folder")

    a = sub.add_parser("analyze", help="per-block cosine similarity (Fig. 4) and output norms (Fig. 5) of LoRAs")
    a.add_argument(
        "--lora",
        action="append",
        default=[],
        required=True,
        metavar="NAME=PATH[:S]",
        help="adapter NAME stored at PATH (at least two, each once; the syntax of generate, S is not used)",
    )
    a.add_argument(
        "--image",
        action="append",
        type=Path,
        default=[],
        required=True,
        help="conditioning image or video (repeatable; each is one sample per timestep)",
    )
    a.add_argument("--prompt", default="", help="text prompt of the probe")
    a.add_argument("--out", type=Path, required=True, help="output folder (CSV, PNG, summary.json)")
    add_config_options(a, AnalyzeConfig)
    a.set_defaults(func=_analyze, out_kind="folder")


def _train(args: argparse.Namespace) -> int:
    from lionlora.apps.train import TrainConfig, train
    from lionlora.config import config_from_args

    cfg = config_from_args(TrainConfig, args)
    s = train(cfg)
    print(
        f"{cfg.lora}: {s['steps']} steps (resumed from {s['resumed_from']}), loss {s['final_loss']:.4f}, "
        f"eval loss {s['eval_loss_before']} -> {s['eval_loss_after']} -> {cfg.out}"
    )
    return 0


def _generate(args: argparse.Namespace) -> int:
    from lionlora.apps import generate as app
    from lionlora.config import config_from_args
    from lionlora.errors import ConfigError

    cfg = config_from_args(app.GenerateConfig, args)
    if args.video:
        given = [flag for flag, value in (("--out", args.out), ("--lora", args.lora)) if value]
        if given:
            raise ConfigError("--video", given[0], "out=... and lora=... inside each --video", got=given)
        jobs = [app.parse_video_job(fields, args.image, args.prompt, args.cameras) for fields in args.video]
        records = app.generate_videos(cfg, jobs, args.weight)
    else:
        missing = [f"--{k}" for k in ("image", "prompt", "out") if getattr(args, k) is None]
        if missing:
            raise ConfigError("generate", missing[0], "--image, --prompt and --out (or --video)", got=missing)
        jobs = [
            app.VideoJob(args.out, args.image, args.prompt, args.cameras, [app.parse_lora_spec(s) for s in args.lora])
        ]
        app.apply_weights(jobs[0].specs, args.weight)
        records = [app.generate_to_file(cfg, args.image, args.prompt, jobs[0].specs, args.out, cameras=args.cameras)]
    for job, rec in zip(jobs, records):
        print(
            f"{job.out}: {rec['frames']} frames {rec['width']}x{rec['height']}, "
            f"{len(job.specs)} LoRA(s), {cfg.fusion} fusion, {rec['seconds']:.1f} s"
        )
    return 0


def _demo_model(args: argparse.Namespace) -> int:
    from lionlora.apps.demo_model import TinyModelConfig, save_tiny_model
    from lionlora.config import config_from_args

    if args.pretrain:
        from lionlora.apps.pretrain import PretrainConfig, pretrain
        from lionlora.config import load_config

        # the model-size flags (--height, --layers, ...) are TinyModelConfig's: they set model.*
        flags = [f"model.{k[4:]}={v}" for k, v in vars(args).items() if k.startswith("cfg_") and v is not None]
        cfg = load_config(PretrainConfig, args.config, overrides=flags + list(args.overrides))
        s = pretrain(cfg, args.out)
        print(
            f"{args.out}: tiny CogVideoX I2V pretrained in {s['seconds']['total']:.0f} s, VAE held-out PSNR "
            f"{s['vae_held_out_psnr']:.2f} dB, v-loss {s['transformer_first_loss']:.4f} -> {s['transformer_final_loss']:.4f}"
        )
        return 0
    out = save_tiny_model(args.out, config_from_args(TinyModelConfig, args))
    print(f"{out}: tiny CogVideoX I2V pipeline")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from lionlora.apps.analyze import AnalyzeConfig, analyze
    from lionlora.apps.generate import parse_lora_spec
    from lionlora.config import config_from_args
    from lionlora.errors import AdapterError

    cfg = config_from_args(AnalyzeConfig, args)
    loras: dict[str, Path] = {}
    for spec in map(parse_lora_spec, args.lora):
        if spec.name in loras:
            raise AdapterError("--lora", "NAME", "each adapter once", got=spec.name)
        loras[spec.name] = spec.path
    s = analyze(cfg, loras, args.image, args.prompt, args.out)
    keys = [k for k in s if k.startswith("cosine_")]
    print(f"{args.out}: {s['samples']} samples; " + ", ".join(f"{k}={s[k]:.3f}" for k in keys))
    return 0


def add_adapter_scale_flag(parser: argparse.ArgumentParser) -> None:
    """``--adapter-scale``: the Fig. 10 baseline (GenerateConfig.adapter_scale), shared by the generating commands."""
    parser.add_argument(
        "--adapter-scale",
        dest="cfg_adapter_scale",
        action="store_const",
        const=True,
        help="baseline of Fig. 10: S multiplies the LoRA output; no scaling token",
    )
