"""``lionlora reconstruct`` (3DGS of a scene) and ``lionlora render`` (a camera-primitive clip)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionlora.config import add_config_options


def register(sub: argparse._SubParsersAction) -> None:
    from lionlora.pipelines.gaussians.config import ReconstructConfig
    from lionlora.pipelines.render.config import RenderConfig

    r = sub.add_parser(
        "reconstruct",
        help="3D Gaussian Splatting of a DL3DV-format scene -> point_cloud.ply + metrics.json",
        description="Optimise 3D Gaussians on a scene (every 8th image held out for PSNR/SSIM) and "
        "write OUT/point_cloud.ply (standard 3DGS layout), OUT/metrics.json, "
        "OUT/heldout.png and the resolved config.",
    )
    r.add_argument("--scene", type=Path, required=True, help="scene folder (transforms.json, images_N/, colmap/)")
    r.add_argument("--out", type=Path, required=True, help="output folder")
    add_config_options(r, ReconstructConfig)
    r.set_defaults(func=_reconstruct, out_kind="folder")

    v = sub.add_parser(
        "render",
        help="render a camera-primitive clip from 3D Gaussians -> clip.mp4 + cameras.json",
        description="Render the clip of a primitive (pan_left, pan_right, pan_up, pan_down, dolly_in, "
        "dolly_out, orbit_left, orbit_right) or of several joined with '+', starting at "
        "a scene camera, with distances scaled by the start view's median depth.",
    )
    v.add_argument("--splat", type=Path, required=True, help="3DGS .ply (from lionlora reconstruct)")
    v.add_argument("--scene", type=Path, required=True, help="the scene folder (start camera and intrinsics)")
    v.add_argument("--primitive", required=True, metavar="NAME[+NAME...]", help="camera primitive(s)")
    v.add_argument("--out", type=Path, required=True, help="output clip folder")
    add_config_options(v, RenderConfig)
    v.set_defaults(func=_render, out_kind="folder")


def _reconstruct(args: argparse.Namespace) -> int:
    from lionlora.config import config_from_args
    from lionlora.pipelines.gaussians import ReconstructConfig, reconstruct

    m = reconstruct(args.scene, args.out, config_from_args(ReconstructConfig, args))
    init = "" if m.get("psnr_init") is None else f" (initialisation {m['psnr_init']:.2f} dB)"
    psnr = "n/a" if m.get("psnr") is None else f"{m['psnr']:.2f} dB"
    ssim = "n/a" if m.get("ssim") is None else f"{m['ssim']:.3f}"
    print(f"{args.out}: held-out PSNR {psnr}{init}, SSIM {ssim}, {m['n_gaussians']} Gaussians, engine {m['engine']}")
    return 0


def _render(args: argparse.Namespace) -> int:
    from lionlora.config import config_from_args
    from lionlora.pipelines.render import RenderConfig, render_clip

    meta = render_clip(args.splat, args.scene, args.primitive, args.out, config_from_args(RenderConfig, args))
    print(f"{args.out}: {meta['primitive']}, {meta['frames']} frames, median depth {meta['median_depth']:.3f}")
    return 0
