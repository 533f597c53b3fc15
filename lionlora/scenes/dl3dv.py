"""Load a DL3DV-10K scene folder (nerfstudio layout) into the internal convention.

A scene folder holds::

    transforms.json      nerfstudio cameras; intrinsics at full resolution (w, h),
                         OpenGL camera-to-world in the world A @ colmap, A = applied_transform
    images_N/            images downsampled by N (DL3DV 960P ships images_4); file_path in
                         transforms.json says images/frame_00001.png for all of them
    colmap/sparse/0/     optional COLMAP model whose 3D points seed 3DGS
    images_N_undistorted/  written on first load when the cameras have lens distortion (OPENCV
                         model): the images remapped to pinhole cameras (:mod:`lionlora.scenes.undistort`)

:func:`load_scene` undoes ``applied_transform`` (cameras land in COLMAP's world, with the
points), rescales intrinsics to the chosen ``images_N``, orders frames by file name and validates
everything with named errors.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lionlora.errors import SceneError
from lionlora.geometry.camera import Trajectory
from lionlora.io.cameras_json import read_cameras
from lionlora.io.video import read_image
from lionlora.scenes.undistort import undistort_scene

log = logging.getLogger(__name__)

DOWNSAMPLES = (1, 2, 4, 8)


def _natural_key(name: str) -> list:
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", name)]


def image_folder(downsample: int) -> str:
    """Name of the image folder for a downsampling factor (``images`` for 1)."""
    return "images" if downsample == 1 else f"images_{downsample}"


def _image_size(path: Path) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size
    except (UnidentifiedImageError, OSError) as exc:
        raise SceneError(path, "", "a readable image", got=str(exc)) from None


@dataclass
class Scene:
    """A loaded scene.

    Attributes:
        root: the scene folder.
        cameras: one camera per image, in file-name order; intrinsics match the images on disk.
        image_paths: absolute image paths, ``len == len(cameras)``.
        downsample: the ``images_N`` factor in use.
        points: SfM points ``[P, 3]`` in the cameras' world, or None when the scene has none.
        colors: point colours ``[P, 3]`` uint8, or None.
        warnings: things a user should know (portrait frames, distortion, cameras and points
            that disagree).
    """

    root: Path
    cameras: Trajectory
    image_paths: list[Path]
    downsample: int
    points: np.ndarray | None = None
    colors: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.image_paths)

    def load_image(self, index: int) -> np.ndarray:
        """Image ``index`` as uint8 RGB ``[H, W, 3]``."""
        return read_image(self.image_paths[index])


def read_colmap_model(model_dir: str | Path):
    """The ``pycolmap.Reconstruction`` of a COLMAP model folder (SceneError when it has no points file)."""
    import pycolmap

    model_dir = Path(model_dir)
    if not any((model_dir / f"points3D.{ext}").exists() for ext in ("bin", "txt")):
        raise SceneError(model_dir, "points3D", "a COLMAP model (points3D.bin or points3D.txt)", got="missing")
    return pycolmap.Reconstruction(str(model_dir))


def colmap_points(rec) -> tuple[np.ndarray, np.ndarray]:
    """3D points ``[P, 3]`` and colours ``[P, 3]`` uint8 of a ``pycolmap.Reconstruction``."""
    pts = rec.points3D
    if len(pts) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), np.uint8)
    ids = sorted(pts.keys())
    xyz = np.array([pts[i].xyz for i in ids], dtype=np.float64)
    rgb = np.array([pts[i].color for i in ids], dtype=np.uint8)
    return xyz, rgb


def _available_downsamples(root: Path) -> list[int]:
    return [n for n in DOWNSAMPLES if (root / image_folder(n)).is_dir()]


def load_scene(
    root: str | Path,
    downsample: int | None = None,
    check_images: bool = True,
    require_points: bool = False,
    undistort: bool = True,
) -> Scene:
    """Load a DL3DV-format scene folder.

    Args:
        root: the scene folder (holding ``transforms.json``).
        downsample: which ``images_N`` to use; None picks the largest resolution present.
        check_images: check that every image exists and has the size the intrinsics imply.
        require_points: raise when the scene has no COLMAP points (3DGS initialisation).
        undistort: when the cameras have lens distortion, use undistorted images (made once,
            cached in ``images_N_undistorted/``) and their pinhole intrinsics; False keeps the
            distorted images with pinhole cameras (a warning says so).
    Raises:
        SceneError: missing transforms.json, image folder or images; image size inconsistent
            with the intrinsics; no points when required.
        CameraError: NaN or non-rigid matrices, missing intrinsics.
    """
    root = Path(root)
    tf = root / "transforms.json"
    if not tf.is_file():
        raise SceneError(root, "transforms.json", "a DL3DV/nerfstudio scene folder with transforms.json", got="missing")
    cams = read_cameras(tf)
    if cams.names is None:
        raise SceneError(tf, "frames[].file_path", "a file_path for every frame", got="missing")
    available = _available_downsamples(root)
    if downsample is None:
        if not available:
            raise SceneError(
                root, "images_N", f"an image folder ({', '.join(image_folder(n) for n in DOWNSAMPLES)})", got="none"
            )
        downsample = available[0]
    if downsample not in DOWNSAMPLES:
        raise SceneError(root, "downsample", f"one of {DOWNSAMPLES}", got=downsample)
    folder = root / image_folder(downsample)
    if not folder.is_dir():
        raise SceneError(
            root,
            image_folder(downsample),
            "an existing image folder",
            got=f"missing (present: {[image_folder(n) for n in available]})",
        )

    order = sorted(range(len(cams)), key=lambda i: _natural_key(Path(cams.names[i]).name))
    cams = cams.subset(order)
    paths = [folder / Path(name).name for name in cams.names]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise SceneError(
            folder,
            Path(missing[0]).name,
            "an image for every frame of transforms.json",
            got=f"{len(missing)} of {len(paths)} images missing",
        )

    K = cams.intrinsics
    expect = (K.width / downsample, K.height / downsample)
    size = _image_size(paths[0])
    if abs(size[0] - expect[0]) > 1 or abs(size[1] - expect[1]) > 1:
        raise SceneError(
            paths[0],
            "size",
            f"{expect[0]:g}x{expect[1]:g} pixels (transforms.json w x h = {K.width}x{K.height} / {downsample})",
            got=f"{size[0]}x{size[1]}",
        )
    if check_images:
        for p in paths[1:]:
            if _image_size(p) != size:
                raise SceneError(
                    p, "size", f"{size[0]}x{size[1]} like the first image", got="x".join(map(str, _image_size(p)))
                )
    cams = cams.with_image_size(*size)
    cams.names = [str(p.relative_to(root)) for p in paths]

    scene = Scene(root=root, cameras=cams, image_paths=paths, downsample=downsample)
    if cams.intrinsics.is_portrait:
        scene.warnings.append(f"portrait frames ({size[0]}x{size[1]}): clips are rendered landscape")
    if cams.intrinsics.has_distortion and undistort:
        scene = undistort_scene(scene)
    elif cams.intrinsics.has_distortion:
        scene.warnings.append(f"lens distortion {cams.intrinsics.dist} is ignored (pinhole model)")

    model = root / "colmap" / "sparse" / "0"
    if model.is_dir():
        rec = read_colmap_model(model)
        scene.points, scene.colors = colmap_points(rec)
        _check_points_agree(scene, rec)
    if require_points and (scene.points is None or len(scene.points) == 0):
        raise SceneError(root, "colmap/sparse/0", "a COLMAP model with 3D points", got="none")
    for w in scene.warnings:
        log.warning("%s: %s", root, w)
    return scene


def _check_points_agree(scene: Scene, rec) -> None:
    """Warn when the COLMAP model's camera centres disagree with transforms.json's."""
    by_name = {Path(img.name).name: img for img in rec.images.values() if img.has_pose}
    pairs = [(i, by_name[Path(n).name]) for i, n in enumerate(scene.cameras.names) if Path(n).name in by_name]
    if len(pairs) < 2:
        return
    ours = np.array([scene.cameras.centers[i] for i, _ in pairs])
    theirs = np.array([img.projection_center() for _, img in pairs])
    extent = np.linalg.norm(ours - ours.mean(0), axis=1).max() + 1e-12
    err = np.median(np.linalg.norm(ours - theirs, axis=1)) / extent
    if err > 1e-2:
        scene.warnings.append(
            f"colmap/sparse/0 camera centres differ from transforms.json by {err:.1%} of the scene "
            "extent (applied_transform missing or different?): points may not align with cameras"
        )
