"""The training-pairs manifest (contract 1), from camera clips and web-video motion clips.

``OUT/manifest.csv`` has one row per (clip, S): ``clip`` (mp4 path relative to OUT), ``kind``
(``camera`` / ``motion``), ``lora`` (the primitive of a camera clip, ``motion`` otherwise),
``scale`` (S), ``frames`` (JSON list of frame indices), ``cameras`` (camera pairs: a cameras.json
under ``OUT/cameras/`` holding the ground-truth cameras of exactly those frames; empty for motion
pairs) and ``prompt`` (camera pairs: the scene's caption from ``captions``, else the
``camera_prompt`` template, see :mod:`lionlora.scenes.captions`; the scene of a clip folder
``.../{scene}/{primitive}/`` is its parent folder's name). Clips too short for the configured length are not paired: they are listed
with the reason in ``OUT/skipped.csv``. ``OUT/pairs_config.json`` is the resolved config. The
folder is written atomically.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from lionlora.config import dump_config
from lionlora.errors import CameraError, InputError
from lionlora.io.cameras_json import read_cameras, write_cameras
from lionlora.io.files import atomic_dir, write_text
from lionlora.io.video import probe_video
from lionlora.pipelines.pairs.config import PairsConfig
from lionlora.pipelines.webvideo.manifest import WebVideoManifest
from lionlora.records.pairs import COLUMNS as PAIRS_COLUMNS
from lionlora.records.pairs import PairRow, PairsManifest
from lionlora.scaling import sample_indices
from lionlora.scenes.captions import read_captions, scene_prompt

log = logging.getLogger(__name__)

COLUMNS = list(PAIRS_COLUMNS)
MANIFEST = "manifest.csv"
#: Marks a folder as this stage's output; not the manifest, which a workflow deletes before a re-run.
MARKER = "pairs_config.json"


def find_camera_clips(paths: list[str | Path]) -> list[Path]:
    """Clip folders (holding ``cameras.json`` and ``clip.mp4``): each path is one, or is searched for them."""
    found: list[Path] = []
    for p in map(Path, paths):
        if (p / "cameras.json").is_file():
            found.append(p)
        elif p.is_dir():
            found.extend(sorted(c.parent for c in p.rglob("cameras.json") if (c.parent / "clip.mp4").is_file()))
        else:
            raise InputError(p, "", "a clip folder (cameras.json + clip.mp4) or a folder of them", got="not found")
    for clip in found:
        if not (clip / "clip.mp4").is_file():
            raise InputError(clip, "clip.mp4", "the clip video next to cameras.json", got="missing")
    return found


def read_webvideo_clips(manifest: str | Path, prompt_column: str = "prompt") -> list[tuple[Path, str]]:
    """Accepted motion clips ``(path, prompt)`` of a web-video manifest (contract 2: ``clips`` column,
    paths relative to the manifest's folder joined with ``;``)."""
    manifest = Path(manifest)
    return WebVideoManifest.read(manifest, columns=("clips",)).accepted_clips(manifest, prompt_column)


def _key(clip_dir: Path, used: set[str]) -> str:
    """A file-name-safe, unique name for a clip folder (its last two path components)."""
    base = re.sub(r"[^A-Za-z0-9_+.-]+", "_", "__".join(clip_dir.resolve().parts[-2:]))
    key, n = base, 1
    while key in used:
        n += 1
        key = f"{base}_{n}"
    used.add(key)
    return key


def _camera_rows(
    clip_dir: Path, key: str, out: Path, tmp: Path, cfg: PairsConfig, skipped: list, prompt: str
) -> list[PairRow]:
    cams = read_cameras(clip_dir / "cameras.json")
    primitive = cams.metadata.get("primitive")
    if not isinstance(primitive, str) or not primitive:
        raise CameraError(clip_dir / "cameras.json", "lionlora.primitive", "the clip's primitive name", got=primitive)
    video = clip_dir / "clip.mp4"
    info = probe_video(video)
    n_video = info.frames
    if n_video != len(cams):
        raise CameraError(
            clip_dir / "cameras.json", "frames", f"one camera per frame of {video} ({n_video})", len(cams)
        )
    cams.intrinsics.check_image_size(info.width, info.height, str(video), str(clip_dir / "cameras.json"))
    if len(cams) < cfg.camera_frames or n_video < cfg.camera_frames:
        skipped.append(
            {
                "clip": os.path.relpath(video.resolve(), out.resolve()),
                "kind": "camera",
                "reason": f"{len(cams)} cameras / {n_video} video frames, fewer than camera_frames = "
                f"{cfg.camera_frames}",
            }
        )
        return []
    rows = []
    for s in cfg.camera_scales:
        idx = sample_indices(s, cfg.camera_frames, cfg.sample_frames, str(clip_dir))
        name = f"cameras/{key}__S{s:.4f}.json"
        write_cameras(tmp / name, cams.subset(idx), metadata={"clip": str(video), "scale": s, "frames": idx})
        rows.append(
            PairRow(
                clip=os.path.relpath(video.resolve(), out.resolve()),
                kind="camera",
                lora=primitive,
                scale=s,
                frames=tuple(idx),
                cameras=name,
                prompt=prompt,
            )
        )
    return rows


def _motion_rows(video: Path, prompt: str, out: Path, cfg: PairsConfig, skipped: list) -> list[PairRow]:
    rel = os.path.relpath(video.resolve(), out.resolve())
    n_video = probe_video(video).frames
    if n_video < cfg.motion_frames:
        skipped.append(
            {
                "clip": rel,
                "kind": "motion",
                "reason": f"{n_video} frames, fewer than motion_frames = {cfg.motion_frames}",
            }
        )
        return []
    return [
        PairRow(
            clip=rel,
            kind="motion",
            lora="motion",
            scale=s,
            frames=tuple(sample_indices(s, cfg.motion_frames, cfg.sample_frames, str(video))),
            prompt=prompt,
        )
        for s in cfg.motion_scales
    ]


def build_pairs(
    out: str | Path,
    camera_clips: list[str | Path] = (),
    webvideos: str | Path | None = None,
    cfg: PairsConfig | None = None,
) -> pd.DataFrame:
    """Write the pairs folder ``out`` (see the module docstring) and return the manifest table."""
    cfg = cfg or PairsConfig()
    out = Path(out)
    clips = find_camera_clips(list(camera_clips))
    motion = read_webvideo_clips(webvideos, cfg.prompt_column) if webvideos else []
    if not clips and not motion:
        raise InputError("pairs", "clips", "at least one camera clip or web-video clip", got="none")
    captions = read_captions(cfg.captions) if cfg.captions else {}
    rows, skipped, used = [], [], set()
    with atomic_dir(out, MARKER) as tmp:
        for clip_dir in clips:
            prompt = scene_prompt(clip_dir.resolve().parent.name, cfg.camera_prompt, captions)
            rows += _camera_rows(clip_dir, _key(clip_dir, used), out, tmp, cfg, skipped, prompt)
        for video, prompt in motion:
            rows += _motion_rows(video, prompt, out, cfg, skipped)
        manifest = PairsManifest(rows)
        write_text(tmp / "skipped.csv", pd.DataFrame(skipped, columns=["clip", "kind", "reason"]).to_csv(index=False))
        dump_config(cfg, tmp / MARKER)
        manifest.write(tmp / MANIFEST)
    table = manifest.to_table()
    for s in skipped:
        log.warning("not paired: %s (%s)", s["clip"], s["reason"])
    log.info(
        "%d pairs (%d camera, %d motion) -> %s",
        len(table),
        int(np.sum(table["kind"] == "camera")),
        int(np.sum(table["kind"] == "motion")),
        out / MANIFEST,
    )
    return table
