"""SfM points for captures that have posed images but no COLMAP model (nerfstudio / instant-ngp).

With the poses and intrinsics known, the points come from triangulation alone: pycolmap extracts
SIFT features (one shared pinhole camera), matches them (every pair up to ``exhaustive_max``
images, else sequential neighbours), and ``triangulate_points`` triangulates and refines the points
with the poses held fixed. The model is cached beside the scene in ``triangulated/sparse/0``
(written atomically) and read back by later loads.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lionlora.config import opt
from lionlora.errors import ConfigError, SceneError
from lionlora.geometry.se3 import se3_inverse
from lionlora.io.files import atomic_dir
from lionlora.scenes.features import FeatureOptions, extract_and_match, reader_options

log = logging.getLogger(__name__)

MODEL = Path("triangulated") / "sparse" / "0"


@dataclass
class TriangulateConfig:
    max_features: int = opt(4096, "SIFT features per image")
    exhaustive_max: int = opt(80, "match every image pair up to this many images, else sequential neighbours")
    overlap: int = opt(10, "sequential matching: neighbours on each side")
    num_threads: int = opt(-1, "threads of pycolmap (-1: all cores)")
    min_points: int = opt(100, "fewer triangulated points than this is an error (the fallback decides)")

    def __post_init__(self) -> None:
        if self.max_features < 64 or self.exhaustive_max < 2 or self.overlap < 1 or self.min_points < 1:
            raise ConfigError(
                "TriangulateConfig",
                "max_features/exhaustive_max/overlap/min_points",
                "max_features >= 64, exhaustive_max >= 2, overlap >= 1, min_points >= 1",
                got=(self.max_features, self.exhaustive_max, self.overlap, self.min_points),
            )


def _posed_reconstruction(pycolmap, database: Path, scene):
    """A reconstruction with the database's camera and images, posed with the scene's cameras."""
    K = scene.cameras.intrinsics
    db = pycolmap.Database.open(database)
    try:
        cameras, images = db.read_all_cameras(), db.read_all_images()
    finally:
        db.close()
    rec = pycolmap.Reconstruction()
    for cam in cameras:
        cam.params = [K.fx, K.fy, K.cx, K.cy]
        rec.add_camera_with_trivial_rig(cam)
    index = {Path(p).name: i for i, p in enumerate(scene.image_paths)}
    for img in images:
        w2c = se3_inverse(scene.cameras.c2w[index[img.name]])
        image = pycolmap.Image(name=img.name, camera_id=img.camera_id, image_id=img.image_id)
        rec.add_image_with_trivial_frame(image, pycolmap.Rigid3d(w2c[:3, :4]))
    return rec


def triangulate(scene, out: Path, cfg: TriangulateConfig | None = None) -> Path:
    """Triangulate ``scene``'s images with its poses into the COLMAP model folder ``out``.

    Raises:
        SceneError: fewer than ``cfg.min_points`` points could be triangulated.
    """
    import pycolmap

    cfg = cfg or TriangulateConfig()
    K = scene.cameras.intrinsics
    image_dir = scene.image_paths[0].parent
    names = [p.name for p in scene.image_paths]
    pycolmap.logging.minloglevel = 2
    with tempfile.TemporaryDirectory(prefix="triangulate.") as tmp, atomic_dir(out, "points3D.bin") as dest:
        db = Path(tmp) / "database.db"
        opts = FeatureOptions(
            max_features=cfg.max_features,
            num_threads=cfg.num_threads,
            overlap=None if len(names) <= cfg.exhaustive_max else cfg.overlap,
        )
        extract_and_match(pycolmap, db, image_dir, names, reader_options(pycolmap, K), opts)
        rec = _posed_reconstruction(pycolmap, db, scene)
        options = pycolmap.IncrementalPipelineOptions()
        options.num_threads = cfg.num_threads
        rec = pycolmap.triangulate_points(rec, db, image_dir, dest, options=options)
        if rec.num_points3D() < cfg.min_points:
            raise SceneError(
                scene.root, "images", f"at least {cfg.min_points} triangulated points", got=rec.num_points3D()
            )
        rec.write(str(dest))
        log.info("%s: triangulated %d points with the known poses", scene.root, rec.num_points3D())
    return out


def triangulated_points(scene, cfg: TriangulateConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points ``[P, 3]`` and colours ``[P, 3]`` uint8 triangulated from ``scene`` (cached in
    ``scene.root / triangulated/sparse/0``)."""
    from lionlora.scenes.dl3dv import colmap_points, read_colmap_model

    model = scene.root / MODEL
    if not (model / "points3D.bin").is_file():
        triangulate(scene, model, cfg)
    return colmap_points(read_colmap_model(model))
