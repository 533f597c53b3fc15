"""Linearity of motion (and camera) magnitude in the scaling value S.

**Motion** (paper Sec. 3.4, Fig. 6): for every generated video, the mean optical-flow magnitude
over consecutive frame pairs at a fixed analysis resolution (:func:`lionlora.flow.flow_magnitude`,
the implementation the web-video filter uses too); then the Pearson correlation between S and
that magnitude, with the least-squares line ``magnitude = slope * S + intercept``.

**Camera** (a measure the paper does not report): the same statistics between S and the camera
motion recovered by ``lionlora eval camera``: ``path_length`` (sum of distances between
consecutive camera centres, in the cameras' units) or ``rotation`` (sum of geodesic angles between
consecutive rotations, degrees). SfM reconstructions have an arbitrary scale, so ``path_length``
is meaningful only for cameras that share one scale (ground-truth cameras or SfM with a fixed
scale); ``rotation`` is scale-free.

Videos that cannot be measured are rows with ``status=failed`` and a reason in the per-video CSV,
never silently dropped; the statistics use the ``ok`` rows and ``n`` says how many.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from tqdm import tqdm

from lionlora.config import to_dict
from lionlora.errors import CameraError, InputError, LionLoraError
from lionlora.eval.quality.config import CameraLinearityConfig, MotionConfig
from lionlora.flow import flow_magnitude
from lionlora.geometry import rotation_angle
from lionlora.io.cameras_json import read_cameras
from lionlora.io.files import check_output, read_json
from lionlora.io.video import iter_video, list_frame_files, read_image
from lionlora.records.camera import CameraResult
from lionlora.records.linearity import LinearityResult
from lionlora.records.linearity_tables import LinearityManifest, PerVideoMagnitudes
from lionlora.records.video import VideoRecord

log = logging.getLogger(__name__)


def linear_fit(scales: np.ndarray, magnitudes: np.ndarray, source: str = "manifest", min_n: int = 3) -> dict:
    """Pearson r (two-sided p), and slope/intercept of the least-squares line magnitude ~ S.

    Raises:
        InputError: fewer than ``min_n`` pairs, a constant S or a constant magnitude (r undefined).
    """
    s = np.asarray(scales, dtype=np.float64)
    m = np.asarray(magnitudes, dtype=np.float64)
    if len(s) < max(min_n, 3):
        raise InputError(source, "rows", f"at least {max(min_n, 3)} measured videos for a correlation", got=len(s))
    if np.ptp(s) == 0:
        raise InputError(source, "scale", "at least two distinct scale values", got=float(s[0]))
    if np.ptp(m) == 0:
        raise InputError(source, "magnitude", "magnitudes that vary (the correlation is undefined)", got=float(m[0]))
    fit = stats.linregress(s, m)
    r, p = stats.pearsonr(s, m)
    return {
        "pearson_r": float(r),
        "p_value": float(p),
        "n": int(len(s)),
        "slope": float(fit.slope),
        "intercept": float(fit.intercept),
        "spearman_r": float(stats.spearmanr(s, m).statistic),
    }


def manifest_from_records(videos: list[str | Path], out: str | Path) -> Path:
    """Write a ``video,scale`` manifest for generated videos from their ``lionlora generate`` records.

    Each ``V.mp4`` has ``V.json`` beside it; its ``loras`` list gives S (every LoRA of a video must
    share it). Video paths are written relative to ``out``'s folder.

    Raises:
        InputError: a missing or unreadable record, a record without LoRAs, or LoRAs with different S.
    """
    out = Path(out)
    rows = []
    for video in map(Path, videos):
        record_path = video.with_suffix(".json")
        scale = VideoRecord.read(record_path).shared_scale(record_path)
        rel = os.path.relpath(video.absolute(), out.parent.absolute())
        rows.append((Path(rel).as_posix(), scale))
    if not rows:
        raise InputError(out, "videos", "at least one generated video")
    return LinearityManifest("video", [p for p, _ in rows], [s for _, s in rows]).write(out)


def read_manifest(path: str | Path, column: str) -> pd.DataFrame:
    """A linearity manifest: CSV with ``scale`` and ``column`` (paths relative to its folder); see
    :class:`~lionlora.records.linearity_tables.LinearityManifest`."""
    return LinearityManifest.read(path, column).to_frame()


def _measure_all(
    df: pd.DataFrame, column: str, base: Path, measure: Callable[[Path], float], desc: str
) -> pd.DataFrame:
    rows = []
    for _, row in tqdm(list(df.iterrows()), desc=desc, unit="video"):
        path = Path(row[column])
        path = path if path.is_absolute() else base / path
        rec = {column: row[column], "scale": float(row["scale"]), "magnitude": math.nan, "status": "ok", "reason": ""}
        try:
            rec["magnitude"] = float(measure(path))
        except LionLoraError as exc:
            rec["status"], rec["reason"] = "failed", str(exc)
            log.warning("%s: %s", path, exc)
        rows.append(rec)
    return pd.DataFrame(rows)


def per_video_path(out: Path) -> Path:
    """The per-video CSV written beside a summary ``OUT.json``: ``OUT_per_video.csv``."""
    return out.with_name(f"{out.stem}_per_video.csv")


def _check_outputs(manifest: Path, out: Path) -> None:
    for path in (out, per_video_path(out)):
        if path.resolve() == manifest.resolve():
            raise InputError(out, "", "an output path that does not overwrite the manifest", got=str(path))
        check_output(path)


def _write(per_video: pd.DataFrame, out: Path, summary: dict, min_n: int) -> dict:
    csv_path = per_video_path(out)
    ok = per_video[per_video["status"] == "ok"]
    # the fit first: a manifest that cannot give a correlation leaves no per-video CSV behind
    stats_ = linear_fit(ok["scale"].to_numpy(), ok["magnitude"].to_numpy(), summary["manifest"], min_n)
    PerVideoMagnitudes(per_video).write(csv_path)
    record = {**stats_, "n_failed": int((per_video["status"] != "ok").sum()), **summary, "per_video": csv_path.name}
    LinearityResult.from_json(record, out).write(out)
    return record


def _label_step(out: Path, label: str | None, step: int | None) -> dict:
    return {"label": label if label else out.parent.name, "step": step}


def motion_linearity(
    manifest: str | Path,
    out: str | Path,
    cfg: MotionConfig | None = None,
    label: str | None = None,
    step: int | None = None,
) -> dict:
    """Pearson correlation between S and optical-flow magnitude over the videos of a manifest.

    Args:
        manifest: CSV with columns ``video`` (video file or frame folder, relative to the
            manifest's folder) and ``scale`` (S).
        out: the summary JSON; the per-video CSV goes beside it as ``OUT_per_video.csv``.
        label, step: recorded for figures (Fig. 6 plots r against ``step`` per ``label``; the
            label defaults to the name of OUT's folder, i.e. the method).
    Returns:
        the summary: ``pearson_r``, ``p_value``, ``n``, ``slope``, ``intercept`` and more.
    """
    cfg = cfg or MotionConfig()
    manifest, out = Path(manifest), Path(out)
    _check_outputs(manifest, out)
    df = read_manifest(manifest, "video")

    def measure(path: Path) -> float:
        frames = (read_image(f) for f in list_frame_files(path)) if path.is_dir() else iter_video(path)
        return flow_magnitude(frames, cfg.flow, source=str(path))

    per_video = _measure_all(df, "video", manifest.parent, measure, "optical flow")
    summary = {
        "magnitude": "optical-flow magnitude",
        "units": f"px/frame at {cfg.flow.height}x{cfg.flow.width}",
        "flow_backend": cfg.flow.backend,
        "manifest": str(manifest),
        **_label_step(out, label, step),
        "config": to_dict(cfg),
    }
    return _write(per_video, out, summary, cfg.min_videos)


def cameras_of(path: Path) -> Path:
    """The cameras.json of a manifest entry: the file itself, or the one beside an ``eval camera`` JSON.

    For ``X.json`` written by ``eval camera`` (it has a ``status`` key), the cameras are the file
    its ``cameras`` key names (relative to it), else ``cameras.json`` beside it (the command's
    default). A ``failed`` evaluation raises :class:`CameraError` with its reason.
    """
    data = read_json(path, "cameras.json or an `eval camera` result")
    if isinstance(data, dict) and "frames" in data:
        return path
    if not isinstance(data, dict) or "status" not in data:
        raise CameraError(path, "", "a cameras.json (with 'frames') or an `eval camera` result (with 'status')")
    result = CameraResult.from_json(data, path)
    if not result.ok:
        raise CameraError(path, "status", "ok", got=f"{result.status}: {result.reason}")
    cameras = result.recovered_cameras(path)
    if not cameras.is_file():
        raise CameraError(path, "cameras", "the recovered cameras beside it", got=f"{cameras} missing")
    return cameras


def camera_magnitude(path: Path, measure: str) -> float:
    """``path_length`` of the camera centres or total ``rotation`` (degrees) of a cameras.json."""
    traj = read_cameras(cameras_of(path)).validate(str(path))
    if len(traj) < 2:
        raise CameraError(path, "frames", "at least 2 cameras", got=len(traj))
    if measure == "path_length":
        return traj.path_length()
    R = traj.rotations
    return float(np.degrees(rotation_angle(np.swapaxes(R[:-1], 1, 2) @ R[1:]).sum()))


def camera_linearity(
    manifest: str | Path,
    out: str | Path,
    cfg: CameraLinearityConfig | None = None,
    label: str | None = None,
    step: int | None = None,
) -> dict:
    """Pearson correlation between S and recovered camera motion.

    Args:
        manifest: CSV with columns ``camera`` (a cameras.json, or an ``eval camera`` result JSON
            whose cameras.json lies beside it; relative to the manifest's folder) and ``scale``.
        out: summary JSON; the per-video CSV goes beside it as ``OUT_per_video.csv``.
    """
    cfg = cfg or CameraLinearityConfig()
    manifest, out = Path(manifest), Path(out)
    _check_outputs(manifest, out)
    df = read_manifest(manifest, "camera")
    per_video = _measure_all(
        df, "camera", manifest.parent, lambda p: camera_magnitude(p, cfg.measure), "camera magnitude"
    )
    units = "cameras' units" if cfg.measure == "path_length" else "degrees"
    summary = {
        "magnitude": f"camera {cfg.measure.replace('_', ' ')}",
        "units": units,
        "manifest": str(manifest),
        **_label_step(out, label, step),
        "config": to_dict(cfg),
    }
    return _write(per_video, out, summary, cfg.min_videos)
