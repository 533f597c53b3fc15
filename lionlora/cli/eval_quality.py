"""``lionlora eval fvd | frechet | motion | motion-manifest | camera-linearity | i3d-init | figures``: video quality and linearity."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionlora.config import add_config_options


def register(actions: argparse._SubParsersAction) -> None:
    from lionlora.eval.quality.config import CameraLinearityConfig, FvdConfig, MotionConfig

    p = actions.add_parser("fvd", help="FVD of generated videos against real ones (local I3D weights)")
    p.add_argument("--real", type=Path, required=True, help="folder of real videos (searched recursively)")
    p.add_argument("--fake", type=Path, required=True, help="folder of generated videos (searched recursively)")
    p.add_argument("--out", type=Path, required=True, help="output JSON (fvd, n_real, n_fake and every choice)")
    add_config_options(p, FvdConfig)
    p.set_defaults(func=_fvd, out_kind="file")

    p = actions.add_parser("frechet", help="Frechet distance between two saved feature arrays [N, D]")
    p.add_argument("--real-features", type=Path, required=True, help=".npy array [N_real, D]")
    p.add_argument("--fake-features", type=Path, required=True, help=".npy array [N_fake, D]")
    p.add_argument("--out", type=Path, required=True, help="output JSON (fvd, n_real, n_fake, ...)")
    p.add_argument(
        "--covariance",
        choices=["sample", "population"],
        default="sample",
        help="covariance divisor N-1 (sample, default) or N (population)",
    )
    p.add_argument(
        "--sqrt",
        choices=["scipy", "trace_sqrt"],
        default="scipy",
        help="scipy.linalg.sqrtm real part (default) or TF-GAN trace-sqrt",
    )
    p.set_defaults(func=_frechet, out_kind="file")

    for name, column, what, cls in (
        ("motion", "video", "optical-flow magnitude", MotionConfig),
        ("camera-linearity", "camera", "recovered camera motion", CameraLinearityConfig),
    ):
        p = actions.add_parser(name, help=f"Pearson correlation between the scaling value S and {what}")
        p.add_argument(
            "--manifest",
            type=Path,
            required=True,
            help=f"CSV with columns {column},scale ({column} paths relative to the CSV's folder)",
        )
        p.add_argument("--out", type=Path, required=True, help="output JSON; the per-video CSV goes beside it")
        p.add_argument("--label", default=None, help="series label for figures (default: OUT's folder name)")
        p.add_argument("--step", type=int, default=None, help="training step of the checkpoint (Fig. 6)")
        if cls is MotionConfig:
            p.add_argument(
                "--flow-backend",
                default=None,
                metavar="NAME",
                help="shorthand for --set flow.backend=NAME (dis, farneback, raft)",
            )
        add_config_options(p, cls)
        p.set_defaults(func=_linearity, out_kind="file", kind=name)

    p = actions.add_parser(
        "motion-manifest",
        help="video,scale manifest of generated videos (for eval motion)",
        description="Read the S of each video from the .json record that `lionlora "
        "generate` writes beside it and write the manifest `eval motion` takes.",
    )
    p.add_argument("--videos", type=Path, nargs="+", required=True, help="generated videos (V.json beside each)")
    p.add_argument("--out", type=Path, required=True, help="output CSV (video paths relative to its folder)")
    p.set_defaults(func=_motion_manifest, out_kind="file")

    p = actions.add_parser(
        "i3d-init",
        help="write a RANDOMLY initialised I3D state dict (demo only, FVDs with it are not comparable to the paper)",
    )
    p.add_argument("--out", type=Path, required=True, help="output .pt (VideoGPT/TATS layout) + OUT.json sidecar")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_i3d_init, out_kind="file")

    p = actions.add_parser("figures", help="Fig. 6 (correlation vs step) or Fig. 10 (magnitude vs S) as PNG")
    p.add_argument("figure", choices=["fig6", "fig10"], help="fig6: r vs training step; fig10: magnitude vs S")
    p.add_argument(
        "--inputs",
        type=Path,
        nargs="+",
        required=True,
        help="linearity JSONs from `eval motion` / `eval camera-linearity`",
    )
    p.add_argument("--out", type=Path, required=True, help="output PNG")
    p.add_argument("--title", default=None, help="figure title")
    p.set_defaults(func=_figures, out_kind="file")


def _fvd(args: argparse.Namespace) -> int:
    from lionlora.config import config_from_args
    from lionlora.eval.quality.config import FvdConfig
    from lionlora.eval.quality.fvd import compute_fvd

    cfg = config_from_args(FvdConfig, args)
    rec = compute_fvd(args.real, args.fake, cfg, args.out)
    tag = "" if rec["comparable_to_paper"] else "  [not comparable to the paper: see comparable_note]"
    print(
        f"FVD {rec['fvd']:.3f}  ({rec['n_real']} real, {rec['n_fake']} fake, preset {cfg.preset}, "
        f"frames {cfg.frames}){tag} -> {args.out}"
    )
    return 0


def _frechet(args: argparse.Namespace) -> int:
    from lionlora.eval.quality.fvd import frechet_files

    rec = frechet_files(args.real_features, args.fake_features, args.covariance, args.sqrt, args.out)
    print(
        f"Frechet distance {rec['fvd']:.4f}  ({rec['n_real']} real, {rec['n_fake']} fake, "
        f"{rec['feature_dim']}-d) -> {args.out}"
    )
    return 0


def _motion_manifest(args: argparse.Namespace) -> int:
    from lionlora.eval.quality.motion import manifest_from_records

    out = manifest_from_records(args.videos, args.out)
    print(f"{len(args.videos)} videos -> {out}")
    return 0


def _linearity(args: argparse.Namespace) -> int:
    from lionlora.config import config_from_args
    from lionlora.eval.quality.config import CameraLinearityConfig, MotionConfig
    from lionlora.eval.quality.motion import camera_linearity, motion_linearity

    if args.kind == "motion":
        if args.flow_backend:
            args.overrides = [*args.overrides, f"flow.backend={args.flow_backend}"]
        cfg, fn = config_from_args(MotionConfig, args), motion_linearity
    else:
        cfg, fn = config_from_args(CameraLinearityConfig, args), camera_linearity
    rec = fn(args.manifest, args.out, cfg, label=args.label, step=args.step)
    print(
        f"Pearson r {rec['pearson_r']:.4f} (p {rec['p_value']:.3g}, n {rec['n']}, {rec['n_failed']} failed); "
        f"{rec['magnitude']} = {rec['slope']:.4g} * S + {rec['intercept']:.4g} -> {args.out}"
    )
    return 0


def _i3d_init(args: argparse.Namespace) -> int:
    from lionlora.eval.quality.weights import RANDOM_NOTE, write_random_i3d
    from lionlora.io.files import sha256_file

    out = write_random_i3d(args.out, seed=args.seed)
    print(f"{out} (sha256 {sha256_file(out)}): {RANDOM_NOTE}")
    return 0


def _figures(args: argparse.Namespace) -> int:
    from lionlora.eval.quality.figures import plot_correlation_vs_step, plot_magnitude_vs_scale

    fn = plot_correlation_vs_step if args.figure == "fig6" else plot_magnitude_vs_scale
    print(fn(args.inputs, args.out, args.title))
    return 0
