"""Write the embedded scene as a DL3DV-format folder with a COLMAP sparse model."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lionlora.config import to_dict
from lionlora.geometry.camera import Intrinsics, Trajectory
from lionlora.geometry.convert import NERFSTUDIO_COLMAP_APPLIED_TRANSFORM, apply_transform, opencv_to_opengl
from lionlora.geometry.se3 import se3_inverse
from lionlora.io.files import atomic_dir, write_json
from lionlora.io.video import write_image
from lionlora.pipelines.synth.config import SynthConfig
from lionlora.pipelines.synth.layout import build_room, capture_path
from lionlora.pipelines.synth.raycast import render_view, surface_color
from lionlora.scenes.dl3dv import image_folder

log = logging.getLogger(__name__)

MARKER = "synth_config.json"


def frame_name(i: int) -> str:
    """DL3DV's image name for frame ``i`` (0-based): frame_00001.png, ..."""
    return f"frame_{i + 1:05d}.png"


def _sample_surface_points(room, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    area = room.area
    quad = rng.choice(len(area), size=n, p=area / area.sum())
    a, b = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    xyz = room.origin[quad] + a[:, None] * room.u[quad] + b[:, None] * room.v[quad]
    rgb = np.clip(surface_color(room, quad, a, b) * 255 + 0.5, 0, 255).astype(np.uint8)
    return xyz, rgb


def _visibility(xyz: np.ndarray, c2w: np.ndarray, K: Intrinsics, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which points a camera sees (in front, inside the image, not occluded), and their pixels."""
    w2c = se3_inverse(c2w)
    pc = xyz @ w2c[:3, :3].T + w2c[:3, 3]
    z = pc[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = K.project(pc)
    inside = (z > 1e-3) & (uv[:, 0] >= 0) & (uv[:, 0] < K.width) & (uv[:, 1] >= 0) & (uv[:, 1] < K.height)
    s = depth.shape[1] / K.width
    iu = np.clip((uv[:, 0] * s).astype(int), 0, depth.shape[1] - 1)
    iv = np.clip((uv[:, 1] * s).astype(int), 0, depth.shape[0] - 1)
    visible = inside & (z <= depth[iv, iu] * 1.01 + 1e-3)
    return visible, uv


def _write_colmap(
    model_dir: Path, traj: Trajectory, xyz: np.ndarray, rgb: np.ndarray, vis: np.ndarray, uv: np.ndarray
) -> int:
    """COLMAP binary model: one PINHOLE camera, posed images with keypoints, points with tracks."""
    import pycolmap

    K = traj.intrinsics
    rec = pycolmap.Reconstruction()
    cam = pycolmap.Camera.create_from_model_name(1, "PINHOLE", K.fx, K.width, K.height)
    cam.params = [K.fx, K.fy, K.cx, K.cy]
    rec.add_camera_with_trivial_rig(cam)
    keep = vis.sum(0) >= 2
    point_idx = {}
    for i in range(len(traj)):
        seen = np.flatnonzero(vis[i] & keep)
        point_idx[i] = {int(p): k for k, p in enumerate(seen)}
        img = pycolmap.Image(name=traj.names[i], keypoints=uv[i, seen].astype(np.float64), camera_id=1, image_id=i + 1)
        rec.add_image_with_trivial_frame(img, pycolmap.Rigid3d(se3_inverse(traj.c2w[i])[:3, :4]))
    for p in np.flatnonzero(keep):
        track = pycolmap.Track()
        for i in np.flatnonzero(vis[:, p]):
            track.add_element(int(i + 1), point_idx[int(i)][int(p)])
        rec.add_point3D(xyz[p], track, rgb[p])
    model_dir.mkdir(parents=True, exist_ok=True)
    rec.write(str(model_dir))
    return int(keep.sum())


def synth_scene(out: str | Path, cfg: SynthConfig | None = None) -> Path:
    """Write the embedded scene for ``cfg`` into folder ``out`` (atomically) and return it.

    Layout: ``transforms.json`` (full-resolution intrinsics, nerfstudio's default
    ``applied_transform``), ``images_N/frame_XXXXX.png`` for each configured N,
    ``colmap/sparse/0`` (PINHOLE camera at full resolution, points with tracks),
    ``synth_config.json`` (the resolved config) and ``scene_info.json`` (depth statistics).
    Same config, same bytes.
    """
    cfg = cfg or SynthConfig()
    out = Path(out)
    room = build_room(cfg.seed, cfg.boxes)
    c2w = capture_path(cfg.seed, cfg.frames)
    K = Intrinsics.from_fov(cfg.fov_x_deg, cfg.width, cfg.height)
    traj = Trajectory(c2w, K, names=[frame_name(i) for i in range(cfg.frames)])
    rng = np.random.default_rng(cfg.seed + 104729)
    xyz, rgb = _sample_surface_points(room, cfg.points, rng)

    with atomic_dir(out, MARKER) as tmp:
        depth_medians = []
        vis = np.zeros((cfg.frames, len(xyz)), bool)
        uv = np.zeros((cfg.frames, len(xyz), 2))
        ds = sorted(cfg.downsamples)
        for i in tqdm(range(cfg.frames), desc="embedded scene", unit="frame"):
            for n in ds:
                Kn = K.scaled(cfg.width // n, cfg.height // n)
                img, depth = render_view(room, c2w[i], Kn, cfg.supersample)
                write_image(tmp / image_folder(n) / frame_name(i), img)
                if n == ds[0]:
                    depth_medians.append(float(np.median(depth[np.isfinite(depth)])))
                    vis[i], uv[i] = _visibility(xyz, c2w[i], K, depth)
        n_points = _write_colmap(tmp / "colmap" / "sparse" / "0", traj, xyz, rgb, vis, uv)

        A = NERFSTUDIO_COLMAP_APPLIED_TRANSFORM
        gl = apply_transform(opencv_to_opengl(c2w), A)
        transforms = {
            "w": cfg.width,
            "h": cfg.height,
            "fl_x": K.fx,
            "fl_y": K.fy,
            "cx": K.cx,
            "cy": K.cy,
            "k1": 0.0,
            "k2": 0.0,
            "p1": 0.0,
            "p2": 0.0,
            "camera_model": "OPENCV",
            "frames": [
                {"file_path": f"images/{frame_name(i)}", "transform_matrix": gl[i].tolist(), "colmap_im_id": i + 1}
                for i in range(cfg.frames)
            ],
            "applied_transform": A.tolist(),
        }
        write_json(tmp / "transforms.json", transforms)
        write_json(
            tmp / "scene_info.json",
            {
                "frames": cfg.frames,
                "points3D": n_points,
                "median_depth_per_frame": depth_medians,
                "median_depth": float(np.median(depth_medians)),
                "world": "x right, y down, z forward (COLMAP model frame); transforms.json is A @ world",
            },
        )
        write_json(tmp / MARKER, to_dict(cfg))
    log.info("embedded scene: %d frames, %d points -> %s", cfg.frames, n_points, out)
    return out
