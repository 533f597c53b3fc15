"""What the demo's pretrained tiny CogVideoX and its LoRAs reach: issue 16's targets (a)-(e).

    .venv/bin/python benchmarks/demo_learning.py [--results results/demo] [--samples 20] [--work DIR]

(a) Base videos from held-out first frames register in SfM (required: >= 80%). The first frames
    are the first views of random paths drawn with a seed the pretraining never used; the base
    model (no LoRA) generates a video from each with the demo's sampler settings, and the demo's
    ``eval_camera`` settings recover its cameras. A video counts when every frame registers.
(b) LiON-LoRA's RotErr and TransErr on the basic primitives lower than base's with
    non-overlapping 95% CIs, at a success rate >= 80% (from RESULTS/tables/camera_metrics.csv).
(c) Camera linearity: Pearson r of S against the recovered rotation of ``orbit_left`` videos
    (degrees, scale-free) >= 0.9 with the scaling token, and higher than with the adapter scale
    (plain LoRA scaled by S). Generated here at S = 0.4, 0.6, 0.8, 1.0 from ``--linearity-images``
    held-out first frames.
(d) Fused primitives: LiON fusion's ATE at most vanilla fusion's (camera_metrics.csv, split fused).
(e) Motion LoRA: Pearson r of S against optical-flow magnitude >= 0.9 (RESULTS/eval/lionlora/motion.json).

Prints one Markdown table (target, measured, reached) and writes it with the per-video rows
under ``--work``. Needs a finished demo run (`snakemake --cores 2`) with ``train.model: pretrained``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import tempfile
from pathlib import Path

from _common import REPO, demo_section

HELD_OUT_SEED = 1_000_003  # pretraining draws its paths with seeds `seed` and `seed + 1`
SCALES = (0.4, 0.6, 0.8, 1.0)


def _eval_config():
    """The demo's ``eval_camera`` settings with one pycolmap thread, as the workflow's jobs run it
    (``lionlora --threads 1``): with more threads GLOMAP's result varies from run to run on the
    same frames (TransErr 8.11 and 12.90 on one video), with one it does not."""
    from lionlora.config import from_dict
    from lionlora.eval.camera.config import CameraEvalConfig

    return from_dict(CameraEvalConfig, {**demo_section("eval_camera"), "num_threads": 1})


def _generate_config(model: Path, **kw):
    from lionlora.apps.generate import GenerateConfig

    g = demo_section("generate")
    return GenerateConfig(model=str(model), steps=g.get("steps", 50), cfg=g.get("cfg", 6.0), **kw)


def held_out_clips(model: Path, n: int):
    """``n`` random paths of the room (first frames and cameras) the pretraining never drew."""
    from lionlora.apps.pretrain import PretrainConfig, render_clips
    from lionlora.config import from_dict

    summary = json.loads((model / "pretrain.json").read_text())
    cfg = from_dict(PretrainConfig, summary["config"])
    return cfg, render_clips(cfg, n, seed=HELD_OUT_SEED)


def sfm(video, c2w, cfg_model, work: Path, name: str) -> dict:
    """``eval camera`` on generated frames with the path's cameras as ground truth."""
    from lionlora.eval.camera.evaluate import evaluate_camera
    from lionlora.geometry.camera import Intrinsics, Trajectory
    from lionlora.io.cameras_json import write_cameras
    from lionlora.io.video import write_image

    folder = work / name
    for i, frame in enumerate(video):
        write_image(folder / "frames" / f"{i:04d}.png", frame)
    K = Intrinsics.from_fov(68.0, cfg_model.width, cfg_model.height).scaled(video.shape[2], video.shape[1])
    write_cameras(folder / "gt.json", Trajectory(c2w=c2w[: len(video)], intrinsics=K))
    return evaluate_camera(folder / "frames", folder / "gt.json", _eval_config(), cameras_out=folder / "cameras.json")


def target_a(model: Path, n: int, work: Path, prompt: str) -> tuple[float, list[dict]]:
    from tqdm import tqdm

    from lionlora.apps.generate import VideoGenerator

    cfg, clips = held_out_clips(model, n)
    gen = VideoGenerator(_generate_config(model), [])
    rows = []
    for i in tqdm(range(n), desc="(a) base videos"):
        video = gen(clips.video[i, 0], prompt)
        r = sfm(video, clips.c2w[i], cfg.model, work / "a", f"heldout_{i:02d}")
        rows.append({"sample": i, "kind": clips.kinds[i], "status": r["status"], "registered": r["registered"]})
    ok = sum(r["status"] == "ok" for r in rows)
    return ok / n, rows


def target_c(model: Path, results: Path, n: int, work: Path, prompt: str) -> dict:
    from tqdm import tqdm

    from lionlora.apps.generate import LoraSpec, VideoGenerator
    from lionlora.eval.quality.motion import camera_magnitude, linear_fit

    cfg, clips = held_out_clips(model, n)
    out = {}
    for method, folder, extra in (
        ("lionlora", results / "lora" / "orbit_left", {}),
        ("adapter_scale", results / "lora_plain" / "orbit_left", {"adapter_scale": True}),
    ):
        if not folder.is_dir():
            out[method] = {"pearson_r": None, "reason": f"{folder} missing"}
            continue
        scales, mags = [], []
        for s in tqdm(SCALES, desc=f"(c) {method}"):
            gen = VideoGenerator(_generate_config(model, **extra), [LoraSpec("orbit_left", folder, s)])
            for i in range(n):
                r = sfm(gen(clips.video[i, 0], prompt), clips.c2w[i], cfg.model, work / "c", f"{method}_{s}_{i}")
                if r["status"] == "ok":
                    scales.append(s)
                    mags.append(camera_magnitude(work / "c" / f"{method}_{s}_{i}" / "cameras.json", "rotation"))
        try:
            out[method] = {**linear_fit(scales, mags, "orbit_left"), "videos": len(scales)}
        except Exception as exc:  # too few registered videos: r is undefined, say why
            out[method] = {"pearson_r": None, "videos": len(scales), "reason": str(exc).splitlines()[0]}
    return out


def _metrics(results: Path) -> dict:
    path = results / "tables" / "camera_metrics.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        return {(r["method"], r["split"]): r for r in csv.DictReader(fh)}


def _f(row: dict | None, key: str) -> float | None:
    value = (row or {}).get(key, "")
    return float(value) if value not in ("", None) else None


def target_b(m: dict) -> tuple[str, bool]:
    lion, base = m.get(("lionlora", "basic")), m.get(("base", "basic"))
    rate = _f(lion, "success_rate")
    parts, ok = [f"success {rate}"], rate is not None and rate >= 0.8
    for key in ("rot_err", "trans_err"):
        hi, lo = _f(lion, f"{key}_ci_high"), _f(base, f"{key}_ci_low")
        parts.append(f"{key} lion CI high {hi} vs base CI low {lo}")
        ok = ok and hi is not None and lo is not None and hi < lo
    return "; ".join(parts), ok


def target_d(m: dict) -> tuple[str, bool]:
    lion, van = _f(m.get(("lionlora", "fused")), "ate_mean"), _f(m.get(("vanilla", "fused")), "ate_mean")
    return f"ATE lion {lion} vs vanilla {van}", lion is not None and van is not None and lion <= van


def target_e(results: Path) -> tuple[str, bool]:
    path = results / "eval" / "lionlora" / "motion.json"
    if not path.is_file():
        return f"{path} missing", False
    rec = json.loads(path.read_text())
    r = rec.get("pearson_r")
    reached = r is not None and math.isfinite(r) and r >= 0.9
    return f"r = {r} (n = {rec.get('n')} videos, p = {rec.get('p_value')})", reached


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=REPO / "results" / "demo")
    ap.add_argument("--model", type=Path, default=None, help="default: RESULTS/models/pretrained")
    ap.add_argument("--samples", type=int, default=20, help="held-out first frames for (a)")
    ap.add_argument("--linearity-images", type=int, default=3, help="held-out first frames per S for (c)")
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "0")
    model = args.model or args.results / "models" / "pretrained"
    work = args.work or Path(tempfile.mkdtemp(prefix="demo_learning."))
    prompt = demo_section("generate").get("prompt", "")
    rate, rows = target_a(model, args.samples, work, prompt)
    lin = target_c(model, args.results, args.linearity_images, work, prompt)
    m = _metrics(args.results)
    b, b_ok = target_b(m)
    d, d_ok = target_d(m)
    e, e_ok = target_e(args.results)
    r_lion, r_scale = lin["lionlora"].get("pearson_r"), lin["adapter_scale"].get("pearson_r")
    c_ok = r_lion is not None and r_lion >= 0.9 and (r_scale is None or r_lion > r_scale)
    table = [
        "| target | measured | reached |",
        "| --- | --- | --- |",
        f"| (a) base videos register in SfM >= 80% (required) | {rate:.0%} of {args.samples} held-out first frames "
        f"(frames registered: {[r['registered'] for r in rows]}) | {'yes' if rate >= 0.8 else 'no'} |",
        f"| (b) LiON RotErr/TransErr below base, CIs apart, success >= 80% | {b} | {'yes' if b_ok else 'no'} |",
        f"| (c) camera linearity r >= 0.9 and above the adapter scale | scaling token: {lin['lionlora']}; "
        f"adapter scale: {lin['adapter_scale']} | {'yes' if c_ok else 'no'} |",
        f"| (d) LiON fusion ATE <= vanilla fusion ATE | {d} | {'yes' if d_ok else 'no'} |",
        f"| (e) motion LoRA r >= 0.9 | {e} | {'yes' if e_ok else 'no'} |",
    ]
    print("\n".join(table))
    (work / "demo_learning.md").write_text("\n".join(table) + "\n")
    with open(work / "target_a.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"per-video rows and the table: {work}")


if __name__ == "__main__":
    main()
