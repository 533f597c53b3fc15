"""``lionlora benchmark run``: score folders of videos against a suite, beside the paper's tables.

Writes into ``OUT/``:

* ``per_video.csv`` (columns :data:`~lionlora.benchmark.scoring.PER_VIDEO_COLUMNS`), one row per
  method and sample, the noise floor included; a sample without a video is a ``missing`` row;
* ``camera_metrics.csv``, ``camera_tables.md``, ``table_config.json``: the tables of
  :mod:`lionlora.eval.camera.tables` (paper rows, success rates, bootstrap CIs, failures counted,
  the noise-floor row, FVD with ``--real``/``--i3d``);
* ``results/{method}/{sample}/camera.json`` (+ recovered ``cameras.json``, resampled
  ``gt_cameras.json``): the per-video cache, reused when the video, ground truth and options are
  unchanged; ``fvd/{method}.json``; ``figures/``; ``benchmark_run.json`` (settings, counts, timing, training scenes).

A sample whose scene trained one of the adapters behind a method's videos is flagged ‡ in the
tables (:mod:`lionlora.benchmark.flags`: known from ``DIR/benchmark_generate.json`` or a declared
``DIR/training_scenes.txt``; a folder with neither flags nothing).

The noise floor (the suite's reference frames through the same evaluation) is cached in
``SUITE/noise_floor/`` and computed once per evaluation config. Every input is checked before
anything is written; every file is written atomically.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lionlora.config import dump_config, to_dict
from lionlora.errors import ConfigError, InputError
from lionlora.eval.camera.config import CameraEvalConfig
from lionlora.eval.camera.tables import MethodResults, TableConfig, load_paper_tables, render_markdown, summarise
from lionlora.io.files import write_csv, write_json, write_text
from lionlora.lora.config import check_name

from .flags import benchmark_flags
from .manifest import SCENES, SuiteManifest, read_scenes
from .scoring import PER_VIDEO_COLUMNS, VideoTask, cache_key, cached_row, find_video, run_task, score_video
from .suite import NOISE_FLOOR, REFERENCE, check_suite

log = logging.getLogger(__name__)

#: Method name of the noise-floor rows (reserved: no --videos NAME may use it).
FLOOR = "noise_floor"


def parse_videos(items: list[str]) -> dict[str, Path]:
    """``NAME=DIR`` arguments -> ``{NAME: DIR}``; a NAME used twice or a missing DIR is an error."""
    out: dict[str, Path] = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not folder:
            raise ConfigError("--videos", "", "NAME=DIR, e.g. camctrl=videos/camctrl", got=item)
        check_name(name, "--videos", "NAME")
        if name in out:
            raise ConfigError("--videos", "NAME", "each NAME once", got=name)
        if name == FLOOR:
            raise ConfigError("--videos", "NAME", f"a name other than {FLOOR!r} (the noise-floor rows)", got=name)
        if not Path(folder).is_dir():
            raise InputError(folder, "", f"a folder of videos for --videos {name}", got="no such folder")
        out[name] = Path(folder)
    if not out:
        raise ConfigError("--videos", "", "at least one NAME=DIR", got=items)
    return out


def _tasks(manifest: SuiteManifest, suite: Path, videos: dict[str, Path], out: Path, cfg: dict) -> list[VideoTask]:
    tasks = []
    for method, folder in [(FLOOR, suite / REFERENCE), *videos.items()]:
        root = suite / NOISE_FLOOR if method == FLOOR else out / "results" / method
        for s in manifest.samples:
            video = find_video(folder, s.sample)
            tasks.append(
                VideoTask(
                    method,
                    s.sample,
                    s.primitive,
                    video,
                    suite / s.cameras,
                    s.frames,
                    s.height,
                    s.width,
                    root / s.sample,
                    cfg,
                )
            )
    return tasks


def score_all(tasks: list[VideoTask], jobs: int) -> tuple[list[dict], dict[str, Any]]:
    """Rows of every task in task order: cached ones reused, the others scored on ``jobs`` processes."""
    keys = [cache_key(t) for t in tasks]
    rows: list[dict | None] = [cached_row(t, k) if t.video is not None else None for t, k in zip(tasks, keys)]
    todo = [i for i, r in enumerate(rows) if r is None]
    started = time.time()
    with tqdm(total=len(todo), desc="benchmark run", unit="video") as bar:
        if jobs > 1 and len(todo) > 1:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(run_task, (tasks[i], keys[i])): i for i in todo}
                for fut in as_completed(futures):
                    rows[futures[fut]] = fut.result()
                    bar.update()
        else:
            for i in todo:
                rows[i] = score_video(tasks[i], keys[i])
                bar.update()
    seconds = time.time() - started
    scored = sum(tasks[i].video is not None for i in todo)
    timing = {
        "videos_scored": scored,
        "videos_cached": len(tasks) - len(todo),
        "seconds": round(seconds, 2),
        "jobs": jobs,
        "videos_per_minute": round(60.0 * scored / seconds, 3) if scored and seconds > 0 else None,
    }
    return [r for r in rows if r is not None], timing


def _fvd(videos: dict[str, Path], manifest: SuiteManifest, real: Path, i3d: Path, out: Path) -> dict[str, dict]:
    from lionlora.eval.quality.config import FvdConfig
    from lionlora.eval.quality.fvd import compute_fvd
    from lionlora.io.video import VIDEO_EXTENSIONS

    include = [f"{s.sample}{ext}" for s in manifest.samples for ext in VIDEO_EXTENSIONS]
    include += [s.sample for s in manifest.samples]
    cfg = FvdConfig(i3d=i3d, frame_folders=True, include=include, cache_dir=out / "cache" / "i3d_features")
    results = {}
    for name, folder in videos.items():
        try:
            results[name] = compute_fvd(real, folder, cfg, out / "fvd" / f"{name}.json")
        except InputError as exc:  # e.g. fewer than 2 videos: no covariance; recorded, the row shows no FVD
            log.warning("FVD of %s: %s", name, exc)
            results[name] = {"error": str(exc)}
            (out / "fvd" / f"{name}.json").unlink(missing_ok=True)
    return results


def run_benchmark(
    suite: str | Path,
    videos: dict[str, Path],
    out: str | Path,
    camera: CameraEvalConfig | None = None,
    jobs: int = 1,
    baseline: str | None = None,
    real: str | Path | None = None,
    i3d: str | Path | None = None,
    figures: bool = True,
) -> dict[str, Any]:
    """Score every method's videos and the noise floor; write the tables, figures and record into ``out``.

    ``camera.num_threads == -1`` becomes 1: SfM runs single-threaded per video (its results are then
    reproducible) and in parallel over videos with ``jobs``.

    Raises:
        InputError / ConfigError: a bad suite, folder, name, or ``--real`` without ``--i3d``; all
            checked before anything is written.
    """
    suite, out = Path(suite), Path(out)
    camera = camera or CameraEvalConfig()
    if camera.num_threads == -1:
        camera = dataclasses.replace(camera, num_threads=1)
    if jobs < 1:
        raise ConfigError("--jobs", "", "an integer >= 1", got=jobs)
    if (real is None) != (i3d is None):
        raise ConfigError("--real/--i3d", "", "both (FVD) or neither", got=(real, i3d))
    if baseline is not None and baseline not in videos:
        raise ConfigError("--baseline", "", f"one of the --videos names {sorted(videos)}", got=baseline)
    manifest = check_suite(suite)
    flags, flag_record = benchmark_flags(read_scenes(suite / SCENES), videos)
    tasks = _tasks(manifest, suite, videos, out, to_dict(camera))
    rows, timing = score_all(tasks, jobs)
    table_cfg = TableConfig(floor=FLOOR, baseline=baseline or TableConfig().baseline)
    methods = {name: MethodResults(name) for name in (FLOOR, *videos)}
    for row in rows:
        methods[row["method"]].videos.append(row)
    fvd_errors = {}
    if real is not None:
        for name, rec in _fvd(videos, manifest, Path(real), Path(i3d), out).items():
            if "error" in rec:
                fvd_errors[name] = rec["error"]
                continue
            methods[name].fvd["all"] = rec["fvd"]
            methods[name].fvd_comparable = rec["comparable_to_paper"]
    paper = load_paper_tables()
    summary = summarise(list(methods.values()), table_cfg, paper, flags)
    write_csv(out / "per_video.csv", rows, PER_VIDEO_COLUMNS)
    write_csv(out / "camera_metrics.csv", summary, list(summary[0]))
    write_text(out / "camera_tables.md", render_markdown(summary, table_cfg, paper, flags))
    dump_config(table_cfg, out / "table_config.json")
    paths: list[str] = []
    if figures:
        from .figures import write_figures

        paths = [str(p.relative_to(out)) for p in write_figures(rows, summary, tasks, out / "figures", paper)]
    record = {
        "suite": str(suite),
        "videos": {k: str(v) for k, v in videos.items()},
        "samples": len(manifest.samples),
        "camera_config": to_dict(camera),
        "baseline": table_cfg.baseline,
        "fvd": {"real": str(real), "i3d": str(i3d), "errors": fvd_errors} if real is not None else None,
        "training_scenes": flag_record,
        "timing": timing,
        "figures": paths,
        "counts": {
            m: {s: sum(r["status"] == s for r in res.videos) for s in ("ok", "failed", "missing")}
            for m, res in methods.items()
        },
    }
    write_json(out / "benchmark_run.json", record)
    log.info(
        "%d videos scored, %d cached, %.1f s (%s videos/min) -> %s",
        timing["videos_scored"],
        timing["videos_cached"],
        timing["seconds"],
        timing["videos_per_minute"],
        out,
    )
    return record
