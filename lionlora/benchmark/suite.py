"""``lionlora benchmark suite``: a portable folder of what any method must generate, and its checks.

Layout of ``SUITE/`` (every file PNG, JSON or text, so the same clips give the same bytes)::

    manifest.csv                     the samples (lionlora.benchmark.manifest)
    README.md                        what to generate and where to put it, for other methods' authors
    suite.json                       frames, size, prompt source, the source clips' SHA-256
    scenes.txt                       the scenes the suite holds, one per line
    samples/{scene}__{primitive}/    image.png, cameras.json, cameras_re10k.txt, prompt.txt
    reference/{scene}__{primitive}/  00000.png ... : the source clip's frames the cameras show (noise floor)
    noise_floor/                     written by ``benchmark run``: the cached noise floor (not part of the suite)

The frames of a sample are ``F`` frames evenly spread over the whole source clip (S = 1, the rule
of :mod:`lionlora.scaling`), resized to cover ``H x W`` and centre-cropped; the cameras follow the
same resize and crop (:func:`lionlora.apps.generate.write_gt_cameras`).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lionlora.apps import generate as generate_app
from lionlora.config import opt, to_dict
from lionlora.errors import ConfigError, InputError, SceneError, VideoError
from lionlora.io.cameras_json import read_cameras
from lionlora.io.files import atomic_dir, sha256_file, write_json, write_text
from lionlora.io.re10k import write_re10k
from lionlora.io.video import pick_frames, probe_video, resize_cover, write_image
from lionlora.lora.config import check_name
from lionlora.scaling import sample_indices

from .manifest import MANIFEST, SAMPLE_FILES, SCENES, SuiteManifest, expected_sample_row, write_scenes

log = logging.getLogger(__name__)

SUITE_RECORD = "suite.json"
README = "README.md"
REFERENCE = "reference"
NOISE_FLOOR = "noise_floor"
#: The default prompt; ``{motion}`` is the primitive in words (``orbit_left+pan_up``: "orbit left and pan up").
DEFAULT_PROMPT = "a static scene filmed by a camera that moves: {motion}"


@dataclass
class SuiteConfig:
    """Options of ``lionlora benchmark suite``."""

    frames: int = opt(49, "frames a generated video shows, spread evenly over the whole clip (S = 1)")
    height: int = opt(480, "frame height of the suite (the conditioning image and the cameras)")
    width: int = opt(720, "frame width of the suite")
    prompt_template: str = opt(DEFAULT_PROMPT, "prompt of a scene without a --prompts row ({motion}, {scene})")

    def __post_init__(self) -> None:
        if self.frames < 2:
            raise ConfigError("SuiteConfig", "frames", "at least 2 frames", got=self.frames)
        if self.height < 16 or self.width < 16 or self.height % 2 or self.width % 2:
            raise ConfigError("SuiteConfig", "height/width", "even sizes >= 16", got=(self.height, self.width))


def motion_words(primitive: str) -> str:
    return " and ".join(p.replace("_", " ") for p in primitive.split("+"))


def read_prompts(path: str | Path) -> dict[str, str]:
    """``scene -> prompt`` from a CSV with the columns ``scene,prompt``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "", "a CSV file with the columns scene,prompt", got="no such file")
    reader = csv.DictReader(io.StringIO(path.read_text()))
    if not {"scene", "prompt"} <= set(reader.fieldnames or ()):
        raise InputError(path, "columns", "scene,prompt", got=",".join(reader.fieldnames or ()))
    prompts: dict[str, str] = {}
    for i, row in enumerate(reader, start=2):
        scene, prompt = (row["scene"] or "").strip(), (row["prompt"] or "").strip()
        if not scene or not prompt or scene in prompts:
            raise InputError(path, f"row {i}", "a new scene and a non-empty prompt", got=(scene, prompt))
        prompts[scene] = prompt
    return prompts


def find_clips(root: str | Path) -> list[tuple[str, str, Path]]:
    """``(scene, primitive, folder)`` of every ``ROOT/{scene}/{primitive}/`` holding clip.mp4 + cameras.json."""
    root = Path(root)
    if not root.is_dir():
        raise SceneError(
            root, "", "the render stage's clips folder ROOT/{scene}/{primitive}/clip.mp4", got="no such folder"
        )
    found = []
    for scene_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for prim_dir in sorted(p for p in scene_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            have = [(prim_dir / f).is_file() for f in ("clip.mp4", "cameras.json")]
            if not any(have):
                continue
            if not all(have):
                missing = "clip.mp4" if not have[0] else "cameras.json"
                raise SceneError(prim_dir, missing, "clip.mp4 and cameras.json side by side", got="missing")
            check_name(scene_dir.name.replace(".", "-"), str(scene_dir), "scene")
            for part in prim_dir.name.split("+"):
                check_name(part, str(prim_dir), "primitive")
            found.append((scene_dir.name, prim_dir.name, prim_dir))
    if not found:
        raise SceneError(root, "", "at least one ROOT/{scene}/{primitive}/ with clip.mp4 and cameras.json", got="none")
    return found


def _selected_frames(video: Path, indices: list[int], expected: int) -> np.ndarray:
    """Decode ``video`` once, keeping ``indices``; its frame count must be ``expected``."""
    frames, count = pick_frames(video, indices)
    if count != expected or frames is None:
        raise VideoError(video, "frames", f"one frame per camera of cameras.json ({expected})", got=count)
    return frames


def _write_sample(folder: Path, out: Path, scene: str, primitive: str, prompt: str, cfg: SuiteConfig) -> str:
    """Write one sample (files and reference frames) under ``out``; returns the clip's SHA-256."""
    row = expected_sample_row(scene, primitive, cfg.frames, cfg.height, cfg.width)
    clip, cameras = folder / "clip.mp4", folder / "cameras.json"
    n_cams = len(read_cameras(cameras))
    indices = sample_indices(1.0, n_cams, cfg.frames, str(cameras))
    frames = resize_cover(_selected_frames(clip, indices, n_cams), cfg.height, cfg.width)
    for i, frame in enumerate(frames):
        write_image(out / REFERENCE / row.sample / f"{i:05d}.png", frame)
    write_image(out / row.image, frames[0])
    extra = {"stage": "benchmark suite", "sample": row.sample, "scene": scene, "primitive": primitive}
    written = generate_app.write_gt_cameras(cameras, out / row.cameras, 1.0, cfg.frames, cfg.height, cfg.width, extra)
    fps = probe_video(clip).fps
    stamps = [int(np.floor(i * 1e6 / fps + 0.5)) if fps > 0 else i for i in indices]
    write_re10k(out / row.cameras_re10k, read_cameras(written), f"lionlora://{row.sample}", stamps)
    write_text(out / row.prompt, prompt + "\n")
    return sha256_file(clip)


def build_suite(
    clips: str | Path, out: str | Path, cfg: SuiteConfig | None = None, prompts: str | Path | None = None
) -> SuiteManifest:
    """Write the suite of every clip under ``clips`` into ``out`` (built aside, then moved into place).

    Raises:
        SceneError: no clips, or a clip folder without its cameras.
        VideoError / CameraError: a clip whose frames do not match its cameras, or fewer frames than the suite's.
        InputError: a prompts CSV without a row for one of the scenes.
    """
    cfg = cfg or SuiteConfig()
    found = find_clips(clips)
    table = read_prompts(prompts) if prompts is not None else {}
    rows, sources = [], {}
    with atomic_dir(out, MANIFEST) as tmp:
        for scene, primitive, folder in tqdm(found, desc="benchmark suite", unit="sample"):
            if prompts is not None and scene not in table:
                raise InputError(prompts, "scene", f"a prompt for scene {scene!r}", got="no row")
            prompt = table.get(scene) or cfg.prompt_template.format(motion=motion_words(primitive), scene=scene)
            row = expected_sample_row(scene, primitive, cfg.frames, cfg.height, cfg.width)
            sources[row.sample] = _write_sample(folder, tmp, scene, primitive, prompt, cfg)
            rows.append(row)
        manifest = SuiteManifest(rows)
        record = {
            "format": "lionlora-benchmark-suite/1",
            "config": to_dict(cfg),
            "prompts": "--prompts CSV" if prompts is not None else "template",
            "samples": len(rows),
            "scenes": manifest.scenes,
            "source_sha256": sources,
        }
        write_json(tmp / SUITE_RECORD, record)
        write_scenes(tmp / SCENES, manifest.scenes)
        write_text(tmp / README, suite_readme(manifest, cfg))
        manifest.write(tmp / MANIFEST)
    log.info("%d samples of %d scenes -> %s", len(rows), len(manifest.scenes), out)
    return manifest


def suite_readme(manifest: SuiteManifest, cfg: SuiteConfig) -> str:
    """``SUITE/README.md``: what another method's authors generate, and how it is scored."""
    ex = manifest.samples[0].sample
    return f"""# LiON-LoRA camera-control benchmark suite

{len(manifest.samples)} samples ({len(manifest.scenes)} scenes). For each row of `manifest.csv`
generate one video of **{cfg.frames} frames at {cfg.width}x{cfg.height}** that starts at the
sample's `image` (the conditioning first frame), follows its prompt (`prompt`) and moves the
camera along its cameras (`cameras`: nerfstudio-style `cameras.json`; `cameras_re10k`: the same
cameras in the RealEstate10K layout that CameraCtrl, CamI2V and MotionCtrl read).

## What to put where

One folder per method, one video per sample, named after the sample:

    my_method/{ex}.mp4        (also .avi, .mov, .webm, or a folder {ex}/ of frames)

Then: `lionlora benchmark run --suite SUITE --videos my_method=my_method/ --out OUT`.

* A video with another frame count n (e.g. 16) is scored against the ground truth resampled to
  n evenly spaced frames (first and last kept); this is recorded per video.
* A video of another size is scored (its intrinsics rescaled); this is recorded per video.
* A sample without a video is a `missing` failure; a video that cannot be decoded is a `failed` row.

## cameras_re10k.txt

Line 1 is the source (`lionlora://SAMPLE`; RealEstate10K has the video URL there and readers
skip it). Then one line per frame, 19 numbers separated by spaces:
`timestamp fx/W fy/H cx/W cy/H 0 0` and the row-major 3x4 world-to-camera matrix `[R | t]` in
OpenCV axes (x right, y down, z forward). The timestamp is the frame's time in the source clip in
microseconds. Intrinsics are divided by the width W and height H (pixel-edge origin).

## Files

* `reference/SAMPLE/`: the source clip's frames the cameras show (the SfM noise floor is computed
  from them; `--videos gt=SUITE/reference` scores them as a method).
* `scenes.txt`: the scenes this suite holds; adapters trained on them are flagged.
* `suite.json`: the settings and the SHA-256 of every source clip.
"""


def check_suite(suite: str | Path) -> SuiteManifest:
    """Read a suite folder and check that it holds exactly its files.

    Raises:
        InputError: a missing manifest, a manifest row whose file is missing, a missing or extra
            file anywhere in the suite (``noise_floor/``, the cache of ``benchmark run``, excepted).
    """
    suite = Path(suite)
    manifest = SuiteManifest.read(suite / MANIFEST)
    expected = {MANIFEST, README, SUITE_RECORD, SCENES}
    for s in manifest.samples:
        for key in SAMPLE_FILES:
            rel = getattr(s, key)
            if not (suite / rel).is_file():
                raise InputError(
                    suite / MANIFEST, f"sample {s.sample}: {key}", f"an existing file {rel}", got="missing"
                )
            expected.add(rel)
        expected.update(f"{REFERENCE}/{s.sample}/{i:05d}.png" for i in range(s.frames))
    present = {
        p.relative_to(suite).as_posix()
        for p in suite.rglob("*")
        if p.is_file() and not p.relative_to(suite).as_posix().startswith(f"{NOISE_FLOOR}/")
    }
    if missing := sorted(expected - present):
        raise InputError(suite / missing[0], "", "a file of the suite (see its README.md)", got="missing")
    if extra := sorted(present - expected):
        raise InputError(
            suite / extra[0], "", "only the suite's own files (rebuild it or remove this one)", got="an extra file"
        )
    return manifest
