"""Camera-control evaluation of one video: SfM poses against the ground-truth cameras.

:func:`evaluate_poses` compares two camera files; :func:`evaluate_camera` first recovers the
cameras of a video (or frame folder) with :mod:`lionlora.eval.camera.sfm`. Results are plain dicts with
the keys of the evaluation contract (``rot_err``, ``trans_err``, ``cam_mc``, ``ate``,
``n_frames``, ``convention``, ``reduce``, and for videos ``registered``, ``status``, ``reason``).
A video whose SfM registers too few frames is a ``failed`` result with its reason and ``null``
metrics, never an exception: failures are data.

Mapping trials stop early once they agree (:func:`trials_agree`): trial k runs only while no
successful trial so far has RotErr and TransErr each within ``trials_agree`` (relative) of an
earlier successful trial's. The result records the trials that ran (``trials_run``) beside the
ones configured (``config.trials``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from lionlora.config import to_dict
from lionlora.errors import CameraError, ConfigError, VideoError
from lionlora.eval.camera.config import CameraEvalConfig
from lionlora.eval.camera.metrics import METRICS, camera_errors, check_convention
from lionlora.eval.camera.sfm import SfmTrial, recover_poses
from lionlora.geometry import Trajectory
from lionlora.io.cameras_json import read_cameras, write_cameras
from lionlora.io.video import list_frame_files, load_frames, pick_frames, resize_cover
from lionlora.records.camera import STATUS_FAILED, STATUS_OK, CameraResult, default_cameras

log = logging.getLogger(__name__)


def _metrics(
    gt: np.ndarray, pred: np.ndarray, convention: str, reduce: str, gt_source: str, pred_source: str
) -> dict[str, float]:
    try:
        errors = camera_errors(gt, pred, convention, reduce)
    except CameraError as exc:  # name the files rather than "gt"/"pred"
        source = {"gt": gt_source, "pred": pred_source}.get(exc.source, exc.source)
        raise CameraError(source, exc.field, exc.expected, exc.got) from None
    return {k: float(v) for k, v in errors.items()}


def evaluate_poses(
    pred: Trajectory,
    gt: Trajectory,
    convention: str = "cami2v",
    reduce: str = "sum",
    pred_source: str = "pred",
    gt_source: str = "gt",
) -> dict[str, Any]:
    """Metrics of predicted cameras against ground-truth cameras, matched by frame order.

    Raises:
        CameraError: different frame counts, fewer than 2 frames, NaN matrices, unknown convention.
    """
    check_convention(convention, reduce, source="eval poses")
    if len(pred) != len(gt):
        raise CameraError(pred_source, "frames", f"{len(gt)} cameras, one per camera of {gt_source}", got=len(pred))
    out: dict[str, Any] = _metrics(gt.c2w, pred.c2w, convention, reduce, gt_source, pred_source)
    out.update(n_frames=len(gt), convention=convention, reduce=reduce)
    return out


def _trial_record(trial: SfmTrial, gt: Trajectory, cfg: CameraEvalConfig, gt_source: str, source: str) -> dict:
    n = len(gt)
    need = cfg.required_frames(n)
    rec: dict[str, Any] = {
        "seed": trial.seed,
        "registered": trial.num_registered,
        "seconds": round(trial.seconds, 3),
        "models": trial.models,
    }
    if trial.num_registered < need:
        reason = f"SfM registered {trial.num_registered} of {n} frames ({need} required)"
        if trial.error:
            reason += f"; mapper error: {trial.error}"
        rec.update({k: None for k in METRICS}, status=STATUS_FAILED, reason=reason)
        return rec
    idx = np.flatnonzero(trial.registered)
    rec.update(_metrics(gt.c2w[idx], trial.c2w[idx], cfg.convention, cfg.reduce, gt_source, source))
    rec.update(
        status=STATUS_OK, reason="" if len(idx) == n else f"metrics over the {len(idx)} registered frames of {n}"
    )
    return rec


#: The metrics two trials must agree on for the remaining trials to be skipped.
AGREE_METRICS = ("rot_err", "trans_err")


def trials_agree(records: list[dict[str, Any]], tolerance: float) -> bool:
    """True when the newest trial record is successful and agrees with an earlier successful one:
    ``|a - b| <= tolerance * max(|a|, |b|)`` for each of :data:`AGREE_METRICS`. Never with
    ``tolerance`` 0."""
    ok = [r for r in records if r["status"] == STATUS_OK]
    if tolerance <= 0 or len(ok) < 2 or records[-1]["status"] != STATUS_OK:
        return False
    new = ok[-1]
    return any(
        all(abs(new[k] - old[k]) <= tolerance * max(abs(new[k]), abs(old[k])) for k in AGREE_METRICS) for old in ok[:-1]
    )


def cameras_path(out: str | Path) -> Path:
    """Default path of the recovered cameras: ``cameras.json`` beside ``OUT.json`` (the CLI contract).

    Give each video its own folder (the workflow writes ``eval/{method}/{video}/camera.json``) so
    that the cameras of different videos do not overwrite each other.
    """
    return default_cameras(out)


def write_result(out: str | Path, result: dict[str, Any]) -> Path:
    """Write an :func:`evaluate_camera` result to ``out`` (atomically, as a :class:`CameraResult`),
    its ``cameras`` path made relative to ``out``'s folder so that the pair can be moved together."""
    return CameraResult.from_json(result, out).with_cameras_relative_to(out).write(out)


def shown_frames(source: str | Path, gt_path: str | Path) -> np.ndarray:
    """The frames of a whole source clip (video or frame folder) that a generated video's
    ground-truth cameras show.

    ``lionlora generate`` writes beside a video the cameras of the source-clip frames it should show,
    their indices in the metadata's ``source_frames``, at the video's size. These frames, resized to
    cover that size and centre-cropped (as the conditioning image was), are the true renders of
    what the video shows: their SfM is the noise floor of the generated video's scores.
    """
    gt = read_cameras(gt_path)
    indices = gt.metadata.get("source_frames")
    listed = isinstance(indices, list) and len(indices) == len(gt) and all(isinstance(i, int) for i in indices)
    frames, count = pick_frames(source, indices) if listed and min(indices) >= 0 else (None, None)
    if frames is None:
        where = f"the {count} frames of {source}" if count is not None else f"the frames of {source}"
        raise CameraError(
            gt_path,
            "metadata.source_frames",
            f"one frame index per camera into {where} (cameras written by generate)",
            got=indices if isinstance(indices, list) and len(indices) <= 8 else type(indices).__name__,
        )
    return resize_cover(frames, gt.intrinsics.height, gt.intrinsics.width)


def evaluate_camera(
    source: str | Path,
    gt_path: str | Path,
    cfg: CameraEvalConfig | None = None,
    cameras_out: str | Path | None = None,
    source_frames: bool = False,
) -> dict[str, Any]:
    """Recover the cameras of a video or frame folder and compare them with the ground truth.

    Args:
        source: a video file, or a folder of frames taken in sorted file-name order.
        gt_path: ground-truth ``cameras.json`` / ``transforms.json`` with one camera per frame
            (intrinsics are rescaled to the frames' size).
        cfg: SfM and metric options.
        cameras_out: where to write the recovered cameras of the best trial (registered frames
            only, their indices in the ``lionlora.registered_frames`` metadata); nothing is
            written (and an earlier file is removed) when no frame registered; None: not written.
        source_frames: ``source`` is the whole source clip of a generated video and ``gt_path`` the
            cameras written beside that video: score the frames they show (:func:`shown_frames`).
    Returns:
        The result dict: the contract keys plus ``trials`` (every trial's record), ``trials_ok``,
        ``primitive`` (from the ground truth's metadata, when present), ``sfm`` (timings),
        ``cameras`` and the resolved ``config``.
    Raises:
        VideoError: unreadable input or fewer than 2 frames.
        CameraError: invalid ground truth or a frame-count mismatch.
    """
    cfg = cfg or CameraEvalConfig()
    source, gt_path = Path(source), Path(gt_path)
    if source_frames:
        frames, names = shown_frames(source, gt_path), None
    else:
        frames = load_frames(source)
        names = [p.name for p in list_frame_files(source)] if source.is_dir() else None
    if len(frames) < 2:
        raise VideoError(source, "frames", "at least 2 frames to recover camera motion", got=len(frames))
    height, width = frames.shape[1:3]
    gt = read_cameras(gt_path, image_size=(width, height))  # files without w/h describe these frames
    if len(frames) != len(gt):
        raise CameraError(gt_path, "frames", f"one camera per frame of {source} ({len(frames)} frames)", got=len(gt))
    gt.intrinsics.check_image_size(width, height, str(source), str(gt_path))
    if cfg.min_registered > len(frames):
        raise ConfigError(
            "CameraEvalConfig",
            "min_registered",
            f"at most the {len(frames)} frames of {source}",
            got=cfg.min_registered,
        )
    gt = gt.with_image_size(width, height)
    if cfg.fix_intrinsics and gt.intrinsics.has_distortion:
        log.warning("%s: distortion coefficients are ignored; the fixed camera is a pinhole", gt_path)

    trials: list[dict[str, Any]] = []

    def stop(done: list[SfmTrial]) -> bool:
        trials.append(_trial_record(done[-1], gt, cfg, str(gt_path), str(source)))
        return trials_agree(trials, cfg.trials_agree)

    sfm = recover_poses(frames, cfg, intrinsics=gt.intrinsics, source=str(source), stop=stop)
    ok = [t for t in trials if t["status"] == STATUS_OK]
    best = sfm.best()
    result: dict[str, Any] = {}
    if ok:
        agg = np.mean if cfg.trial_reduce == "mean" else np.median
        result.update({k: float(agg([t[k] for t in ok])) for k in METRICS})
        reasons = sorted({t["reason"] for t in ok if t["reason"]})
        status, reason = STATUS_OK, "; ".join(reasons)
    else:
        result.update({k: None for k in METRICS})
        best_rec = trials[sfm.trials.index(best)]
        status = STATUS_FAILED
        reason = best_rec["reason"] + (f" (best of {len(trials)} trials)" if len(trials) > 1 else "")
    result.update(
        n_frames=len(gt),
        convention=cfg.convention,
        reduce=cfg.reduce,
        registered=best.num_registered,
        status=status,
        reason=reason,
        trials_ok=len(ok),
        trials_run=len(trials),
        trials=trials,
    )
    if "primitive" in gt.metadata:
        result["primitive"] = gt.metadata["primitive"]
    result["video"] = str(source)
    result["gt"] = str(gt_path)
    result["sfm"] = {
        "seconds_features": round(sfm.seconds_features, 3),
        "seconds_matching": round(sfm.seconds_matching, 3),
        "mean_features": float(np.mean(sfm.num_features)) if sfm.num_features else 0.0,
        "verified_pairs": sfm.verified_pairs,
    }
    if sfm.refinement is not None:
        r = sfm.refinement
        result["sfm"].update(
            seconds_refinement=round(r.seconds, 3),
            refined_tracks=r.tracks,
            refined_keypoints=round(r.fraction_refined, 4),
            median_shift_px=round(r.median_shift, 4),
        )
    result["cameras"] = None
    if cameras_out is not None and best.num_registered == 0:
        Path(cameras_out).unlink(missing_ok=True)  # no stale cameras of an earlier run beside a failed row
    elif cameras_out is not None:
        idx = np.flatnonzero(best.registered)
        frame_names = names or sfm.frame_names
        traj = Trajectory(best.c2w[idx], best.intrinsics, names=[frame_names[i] for i in idx])
        write_cameras(
            cameras_out,
            traj,
            metadata={
                "stage": "eval camera",
                "source": str(source),
                "seed": best.seed,
                "registered_frames": idx.tolist(),
                "frames": len(gt),
            },
        )
        result["cameras"] = str(cameras_out)
    result["config"] = to_dict(cfg)
    return result
