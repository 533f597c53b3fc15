"""``lionlora filter``: curate a folder of web videos into static-camera clips with enough motion.

For each input (see :mod:`lionlora.pipelines.webvideo.intake`): probe it, plan its clips, reject it when it
is too short for one clip, otherwise track border points and measure optical flow in each planned
clip (:mod:`lionlora.pipelines.webvideo.analysis`), and cut the clips of accepted videos
(:mod:`lionlora.pipelines.webvideo.clips`). A file that cannot be read becomes a row with status ``error``
and the reason; the run goes on. Rows are saved in ``.manifest.cache.csv`` after every video, and
``manifest.csv`` is written when the run completes. A re-run reuses every row (from either file)
whose input (path, size, modification time) and config fingerprint are unchanged and whose clips
exist, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from lionlora.config import dump_config
from lionlora.errors import ConfigError, DependencyError, LionLoraError, VideoError
from lionlora.io.video import VIDEO_EXTENSIONS, probe_video
from lionlora.pipelines.webvideo.analysis import analyse_video, analysis_queries, decide
from lionlora.pipelines.webvideo.clips import plan_clips, write_clips
from lionlora.pipelines.webvideo.config import FilterConfig
from lionlora.pipelines.webvideo.intake import InputVideo, discover
from lionlora.pipelines.webvideo.manifest import (
    CACHE,
    COLUMNS,
    MANIFEST,
    OBJECT_MOTION_UNIT,
    clip_paths,
    fmt_bool,
    fmt_float,
    read_manifest,
    write_manifest,
)
from lionlora.pipelines.webvideo.tracking import Tracker, make_tracker

log = logging.getLogger(__name__)

CLIPS = "clips"
CONFIG_FILE = "filter_config.json"


def clip_folder(rel: str) -> str:
    """Folder (relative to the output) of an input's clips: ``clips/<rel path>_<ext>``, e.g.
    ``clips/sub/talk_mp4``. Characters other than letters, digits, ``._-/`` become ``_`` and a
    short hash of the path is appended when that happened, so folders stay distinct."""
    p = Path(rel)
    key = p.with_name(f"{p.stem}_{p.suffix[1:]}").as_posix()
    safe = re.sub(r"[^A-Za-z0-9._/-]", "_", key)
    if safe != key:
        safe += "_" + hashlib.sha256(rel.encode()).hexdigest()[:8]
    return f"{CLIPS}/{safe}"


def _identity(video: InputVideo, cfg: FilterConfig) -> dict:
    return {
        "video": video.rel,
        "bytes": str(video.bytes),
        "mtime_ns": str(video.mtime_ns),
        "config": cfg.fingerprint(),
        "tracker": cfg.tracker,
    }


def process_video(video: InputVideo, cfg: FilterConfig, out: Path, tracker: Tracker) -> dict:
    """Analyse one input and cut its clips when accepted; the manifest row (strings).

    Unreadable inputs give a row with status ``error``. Config and dependency errors propagate:
    they are not about the video.
    """
    row = _identity(video, cfg)
    folder = out / clip_folder(video.rel)
    try:
        if folder.exists():
            shutil.rmtree(folder)  # clips of an earlier run with another input or config
        if not video.supported:
            raise VideoError(video.path, "extension", f"one of {', '.join(VIDEO_EXTENSIONS)}", got=video.path.suffix)
        info = probe_video(video.path)
        row.update(frames=str(info.frames), fps=fmt_float(info.fps), width=str(info.width), height=str(info.height))
        plan = plan_clips(info, cfg)
        if plan.clips == 0:
            row.update(
                status="ok",
                keep=fmt_bool(False),
                reason=f"too short: {plan.available} frames at {cfg.fps:g} fps, a clip needs {cfg.clip_frames}",
            )
            return row
        analysis = analyse_video(video.path, plan, cfg, tracker)
        decision = decide(analysis, cfg)
        row.update(
            status="ok",
            keep=fmt_bool(decision.keep),
            reason=decision.reason,
            static_camera=fmt_bool(decision.static_camera),
            camera_motion=fmt_float(analysis.camera_motion),
            motion=fmt_float(analysis.motion),
            object_motion=fmt_float(analysis.object_motion),
            object_motion_unit=OBJECT_MOTION_UNIT,
            border_points=str(analysis.border_points),
            min_visible=str(analysis.min_visible),
        )
        if decision.keep:
            paths = write_clips(video.path, plan, cfg, folder)
            row["clips"] = ";".join(p.relative_to(out).as_posix() for p in paths)
    except (ConfigError, DependencyError):
        raise
    except LionLoraError as exc:
        row.update(status="error", keep=fmt_bool(False), reason=str(exc))
    except Exception as exc:  # a decoder or codec crash on a broken download is data, not a bug here
        log.warning("%s: %s: %s", video.path, type(exc).__name__, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        row.update(status="error", keep=fmt_bool(False), reason=f"{video.path}: {type(exc).__name__}: {exc}")
    if row["status"] == "error":
        for key in (
            "static_camera",
            "camera_motion",
            "motion",
            "object_motion",
            "object_motion_unit",
            "border_points",
            "min_visible",
            "clips",
        ):
            row.pop(key, None)
        shutil.rmtree(folder, ignore_errors=True)
    return {c: row.get(c, "") for c in COLUMNS}


def _reusable(row: dict | None, video: InputVideo, cfg: FilterConfig, out: Path) -> bool:
    if row is None:
        return False
    same = (row.get("bytes"), row.get("mtime_ns"), row.get("config")) == (
        str(video.bytes),
        str(video.mtime_ns),
        cfg.fingerprint(),
    )
    return same and all((out / p).is_file() for p in clip_paths(row))


def _previous_rows(out: Path) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for name in (MANIFEST, CACHE):  # the cache is at least as new as the manifest
        path = out / name
        if path.is_file():
            try:
                rows.update({r["video"]: r for r in read_manifest(path)})
            except LionLoraError as exc:
                log.warning("ignoring %s: %s", path, exc)
    return rows


_WORKER: dict = {}


def _worker_init(cfg: FilterConfig) -> None:
    _WORKER["tracker"] = make_tracker(cfg)


def _worker_run(video: InputVideo, cfg: FilterConfig, out: Path) -> dict:
    return process_video(video, cfg, out, _WORKER["tracker"])


@dataclass
class FilterSummary:
    """What a run did: the manifest rows, and how many were computed or reused."""

    manifest: Path
    rows: list[dict]
    processed: int
    reused: int

    def count(self, status: str, keep: bool | None = None) -> int:
        return sum(r["status"] == status and (keep is None or r["keep"] == fmt_bool(keep)) for r in self.rows)


def filter_videos(input_dir: str | Path, out: str | Path, cfg: FilterConfig | None = None) -> FilterSummary:
    """Curate the videos under ``input_dir`` into ``out`` (manifest.csv, clips/, filter_config.json)."""
    cfg = cfg or FilterConfig()
    input_dir, out = Path(input_dir), Path(out)
    analysis_queries(cfg)  # reject a grid without enough border points before any work
    videos = discover(input_dir, exclude=[out])
    out.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, out / CONFIG_FILE)
    previous = _previous_rows(out)
    rows = {v.rel: previous[v.rel] for v in videos if _reusable(previous.get(v.rel), v, cfg, out)}
    todo = [v for v in videos if v.rel not in rows]
    present = {v.rel for v in videos}
    for rel in set(previous) - present:  # inputs that disappeared: drop their clips
        shutil.rmtree(out / clip_folder(rel), ignore_errors=True)
    log.info(
        "%s: %d videos, %d to analyse, %d unchanged since the last run", input_dir, len(videos), len(todo), len(rows)
    )
    bar = tqdm(total=len(todo), desc="filter", unit="video")
    if todo and cfg.workers == 1:
        tracker = make_tracker(cfg)
        for video in todo:
            rows[video.rel] = process_video(video, cfg, out, tracker)
            write_manifest(out / CACHE, list(rows.values()))
            bar.update()
    elif todo:
        make_tracker(cfg)  # fail here, once, when the backend is unavailable
        with ProcessPoolExecutor(cfg.workers, initializer=_worker_init, initargs=(cfg,)) as pool:
            futures = [pool.submit(_worker_run, v, cfg, out) for v in todo]
            for future in as_completed(futures):
                row = future.result()
                rows[row["video"]] = row
                write_manifest(out / CACHE, list(rows.values()))
                bar.update()
    bar.close()
    write_manifest(out / CACHE, list(rows.values()))
    manifest = write_manifest(out / MANIFEST, list(rows.values()))
    ordered = sorted(rows.values(), key=lambda r: r["video"])
    return FilterSummary(manifest, ordered, processed=len(todo), reused=len(videos) - len(todo))
