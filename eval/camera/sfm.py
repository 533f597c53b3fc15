"""Camera poses of a video's frames by structure from motion (pycolmap).

SIFT features, sequential or exhaustive matching, optionally a sub-pixel refinement of the
matched keypoints along their tracks (:mod:`lionlora.eval.camera.refine`), then GLOMAP's global
mapper (default) or COLMAP's incremental mapper, with one camera shared by all frames. Optionally
the intrinsics are fixed to the ground truth's (a PINHOLE camera that bundle adjustment does not refine), as in
CamI2V's protocol. Features and matches are computed once; each trial re-runs the mapper with its
own seed; a ``stop`` callback may end the trials early (see
:func:`lionlora.eval.camera.evaluate.trials_agree`). Everything pycolmap writes (images, database, models) lives in a temporary folder that
is removed afterwards. Of the models a mapper returns, the one with the most registered frames
is kept.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lionlora.errors import DependencyError, VideoError
from lionlora.eval.camera.config import CameraEvalConfig
from lionlora.eval.camera.refine import RefineStats, refine_keypoints
from lionlora.geometry import Intrinsics
from lionlora.geometry.se3 import make_pose, se3_inverse
from lionlora.scenes.features import FeatureOptions, extract_and_match, reader_options

log = logging.getLogger(__name__)

#: Smallest triangulation angle of the incremental mapper's initial pair. COLMAP's default (16
#: degrees, meant for photo collections) finds no initial pair in short clips moving forward or
#: sideways by a fraction of the scene depth (measured on the benchmark's dolly and truck clips).
INCREMENTAL_INIT_MIN_TRI_ANGLE_DEG = 4.0


@dataclass
class SfmTrial:
    """One mapping trial.

    Attributes:
        seed: the mapper's random seed.
        c2w: OpenCV camera-to-world poses ``[N, 4, 4]`` in the model's world; identity where a
            frame did not register.
        registered: which frames registered ``[N]`` bool.
        intrinsics: the recovered shared camera (None when nothing registered).
        models: number of models the mapper returned.
        seconds: wall time of the mapping.
        error: the mapper's exception text, "" when it ran.
    """

    seed: int
    c2w: np.ndarray
    registered: np.ndarray
    intrinsics: Intrinsics | None = None
    models: int = 0
    seconds: float = 0.0
    error: str = ""

    @property
    def num_registered(self) -> int:
        return int(self.registered.sum())


@dataclass
class SfmResult:
    """Trials of one video and the time spent on features and matching."""

    trials: list[SfmTrial]
    frame_names: list[str]
    seconds_features: float = 0.0
    seconds_matching: float = 0.0
    num_features: list[int] = field(default_factory=list)
    verified_pairs: int = 0
    refinement: RefineStats | None = None

    def best(self) -> SfmTrial:
        """The trial with the most registered frames (the first of equals)."""
        return max(self.trials, key=lambda t: t.num_registered)


def _pycolmap():
    try:
        import pycolmap
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise DependencyError(f"pycolmap is needed for camera evaluation ({exc}); pip install pycolmap") from None
    return pycolmap


def frame_names(n: int) -> list[str]:
    """File names under which the frames are handed to pycolmap (sorted = frame order)."""
    return [f"frame_{i:05d}.png" for i in range(n)]


def _global_options(pycolmap, cfg: CameraEvalConfig, seed: int):
    opts = pycolmap.GlobalPipelineOptions()
    opts.random_seed = seed
    opts.num_threads = cfg.num_threads
    m = opts.mapper
    m.random_seed = seed
    m.num_threads = cfg.num_threads
    m.rotation_averaging.random_seed = seed
    m.global_positioning.random_seed = seed
    m.retriangulation.random_seed = seed
    m.ba_num_iterations = cfg.ba_iterations
    if cfg.tracks_per_view > 0:
        m.track_required_tracks_per_view = cfg.tracks_per_view
    ba = m.bundle_adjustment
    ba.refine_focal_length = not cfg.fix_intrinsics
    ba.refine_principal_point = False
    ba.refine_extra_params = not cfg.fix_intrinsics
    return opts


def _incremental_options(pycolmap, cfg: CameraEvalConfig, seed: int):
    opts = pycolmap.IncrementalPipelineOptions()
    opts.random_seed = seed
    opts.num_threads = cfg.num_threads
    opts.mapper.random_seed = seed
    opts.triangulation.random_seed = seed
    opts.min_model_size = 3
    opts.mapper.init_min_tri_angle = INCREMENTAL_INIT_MIN_TRI_ANGLE_DEG
    opts.ba_refine_focal_length = not cfg.fix_intrinsics
    opts.ba_refine_principal_point = False
    opts.ba_refine_extra_params = not cfg.fix_intrinsics
    opts.mapper.abs_pose_refine_focal_length = not cfg.fix_intrinsics
    opts.mapper.abs_pose_refine_extra_params = not cfg.fix_intrinsics
    return opts


def _model_to_trial(rec, names: list[str]) -> tuple[np.ndarray, np.ndarray, Intrinsics | None]:
    index = {name: i for i, name in enumerate(names)}
    c2w = np.tile(np.eye(4), (len(names), 1, 1))
    registered = np.zeros(len(names), bool)
    camera = None
    for image in rec.images.values():
        if not image.has_pose or image.name not in index:
            continue
        i = index[image.name]
        w2c = np.asarray(image.cam_from_world().matrix(), dtype=np.float64)
        c2w[i] = se3_inverse(make_pose(w2c[:, :3], w2c[:, 3]))
        registered[i] = True
        camera = image.camera
    intr = None
    if camera is not None:
        intr = Intrinsics(
            float(camera.focal_length_x),
            float(camera.focal_length_y),
            float(camera.principal_point_x),
            float(camera.principal_point_y),
            int(camera.width),
            int(camera.height),
        )
    return c2w, registered, intr


def _extract_and_match(
    pycolmap,
    db: Path,
    image_dir: Path,
    names: list[str],
    cfg: CameraEvalConfig,
    intrinsics: Intrinsics | None,
    longest_side: int,
    result: SfmResult,
) -> None:
    """SIFT features of every frame (one shared camera) and verified matches, into ``db``."""
    opts = FeatureOptions(
        max_features=cfg.max_features,
        num_threads=cfg.num_threads,
        device=cfg.device,
        overlap=cfg.overlap if cfg.matcher == "sequential" else None,
        quadratic_overlap=cfg.quadratic_overlap,
        first_octave=cfg.first_octave,
        upright=cfg.upright,
        max_image_size=cfg.max_image_size if cfg.max_image_size > 0 else longest_side,
    )
    reader = reader_options(pycolmap, intrinsics if cfg.fix_intrinsics else None, cfg.camera_model)
    result.seconds_features, result.seconds_matching = extract_and_match(pycolmap, db, image_dir, names, reader, opts)
    database = pycolmap.Database.open(db)
    try:
        result.num_features = [database.num_keypoints_for_image(im.image_id) for im in database.read_all_images()]
        result.verified_pairs = database.num_verified_image_pairs()
    finally:
        database.close()


def _map(
    pycolmap, db: Path, image_dir: Path, out: Path, names: list[str], cfg: CameraEvalConfig, seed: int
) -> SfmTrial:
    """One mapping trial; a mapper exception or an empty result is a trial with nothing registered."""
    out.mkdir()
    pycolmap.set_random_seed(seed)
    t0 = time.perf_counter()
    error, recs = "", {}
    try:
        if cfg.mapper == "global":
            recs = pycolmap.global_mapping(db, image_dir, out, options=_global_options(pycolmap, cfg, seed))
        else:
            recs = pycolmap.incremental_mapping(db, image_dir, out, options=_incremental_options(pycolmap, cfg, seed))
    except Exception as exc:  # pycolmap raises plain RuntimeError/ValueError on degenerate input
        error = f"{type(exc).__name__}: {exc}"
    trial = SfmTrial(
        seed=seed,
        c2w=np.tile(np.eye(4), (len(names), 1, 1)),
        registered=np.zeros(len(names), bool),
        models=len(recs),
        error=error,
    )
    if recs:
        best = max(recs.values(), key=lambda r: r.num_reg_images())
        trial.c2w, trial.registered, trial.intrinsics = _model_to_trial(best, names)
    trial.seconds = time.perf_counter() - t0
    return trial


def recover_poses(
    frames: np.ndarray,
    cfg: CameraEvalConfig,
    intrinsics: Intrinsics | None = None,
    source: str = "frames",
    stop: Callable[[list[SfmTrial]], bool] | None = None,
) -> SfmResult:
    """Run SfM on video frames and return every trial's cameras.

    Args:
        frames: uint8 RGB frames ``[N, H, W, 3]``, in trajectory order.
        cfg: SfM options (mapper, matcher, features, trials, fixed intrinsics).
        intrinsics: the camera to fix (required with ``cfg.fix_intrinsics``); rescaled to the
            frames' size.
        source: name of the input, for errors and logs.
        stop: called with the trials so far after each trial; True skips the remaining ones.
    Returns:
        :class:`SfmResult`; a mapper that fails or registers nothing is a trial with no registered
        frames (and its error text), not an exception.
    """
    import cv2
    from tqdm import tqdm

    pycolmap = _pycolmap()
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise VideoError(source, "frames", "uint8 RGB frames [N, H, W, 3]", got=f"{frames.dtype} {frames.shape}")
    if len(frames) < 2:
        raise VideoError(source, "frames", "at least 2 frames for structure from motion", got=len(frames))
    if cfg.fix_intrinsics:
        if intrinsics is None:
            raise VideoError(source, "intrinsics", "ground-truth intrinsics to fix (fix_intrinsics)", got=None)
        intrinsics = intrinsics.scaled(frames.shape[2], frames.shape[1])
    names = frame_names(len(frames))
    # glog levels: 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL; -q (logging at WARNING) hides its errors too,
    # which a failed result records anyway
    pycolmap.logging.minloglevel = 0 if log.isEnabledFor(logging.DEBUG) else 2 if log.isEnabledFor(logging.INFO) else 3
    result = SfmResult(trials=[], frame_names=names)
    with tempfile.TemporaryDirectory(prefix="lionlora-sfm-") as tmp:
        tmp = Path(tmp)
        image_dir = tmp / "images"
        image_dir.mkdir()
        for name, frame in zip(names, frames):
            cv2.imwrite(str(image_dir / name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        db = tmp / "database.db"
        _extract_and_match(pycolmap, db, image_dir, names, cfg, intrinsics, max(frames.shape[1:3]), result)
        if cfg.refine_keypoints:
            gray = {name: cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for name, frame in zip(names, frames)}
            result.refinement = refine_keypoints(
                pycolmap, db, gray, cfg.refine_window, cfg.refine_max_shift, cfg.refine_max_fb_error
            )
        bar = {"disable": True} if cfg.trials == 1 else {}  # an explicit disable=False would override -q
        for k in tqdm(range(cfg.trials), desc=f"SfM trials {Path(source).name}", unit="trial", **bar):
            trial = _map(pycolmap, db, image_dir, tmp / f"trial{k}", names, cfg, cfg.seed + k)
            log.info(
                "%s: trial %d (seed %d) registered %d/%d frames in %.1fs%s",
                source,
                k,
                trial.seed,
                trial.num_registered,
                len(names),
                trial.seconds,
                f" ({trial.error})" if trial.error else "",
            )
            result.trials.append(trial)
            if stop is not None and stop(result.trials):
                break
    return result
