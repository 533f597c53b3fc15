"""Scoring one video of a benchmark method against its suite sample, with a per-video cache.

A :class:`VideoTask` is everything a worker process needs; :func:`score_video` turns it into a
per-video row (the keys of ``per_video.csv``) and writes the full result, ``camera.json`` with the
recovered ``cameras.json`` and the resampled ground truth ``gt_cameras.json``, into the task's
folder. A result is reused when its ``cache_key`` (the video's bytes, the ground truth's bytes,
the evaluation config) is unchanged.

Frame-count rule: a video of ``n`` frames (suite: ``F``) is scored against the ``n`` ground-truth
cameras at :func:`lionlora.scaling.spread_indices` ``(F, n)``: evenly spaced, first and last kept,
half-up rounding. The indices are recorded (``benchmark.gt_frames``) and the reason column says so.
A video of another size is scored with the intrinsics rescaled to its size; the reason says so.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lionlora.config import from_dict, to_dict
from lionlora.errors import CameraError, InputError, LionLoraError, VideoError
from lionlora.eval.camera.config import CameraEvalConfig
from lionlora.eval.camera.evaluate import evaluate_camera, write_result
from lionlora.eval.camera.metrics import METRICS
from lionlora.eval.camera.tables import split_of
from lionlora.io.cameras_json import read_cameras, write_cameras
from lionlora.io.files import read_json, update_hash
from lionlora.io.video import VIDEO_EXTENSIONS, list_frame_files, load_frames
from lionlora.scaling import spread_indices

CACHE_VERSION = "benchmark-video/1"
RESULT = "camera.json"
PER_VIDEO_COLUMNS = (
    "method",
    "video",
    "status",
    "reason",
    "primitive",
    "registered",
    "n_frames",
    "rot_err",
    "trans_err",
    "cam_mc",
    "ate",
    "split",
)
STATUS_MISSING = "missing"


@dataclass(frozen=True)
class VideoTask:
    """One (method, sample) to score; picklable for worker processes."""

    method: str
    sample: str
    primitive: str
    video: Path | None  # None: the method has no video for this sample
    gt: Path  # the suite's cameras.json of the sample
    frames: int
    height: int
    width: int
    folder: Path  # where camera.json, cameras.json and gt_cameras.json go
    config: dict  # CameraEvalConfig as a dict


def find_video(folder: Path, sample: str) -> Path | None:
    """``folder/{sample}.{mp4,avi,mov,webm,mkv}`` or the frame folder ``folder/{sample}/``; None if absent.

    Raises:
        InputError: more than one candidate (which one to score would be a guess).
    """
    found = [folder / f"{sample}{ext}" for ext in VIDEO_EXTENSIONS if (folder / f"{sample}{ext}").is_file()]
    if (folder / sample).is_dir():
        found.append(folder / sample)
    if len(found) > 1:
        raise InputError(folder, sample, "one video per sample", got=[p.name for p in found])
    return found[0] if found else None


def cache_key(task: VideoTask) -> str:
    """SHA-256 of the video's bytes (every frame file of a folder), the ground truth and the config."""
    h = hashlib.sha256(CACHE_VERSION.encode())
    h.update(json.dumps(task.config, sort_keys=True).encode())
    update_hash(h, task.gt)
    if task.video is None:
        return h.hexdigest()
    files = list_frame_files(task.video) if task.video.is_dir() else [task.video]
    for f in files:
        h.update(f.name.encode())
        update_hash(h, f)
    return h.hexdigest()


def _row(task: VideoTask, status: str, reason: str, result: dict | None = None) -> dict[str, Any]:
    """A per-video row: the ``per_video.csv`` columns plus the convention the tables check."""
    result = result or {}
    cfg = task.config
    return {
        "method": task.method,
        "video": task.sample,
        "status": status,
        "reason": reason,
        "primitive": task.primitive,
        "registered": result.get("registered"),
        "n_frames": result.get("n_frames"),
        **{k: result.get(k) for k in METRICS},
        "split": split_of(task.primitive),
        "convention": result.get("convention", cfg["convention"]),
        "reduce": result.get("reduce", cfg["reduce"]),
    }


def row_of_result(task: VideoTask, result: dict) -> dict[str, Any]:
    return _row(task, result["status"], result["reason"], result)


def cached_row(task: VideoTask, key: str) -> dict[str, Any] | None:
    """The row of an earlier result of the same inputs, or None."""
    path = task.folder / RESULT
    if not path.is_file():
        return None
    try:
        result = read_json(path)
    except LionLoraError:
        return None
    if not isinstance(result, dict) or result.get("benchmark", {}).get("cache_key") != key:
        return None
    return row_of_result(task, result)


def _resampled_gt(task: VideoTask, n: int) -> tuple[Path, list[int]]:
    traj = read_cameras(task.gt)
    indices = spread_indices(len(traj), n)
    path = write_cameras(task.folder / "gt_cameras.json", traj.subset(indices), metadata={"suite_frames": indices})
    return path, indices


def _notes(task: VideoTask, n: int, height: int, width: int) -> list[str]:
    notes = []
    if n != task.frames:
        notes.append(f"scored against {n} of the {task.frames} ground-truth frames, evenly spaced")
    if (height, width) != (task.height, task.width):
        notes.append(f"video {width}x{height}, suite {task.width}x{task.height}: intrinsics rescaled")
    return notes


def score_video(task: VideoTask, key: str) -> dict[str, Any]:
    """Score one video (or record it as missing / failed) and write its result; returns its row."""
    if task.video is None:
        return _row(task, STATUS_MISSING, f"no video for sample {task.sample}")
    cfg = from_dict(CameraEvalConfig, task.config, source="benchmark run")
    record: dict[str, Any] = {"cache_key": key, "method": task.method, "sample": task.sample}
    for stale in ("cameras.json", "gt_cameras.json"):  # of an earlier run of other inputs
        (task.folder / stale).unlink(missing_ok=True)
    try:
        frames = load_frames(task.video)
        n, height, width = frames.shape[:3]
        del frames
        if n < 2:
            raise VideoError(task.video, "frames", "at least 2 frames", got=n)
        gt, indices = _resampled_gt(task, n)
        result = evaluate_camera(task.video, gt, cfg, cameras_out=task.folder / "cameras.json")
    except (VideoError, CameraError) as exc:
        result = {k: None for k in METRICS}
        result.update(
            status="failed", reason=f"{type(exc).__name__}: {exc}", video=str(task.video), config=to_dict(cfg)
        )
        result.update(convention=cfg.convention, reduce=cfg.reduce, registered=None, n_frames=None)
        record["error"] = True
    else:
        notes = _notes(task, n, height, width)
        result["reason"] = "; ".join([r for r in (result["reason"], *notes) if r])
        record.update(gt_frames=indices, video_frames=n, video_size=[width, height])
    result["primitive"] = task.primitive
    result["benchmark"] = record
    write_result(task.folder / RESULT, result)
    return row_of_result(task, result)


def run_task(args: tuple[VideoTask, str]) -> dict[str, Any]:
    """Worker entry point (module level, so that process pools can pickle it)."""
    return score_video(*args)
