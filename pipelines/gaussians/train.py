"""3DGS optimisation of a scene (torch or gsplat engine) with held-out PSNR/SSIM.

Every ``test_every``-th image (index % N == 0) is held out. Each step renders one training
image, takes ``(1 - lambda) L1 + lambda (1 - SSIM)``, steps one Adam per parameter and lets the
densification strategy clone, split and prune. Outputs (folder written atomically)::

    OUT/point_cloud.ply          the Gaussians, standard 3DGS layout (lionlora.pipelines.gaussians.ply)
    OUT/metrics.json             held-out PSNR/SSIM at initialisation and at the end, timings
    OUT/heldout.png              held-out images (top) and renders (bottom)
    OUT/reconstruct_config.json  the resolved config
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lionlora.config import dump_config
from lionlora.errors import SceneError
from lionlora.io.files import atomic_dir, write_json
from lionlora.io.video import write_image
from lionlora.pipelines.gaussians.config import MARKER, METRICS, ReconstructConfig
from lionlora.pipelines.gaussians.engines import Engine, get_engine, resolve_engine
from lionlora.pipelines.gaussians.metrics import psnr, ssim, ssim_reference
from lionlora.pipelines.gaussians.model import Gaussians, init_from_points, init_from_scene, random_points
from lionlora.pipelines.gaussians.nerfstudio import reconstruct_nerfstudio
from lionlora.pipelines.gaussians.ply import write_ply
from lionlora.pipelines.gaussians.strategy import Densifier
from lionlora.pipelines.gaussians.view import render
from lionlora.scenes import load_scene
from lionlora.scenes.triangulate import triangulated_points

log = logging.getLogger(__name__)


def split_indices(n: int, test_every: int) -> tuple[list[int], list[int]]:
    """(train, test) image indices: every ``test_every``-th image (index % N == 0) is held out."""
    test = [i for i in range(n) if i % test_every == 0]
    train = [i for i in range(n) if i % test_every != 0]
    return train, test


def scene_scale(c2w: np.ndarray) -> float:
    """1.1 x the largest distance of a camera centre from their mean (3DGS's scene extent), at least 1e-3."""
    centers = np.asarray(c2w)[:, :3, 3]
    return max(1.1 * float(np.linalg.norm(centers - centers.mean(0), axis=1).max()), 1e-3)


def _optimizers(params: dict, cfg: ReconstructConfig, scale: float) -> dict[str, torch.optim.Optimizer]:
    rates = {
        "means": cfg.lr_means * scale,
        "scales": cfg.lr_scales,
        "quats": cfg.lr_quats,
        "opacities": cfg.lr_opacities,
        "sh0": cfg.lr_sh0,
        "shN": cfg.lr_shN,
    }
    return {
        name: torch.optim.Adam([{"params": [p], "lr": rates[name], "name": name}], eps=1e-15)
        for name, p in params.items()
    }


def _strategy(engine: Engine, cfg: ReconstructConfig, scale: float):
    d = cfg.densify
    if engine.name == "gsplat":
        from gsplat import DefaultStrategy

        strategy = DefaultStrategy(
            prune_opa=d.prune_opa,
            grow_grad2d=d.grow_grad2d,
            grow_scale3d=d.grow_scale3d,
            prune_scale3d=d.prune_scale3d,
            prune_scale2d=d.prune_scale2d,
            refine_scale2d_stop_iter=d.refine_stop_iter if d.prune_scale2d > 0 else 0,
            refine_start_iter=d.refine_start_iter,
            refine_stop_iter=d.refine_stop_iter,
            reset_every=d.reset_every,
            refine_every=d.refine_every,
            verbose=False,
        )
        return strategy, strategy.initialize_state(scene_scale=scale)
    strategy = Densifier(d, scale, seed=cfg.seed)
    return strategy, strategy.initialize_state()


@torch.no_grad()
def evaluate(
    gaussians: Gaussians,
    engine: Engine,
    scene,
    indices: list[int],
    images: dict[int, torch.Tensor],
    background: torch.Tensor,
    tile_size: int,
) -> tuple[dict, list[np.ndarray]]:
    """Held-out PSNR (dB) and SSIM (scikit-image) of renders against ``images``; also the renders."""
    rows, renders = [], []
    K = scene.cameras.intrinsics
    for i in indices:
        img, _, _ = render(gaussians, engine, scene.cameras.c2w[i], K, background=background, tile_size=tile_size)
        pred = img[0].clamp(0, 1).float().cpu().numpy()
        gt = images[i].float().cpu().numpy()
        rows.append(
            {"index": i, "image": scene.cameras.names[i], "psnr": psnr(pred, gt), "ssim": ssim_reference(pred, gt)}
        )
        renders.append(pred)
    summary = {
        "psnr": float(np.mean([r["psnr"] for r in rows])) if rows else None,
        "ssim": float(np.mean([r["ssim"] for r in rows])) if rows else None,
        "per_image": rows,
    }
    return summary, renders


def _initial_gaussians(scene, cfg: ReconstructConfig) -> tuple[Gaussians, str]:
    if cfg.init == "random":
        pts, rgb = random_points(scene.cameras.c2w, cfg.random_init_points, seed=cfg.seed)
        return init_from_points(pts, rgb, cfg.sh_degree, cfg.init_opacity, cfg.init_scale), "random"
    has_points = scene.points is not None and len(scene.points) > 0
    if not has_points and cfg.triangulate:
        try:
            points, colors = triangulated_points(scene)
            return init_from_points(points, colors, cfg.sh_degree, cfg.init_opacity, cfg.init_scale), "triangulated"
        except SceneError as exc:
            if not cfg.random_fallback:
                raise
            log.warning("%s: triangulation failed (%s)", scene.root, exc)
    g = init_from_scene(
        scene, cfg.sh_degree, cfg.init_opacity, cfg.init_scale, cfg.random_fallback, cfg.random_init_points, cfg.seed
    )
    return g, "sfm" if has_points else "random (no SfM points)"


def optimise(scene, cfg: ReconstructConfig, engine: Engine) -> tuple[Gaussians, dict, list, list]:
    """Run the optimisation on a loaded scene; returns the Gaussians, metrics, held-out GT and renders."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    dev = engine.device
    train, test = split_indices(len(scene), cfg.test_every)
    if not train:
        raise SceneError(scene.root, "frames", f"more than one image per {cfg.test_every} (test_every)", got=len(scene))
    images = {
        i: torch.from_numpy(scene.load_image(i)).to(dev).float() / 255.0
        for i in tqdm(range(len(scene)), desc="load images", unit="img", leave=False)
    }
    init, init_kind = _initial_gaussians(scene, cfg)
    bg = torch.tensor(cfg.background, dtype=torch.float32, device=dev)
    scale = scene_scale(scene.cameras.c2w)
    init = init.to(dev)
    metrics_init, _ = evaluate(init, engine, scene, test, images, bg, cfg.tile_size)

    params = {name: torch.nn.Parameter(t.clone()) for name, t in init.params().items()}
    optimizers = _optimizers(params, cfg, scale)
    decay = cfg.lr_means_final ** (1.0 / max(cfg.steps, 1))
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizers["means"], gamma=decay)
    strategy, state = _strategy(engine, cfg, scale)
    K = scene.cameras.intrinsics
    t0 = time.perf_counter()
    bar = tqdm(range(cfg.steps), desc="3DGS", unit="step")
    for step in bar:
        i = int(train[rng.integers(len(train))])
        g = Gaussians(**params)
        degree = min(step // cfg.sh_degree_interval, cfg.sh_degree)
        img, _, info = render(
            g, engine, scene.cameras.c2w[i], K, sh_degree=degree, background=bg, tile_size=cfg.tile_size
        )
        strategy.step_pre_backward(params, optimizers, state, step, info)
        gt = images[i]
        loss = (1 - cfg.ssim_lambda) * (img[0] - gt).abs().mean() + cfg.ssim_lambda * (1 - ssim(img[0], gt))
        loss.backward()
        for optim in optimizers.values():
            optim.step()
            optim.zero_grad(set_to_none=True)
        scheduler.step()
        strategy.step_post_backward(params, optimizers, state, step, info, packed=False)
        if step % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.4f}", gaussians=len(params["means"]))
    seconds = time.perf_counter() - t0
    final = Gaussians.from_params(params)
    metrics_final, renders = evaluate(final, engine, scene, test, images, bg, cfg.tile_size)
    K = scene.cameras.intrinsics
    metrics = {
        "engine": engine.name,
        "steps": cfg.steps,
        "sh_degree": cfg.sh_degree,
        "downsample": scene.downsample,
        "width": K.width,
        "height": K.height,
        "init": init_kind,
        "scene_scale": scale,
        "train_images": len(train),
        "test_images": test,
        "psnr": metrics_final["psnr"],
        "ssim": metrics_final["ssim"],
        "psnr_init": metrics_init["psnr"],
        "ssim_init": metrics_init["ssim"],
        "n_gaussians": len(final),
        "n_gaussians_init": len(init),
        "seconds": seconds,
        "seconds_per_step": seconds / max(cfg.steps, 1),
        "per_image": metrics_final["per_image"],
    }
    return final.to("cpu"), metrics, [images[i].cpu().numpy() for i in test], renders


def _heldout_sheet(gts: list[np.ndarray], renders: list[np.ndarray]) -> np.ndarray:
    top = np.concatenate(gts, 1)
    bottom = np.concatenate(renders, 1)
    return (np.clip(np.concatenate([top, bottom], 0), 0, 1) * 255 + 0.5).astype(np.uint8)


def reconstruct(scene_dir: str | Path, out: str | Path, cfg: ReconstructConfig | None = None) -> dict:
    """Reconstruct the scene folder ``scene_dir`` into ``out`` (see the module docstring); returns the metrics."""
    cfg = cfg or ReconstructConfig()
    name = resolve_engine(cfg.engine) if cfg.engine != "nerfstudio" else "nerfstudio"
    if name == "nerfstudio":
        return reconstruct_nerfstudio(scene_dir, out, cfg)
    engine = get_engine(name)
    scene = load_scene(scene_dir, downsample=cfg.downsample)
    gaussians, metrics, gts, renders = optimise(scene, cfg, engine)
    metrics["scene"] = str(scene_dir)
    with atomic_dir(out, MARKER) as tmp:
        write_ply(tmp / "point_cloud.ply", gaussians)
        if gts:
            write_image(tmp / "heldout.png", _heldout_sheet(gts, renders))
        dump_config(cfg, tmp / MARKER)
        write_json(tmp / METRICS, metrics)
    log.info(
        "%s: held-out PSNR %.2f dB (init %.2f), SSIM %.3f, %d Gaussians -> %s",
        scene_dir,
        metrics["psnr"] or float("nan"),
        metrics["psnr_init"] or float("nan"),
        metrics["ssim"] or float("nan"),
        metrics["n_gaussians"],
        out,
    )
    return metrics
