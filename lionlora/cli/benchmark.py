"""``lionlora benchmark suite|run|generate`` and ``lionlora export-lora``: the benchmark anyone can feed."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionlora.cli.lora import add_adapter_scale_flag
from lionlora.config import add_config_options


def register(sub: argparse._SubParsersAction) -> None:
    from lionlora.apps.generate import GenerateConfig
    from lionlora.eval.camera.config import CameraEvalConfig

    b = sub.add_parser(
        "benchmark", help="portable benchmark suite; score any method's videos beside the paper's tables"
    )
    actions = b.add_subparsers(dest="benchmark_command", metavar="ACTION", required=True)

    s = actions.add_parser("suite", help="build a suite (image, cameras, RE10K cameras, prompt per sample) from clips")
    s.add_argument("--clips", type=Path, required=True, help="render stage's clips: ROOT/{scene}/{primitive}/clip.mp4")
    s.add_argument("--out", type=Path, required=True, help="suite folder")
    s.add_argument("--frames", type=int, default=49, help="frames per sample, evenly over the whole clip (default: 49)")
    s.add_argument("--height", type=int, default=480, help="frame height (default: 480)")
    s.add_argument("--width", type=int, default=720, help="frame width (default: 720)")
    s.add_argument("--prompts", type=Path, default=None, help="CSV with columns scene,prompt (default: a template)")
    s.set_defaults(func=_suite, out_kind="folder")

    r = actions.add_parser("run", help="score folders of videos (one per sample) against a suite")
    r.add_argument("--suite", type=Path, required=True, help="suite folder (lionlora benchmark suite)")
    r.add_argument(
        "--videos",
        action="append",
        default=[],
        required=True,
        metavar="NAME=DIR",
        help="a method's videos (repeatable)",
    )
    r.add_argument("--out", type=Path, required=True, help="output folder (tables, figures, per-video cache)")
    r.add_argument("--real", type=Path, default=None, help="real videos for FVD (with --i3d)")
    r.add_argument("--i3d", type=Path, default=None, help="I3D weights for FVD (with --real)")
    r.add_argument("--baseline", default=None, help="the --videos NAME of the no-control baseline (failure penalty)")
    r.add_argument("--jobs", type=int, default=1, help="videos scored in parallel, one process each (default: 1)")
    r.add_argument("--no-figures", dest="figures", action="store_false", help="skip the figures")
    add_config_options(r, CameraEvalConfig)
    r.set_defaults(func=_run, out_kind="folder")

    g = actions.add_parser("generate", help="generate every suite sample from LiON-LoRA or diffusers LoRA files")
    g.add_argument("--suite", type=Path, required=True, help="suite folder")
    g.add_argument(
        "--lora",
        action="append",
        default=[],
        required=True,
        metavar="NAME=PATH[:S]",
        help="adapter of primitive NAME (LiON-LoRA adapter or diffusers LoRA file); S: scaling value, or "
        "the adapter scale of a plain LoRA (default 1; repeatable)",
    )
    g.add_argument("--out", type=Path, required=True, help="output folder: {sample}.mp4 per sample")
    add_adapter_scale_flag(g)
    add_config_options(g, GenerateConfig, skip=("adapter_scale", "cameras_scale"))
    g.set_defaults(func=_generate, out_kind="folder")

    e = sub.add_parser("export-lora", help="write the LoRA part of an adapter as a diffusers LoRA file")
    e.add_argument("--adapter", type=Path, required=True, help="adapter folder or adapter.safetensors")
    e.add_argument("--out", type=Path, required=True, help="output .safetensors (diffusers load_lora_weights)")
    e.set_defaults(func=_export, out_kind="file")


def _suite(args: argparse.Namespace) -> int:
    from lionlora.benchmark.suite import SuiteConfig, build_suite

    cfg = SuiteConfig(frames=args.frames, height=args.height, width=args.width)
    manifest = build_suite(args.clips, args.out, cfg, prompts=args.prompts)
    print(f"{args.out}: {len(manifest.samples)} samples of {len(manifest.scenes)} scenes, {cfg.frames} frames")
    return 0


def _run(args: argparse.Namespace) -> int:
    from lionlora.benchmark.run import parse_videos, run_benchmark
    from lionlora.config import config_from_args
    from lionlora.eval.camera.config import CameraEvalConfig

    camera = config_from_args(CameraEvalConfig, args)
    rec = run_benchmark(
        args.suite,
        parse_videos(args.videos),
        args.out,
        camera,
        jobs=args.jobs,
        baseline=args.baseline,
        real=args.real,
        i3d=args.i3d,
        figures=args.figures,
    )
    counts = ", ".join(
        f"{m}: {c['ok']} ok/{c['failed']} failed/{c['missing']} missing" for m, c in rec["counts"].items()
    )
    t = rec["timing"]
    print(f"{args.out}: {counts}; {t['videos_scored']} scored, {t['videos_cached']} cached in {t['seconds']} s")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from lionlora.apps import generate as generate_app
    from lionlora.benchmark.generate import generate_suite
    from lionlora.config import config_from_args

    cfg = config_from_args(generate_app.GenerateConfig, args)
    specs = [generate_app.parse_lora_spec(item) for item in args.lora]
    rec = generate_suite(args.suite, cfg, specs, args.out)
    print(f"{args.out}: {len(rec['videos'])} videos, {cfg.fusion} fusion")
    return 0


def _export(args: argparse.Namespace) -> int:
    from lionlora.lora.diffusers_io import export_diffusers

    s = export_diffusers(args.adapter, args.out)
    note = "; scaling token left out (no diffusers equivalent)" if s["token_dropped"] else ""
    print(f"{args.out}: {s['name']}, rank {s['rank']}, {s['layers']} LoRA layers{note}")
    return 0
