"""The optional nerfstudio engine: ``ns-train splatfacto`` + ``ns-eval`` + ``ns-export gaussian-splat``.

nerfstudio trains in its own world: the scene's ``transforms.json`` world (``A @ world`` with
``A = applied_transform``), then its dataparser's orientation, centring and scale. The dataparser
is asked to leave poses alone, and whatever it still applied (``dataparser_transforms.json``) is
undone together with ``A`` so that the exported Gaussians land in the scene's SfM world like the
other engines' (SH coefficients are rotated exactly, see :func:`lionlora.pipelines.gaussians.sh.sh_rotation`).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from lionlora.config import dump_config
from lionlora.errors import DependencyError, LionLoraError
from lionlora.geometry.convert import homogeneous
from lionlora.geometry.se3 import Sim3
from lionlora.io.files import atomic_dir, read_json, write_json
from lionlora.pipelines.gaussians.config import MARKER, METRICS, ReconstructConfig
from lionlora.pipelines.gaussians.ply import read_ply, write_ply
from lionlora.scenes import load_scene

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "pip install -e '.[nerfstudio]' (about 3.5 GB; it downgrades gsplat and OpenCV, so use its own "
    "environment), or choose --engine torch / gsplat"
)


def ns_command(name: str) -> str:
    """Path of a nerfstudio command (next to this Python, else on PATH) or :class:`DependencyError`."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        raise DependencyError(f"the nerfstudio engine needs the '{name}' command of nerfstudio: {INSTALL_HINT}")
    return found


def _run(cmd: list[str], log_file: Path) -> None:
    log.info("running %s", " ".join(cmd))
    with open(log_file, "a") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        code = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise LionLoraError(f"{Path(cmd[0]).name} failed with exit status {code}; see {log_file}")


def _write_points_ply(path: Path, xyz: np.ndarray, rgb: np.ndarray) -> None:
    """A coloured point cloud (x y z float, red green blue uchar), binary little-endian."""
    v = np.zeros(
        len(xyz), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")]
    )
    v["x"], v["y"], v["z"] = xyz.T
    v["red"], v["green"], v["blue"] = np.asarray(rgb, np.uint8).T
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {len(v)}\nproperty float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    )
    path.write_bytes(header.encode("ascii") + v.tobytes())


def _prepare_data(scene, work: Path) -> Path:
    """A data folder for nerfstudio: links to the images, transforms.json pointing at the SfM points."""
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    meta = read_json(scene.root / "transforms.json", "a nerfstudio transforms.json")
    for folder in {Path(p).parent.name for p in scene.image_paths}:
        link = data / folder
        if not link.exists():
            link.symlink_to((scene.root / folder).resolve(), target_is_directory=True)
    if scene.points is not None and len(scene.points):
        A = homogeneous(np.asarray(meta.get("applied_transform", np.eye(4)[:3]), dtype=np.float64))
        xyz = scene.points @ A[:3, :3].T + A[:3, 3]
        _write_points_ply(data / "sparse_pc.ply", xyz, scene.colors)
        meta["ply_file_path"] = "sparse_pc.ply"
    write_json(data / "transforms.json", meta)
    return data


def to_scene_world(run_dir: Path, applied_transform: np.ndarray) -> Sim3:
    """The similarity mapping nerfstudio's model world back to the scene's SfM world."""
    dp = read_json(run_dir / "dataparser_transforms.json", "nerfstudio dataparser transforms")
    T = homogeneous(np.asarray(dp["transform"], dtype=np.float64))
    s = float(dp.get("scale", 1.0))
    A = homogeneous(applied_transform)
    # model = s * (T @ A @ world)  =>  world = (T A)^-1 (model / s), with T and A rigid
    M = np.linalg.inv(A) @ np.linalg.inv(T)
    return Sim3(1.0 / s, M[:3, :3], M[:3, 3])


def reconstruct_nerfstudio(scene_dir: str | Path, out: str | Path, cfg: ReconstructConfig) -> dict:
    """Train splatfacto on ``scene_dir`` and write ``out`` like :func:`lionlora.pipelines.gaussians.train.reconstruct`."""
    train_cmd, export_cmd, eval_cmd = ns_command("ns-train"), ns_command("ns-export"), ns_command("ns-eval")
    # nerfstudio reads the OPENCV coefficients of transforms.json and undistorts on its own
    scene = load_scene(scene_dir, downsample=cfg.downsample, undistort=False)
    out = Path(out)
    work = out.parent / f".{out.name}.nerfstudio"
    work.mkdir(parents=True, exist_ok=True)
    log_file = work / "nerfstudio.log"
    data = _prepare_data(scene, work)
    _run(
        [
            train_cmd,
            "splatfacto",
            "--data",
            str(data),
            "--output-dir",
            str(work / "runs"),
            "--experiment-name",
            "lionlora",
            "--timestamp",
            "run",
            "--max-num-iterations",
            str(cfg.steps),
            "--viewer.quit-on-train-completion",
            "True",
            "--pipeline.model.sh-degree",
            str(cfg.sh_degree),
            *cfg.nerfstudio_extra,
            "nerfstudio-data",
            "--downscale-factor",
            str(scene.downsample),
            "--eval-mode",
            "interval",
            "--eval-interval",
            str(cfg.test_every),
            "--orientation-method",
            "none",
            "--center-method",
            "none",
            "--auto-scale-poses",
            "False",
        ],
        log_file,
    )
    run_dir = work / "runs" / "lionlora" / "splatfacto" / "run"
    _run(
        [eval_cmd, "--load-config", str(run_dir / "config.yml"), "--output-path", str(work / "lionlora.eval.json")],
        log_file,
    )
    _run(
        [
            export_cmd,
            "gaussian-splat",
            "--load-config",
            str(run_dir / "config.yml"),
            "--output-dir",
            str(work / "export"),
        ],
        log_file,
    )
    meta = read_json(scene.root / "transforms.json", "a nerfstudio transforms.json")
    sim = to_scene_world(run_dir, np.asarray(meta.get("applied_transform", np.eye(4)[:3]), dtype=np.float64))
    gaussians = read_ply(work / "export" / "splat.ply").transformed(sim)
    results = read_json(work / "lionlora.eval.json", "ns-eval output").get("results", {})
    K = scene.cameras.intrinsics
    metrics = {
        "engine": "nerfstudio",
        "steps": cfg.steps,
        "sh_degree": cfg.sh_degree,
        "downsample": scene.downsample,
        "width": K.width,
        "height": K.height,
        "psnr": results.get("psnr"),
        "ssim": results.get("ssim"),
        "lpips": results.get("lpips"),
        "psnr_init": None,
        "ssim_init": None,
        "n_gaussians": len(gaussians),
        "scene": str(scene_dir),
    }
    with atomic_dir(out, MARKER) as tmp:
        write_ply(tmp / "point_cloud.ply", gaussians)
        shutil.copy(log_file, tmp / "nerfstudio.log")
        dump_config(cfg, tmp / MARKER)
        write_json(tmp / METRICS, metrics)
    shutil.rmtree(work, ignore_errors=True)
    return metrics
