"""The labelled set: short videos made from real photographs bundled in scikit-image.

Each video is a camera looking at a photograph (the background) with round cut-outs of other
photographs moving in front of it (objects). The camera is a similarity warp of the view (pan,
zoom, roll, hand-shake), objects move in the scene and are warped with it, and every frame gets
sensor noise; H.264 encoding adds compression artefacts. :data:`KINDS` lists the videos and the
decision the filter should take on each. Besides the easy cases, the set holds the hard ones of
real footage: small moving regions (people far away, one object), still videos whose only change
is sensor noise and strong compression or nothing at all (a photo shown as a video), and slow pans
and zooms.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lionlora.errors import ConfigError
from lionlora.io.files import write_bytes, write_csv
from lionlora.io.video import cover_frame, write_video

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    """One labelled video: its content and the expected decisions."""

    background: str
    keep: bool
    static: bool
    moving: bool
    what: str
    noise: float = 2.0  # sensor noise std (grey levels)
    crf: int = 18  # H.264 quality the video is written with


#: name -> content and expected decision (keep = static camera and enough object motion).
KINDS: dict[str, Kind] = {
    "static_objects": Kind("coffee", True, True, True, "static camera, three objects moving"),
    "static_objects_b": Kind("astronaut", True, True, True, "static camera, objects moving, flat regions"),
    "border_crossing": Kind("brick", True, True, True, "static camera, a large object crossing the bottom band"),
    "pan": Kind("rocket", False, False, True, "camera panning right (objects moving too)"),
    "zoom": Kind("chelsea", False, False, True, "camera zooming in"),
    "rotate": Kind("immunohistochemistry", False, False, True, "camera rolling about its axis"),
    "shake": Kind("coffee", False, False, True, "hand-held camera shake"),
    "still": Kind("astronaut", False, True, False, "static camera, nothing moving"),
    "far_people": Kind("brick", True, True, True, "static camera, six small figures (1/20 of the frame) walking"),
    "one_object": Kind("astronaut", True, True, True, "static camera, one small object moving"),
    "still_noisy": Kind("coffee", False, True, False, "static camera, nothing moving, heavy noise, CRF 32", 6.0, 32),
    "still_photo": Kind("chelsea", False, True, False, "a photograph shown as a video (no noise)", 0.0),
    "slow_pan": Kind("rocket", False, False, True, "camera panning slowly (4% of the view), small figures walking"),
    "slow_zoom": Kind("coffee", False, False, False, "camera zooming in slowly (6%), nothing moving"),
}

SPRITES = ("chelsea", "coffee", "astronaut", "rocket")


def _photo(name: str) -> np.ndarray:
    from skimage import data

    img = np.asarray(getattr(data, name)())
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3])


def _sprite(name: str, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """A round cut-out of a photograph and its soft alpha, ``[2r, 2r, 3]`` and ``[2r, 2r, 1]``."""
    img = cover_frame(_photo(name), 2 * radius, 2 * radius).astype(np.float32)
    yy, xx = np.mgrid[: 2 * radius, : 2 * radius] + 0.5 - radius
    alpha = np.clip(radius - np.hypot(xx, yy), 0, 1.5) / 1.5
    return img, alpha[..., None].astype(np.float32)


def _paste(canvas: np.ndarray, sprite: tuple[np.ndarray, np.ndarray], cx: float, cy: float) -> None:
    """Alpha-blend a sprite centred at integer-rounded (cx, cy) into a float canvas, clipped to it."""
    img, alpha = sprite
    r = img.shape[0] // 2
    x0, y0 = int(round(cx)) - r, int(round(cy)) - r
    H, W = canvas.shape[:2]
    a0, b0 = max(0, -y0), max(0, -x0)
    a1, b1 = min(2 * r, H - y0), min(2 * r, W - x0)
    if a1 <= a0 or b1 <= b0:
        return
    region = canvas[y0 + a0 : y0 + a1, x0 + b0 : x0 + b1]
    al = alpha[a0:a1, b0:b1]
    region[:] = region * (1 - al) + img[a0:a1, b0:b1] * al


def _camera(kind: str, t: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """Per-frame camera ``[T, 4]``: translation x, y (px), log-scale, roll (rad), relative to frame 0."""
    cam = np.zeros((len(t), 4))
    u = t / max(t[-1], 1)
    if kind == "pan":
        cam[:, 0] = 0.25 * size * u
    elif kind == "slow_pan":
        cam[:, 0] = 0.04 * size * u
    elif kind == "zoom":
        cam[:, 2] = np.log(1.25) * u
    elif kind == "slow_zoom":
        cam[:, 2] = np.log(1.06) * u
    elif kind == "rotate":
        cam[:, 3] = np.deg2rad(8.0) * u
    elif kind == "shake":
        # smoothed random walk: a hand-held camera drifting and trembling by a few percent
        steps = rng.normal(0, 1, (len(t) + 8, 3))
        kernel = np.hanning(9) / np.hanning(9).sum()
        smooth = np.stack([np.convolve(steps[:, i], kernel, "valid") for i in range(3)], 1)[: len(t)]
        walk = np.cumsum(smooth, axis=0)
        walk -= walk[0]
        cam[:, 0] = 0.003 * size * walk[:, 0]
        cam[:, 1] = 0.003 * size * walk[:, 1]
        cam[:, 3] = np.deg2rad(0.05) * walk[:, 2]
    return cam


def _objects(kind: str, t: np.ndarray, height: int, width: int, rng: np.random.Generator) -> list[tuple]:
    """Objects as (sprite name, radius, centre x [T], centre y [T]) in view coordinates of frame 0."""
    if kind in ("still", "still_noisy", "still_photo", "slow_zoom"):
        return []
    m = min(height, width)
    if kind in ("far_people", "slow_pan", "one_object"):
        return _walkers(6 if kind != "one_object" else 1, t, height, width, rng, 0.05 if kind != "one_object" else 0.14)
    out = []
    for i in range(3):
        r = int(0.12 * m)
        cx0, cy0 = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
        ang = rng.uniform(0, 2 * np.pi)
        speed = rng.uniform(0.008, 0.015) * m  # px per frame
        amp = speed * len(t) / 4
        cx = cx0 + amp * np.sin(2 * np.pi * t / len(t) + ang)
        cy = cy0 + 0.5 * amp * np.cos(2 * np.pi * t / len(t) + ang)
        out.append((SPRITES[i % len(SPRITES)], r, cx, cy))
    if kind == "border_crossing":
        r = int(0.3 * m)
        cx = -r + (width + 2 * r) * t / max(t[-1], 1)
        out.append(("chelsea", r, cx, np.full(len(t), height - 0.1 * m)))
    return out


def _walkers(n: int, t: np.ndarray, height: int, width: int, rng: np.random.Generator, size: float) -> list[tuple]:
    """``n`` small objects of diameter ``size * min(H, W)`` walking in straight lines at 0.3-0.6% of
    ``min(H, W)`` per frame (a person far away at 24 fps), somewhere in the middle of the view."""
    m = min(height, width)
    r = max(3, int(size * m / 2))
    out = []
    for i in range(n):
        x0, y0 = rng.uniform(0.25, 0.75) * width, rng.uniform(0.3, 0.7) * height
        speed, ang = rng.uniform(0.003, 0.006) * m, rng.uniform(-0.3, 0.3) + np.pi * rng.integers(2)
        out.append((SPRITES[i % len(SPRITES)], r, x0 + speed * t * np.cos(ang), y0 + speed * t * np.sin(ang)))
    return out


def make_video(
    kind: str, frames: int = 61, height: int = 240, width: int = 360, seed: int = 0, noise: float | None = None
) -> np.ndarray:
    """One labelled video ``[T, H, W, 3]`` uint8 of :data:`KINDS` ``kind`` (``noise``: the kind's own
    sensor noise when None)."""
    if kind not in KINDS:
        raise ConfigError("make_video", "kind", f"one of {sorted(KINDS)}", got=kind)
    if frames < 2 or height < 32 or width < 32:
        raise ConfigError(
            "make_video", "frames/height/width", "frames >= 2 and a size of at least 32x32", got=(frames, height, width)
        )
    noise = KINDS[kind].noise if noise is None else noise
    rng = np.random.default_rng(seed + sorted(KINDS).index(kind))
    pad = int(0.25 * max(height, width))  # scene margin that camera motion can bring into view
    scene = cover_frame(_photo(KINDS[kind].background), height + 2 * pad, width + 2 * pad).astype(np.float32)
    t = np.arange(frames, dtype=np.float64)
    cam = _camera(kind, t, min(height, width), rng)
    objects = [(_sprite(name, r), cx, cy) for name, r, cx, cy in _objects(kind, t, height, width, rng)]
    centre = np.array([pad + (width - 1) / 2, pad + (height - 1) / 2])
    out = np.empty((frames, height, width, 3), np.uint8)
    for i in range(frames):
        canvas = scene.copy()
        for sprite, cx, cy in objects:
            _paste(canvas, sprite, cx[i] + pad, cy[i] + pad)
        tx, ty, log_s, roll = cam[i]
        # view pixel -> scene pixel: rotate and scale about the view centre, then translate
        a = np.exp(-log_s) * np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
        off = centre + np.array([tx, ty]) - a @ np.array([(width - 1) / 2, (height - 1) / 2])
        M = np.hstack([a, off[:, None]])
        view = cv2.warpAffine(
            canvas, M, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
        )
        view += rng.normal(0, noise, view.shape).astype(np.float32)
        out[i] = np.clip(view + 0.5, 0, 255).astype(np.uint8)
    return out


def write_labelled_set(
    out: str | Path,
    frames: int = 61,
    height: int = 240,
    width: int = 360,
    fps: float = 12.0,
    seed: int = 0,
    kinds: list[str] | None = None,
    short: int = 0,
    broken: bool = False,
) -> Path:
    """Write the labelled videos as ``OUT/<kind>.mp4`` and their labels as ``OUT/labels.csv``.

    Args:
        short: when > 0, also write ``short.mp4``: static camera, objects moving, ``short`` frames
            (rejected as too short when ``short`` is under the clip length).
        broken: also write broken inputs: ``broken/truncated.mp4`` (a video cut at half its bytes),
            ``broken/empty.mp4`` (0 bytes) and ``broken/garbage.mkv`` (random bytes).
    Returns:
        the folder.
    """
    out = Path(out)
    rows = []
    for kind in kinds or list(KINDS):
        k = KINDS[kind]
        write_video(out / f"{kind}.mp4", make_video(kind, frames, height, width, seed), fps=fps, crf=k.crf)
        rows.append({"video": f"{kind}.mp4", "keep": k.keep, "static": k.static, "moving": k.moving, "what": k.what})
    if short:
        write_video(out / "short.mp4", make_video("static_objects", short, height, width, seed), fps=fps)
        rows.append(
            {
                "video": "short.mp4",
                "keep": False,
                "static": True,
                "moving": True,
                "what": f"static camera, objects moving, only {short} frames",
            }
        )
    if broken:
        paths = write_broken_videos(out / "broken", make_video("still", frames, height, width, seed), fps)
        for p in paths:
            rows.append(
                {
                    "video": p.relative_to(out).as_posix(),
                    "keep": False,
                    "static": "",
                    "moving": "",
                    "what": "broken file",
                }
            )
    write_csv(out / "labels.csv", rows, list(rows[0]))
    log.info("wrote %d labelled videos to %s", len(rows), out)
    return out


def write_broken_videos(folder: str | Path, frames: np.ndarray, fps: float) -> list[Path]:
    """Broken inputs made from ``frames``.

    * ``truncated.mp4``: the first half of an mp4's bytes (its index, at the end, is lost);
    * ``truncated_faststart.mp4``: the first half of an mp4 with its index in front, so that it
      opens, declares every frame and decodes only some;
    * ``empty.mp4``: 0 bytes; ``garbage.mkv``: random bytes.
    """
    folder = Path(folder)
    good = write_video(folder / "truncated.mp4", frames, fps=fps)
    faststart = _remux_faststart(good, folder / "truncated_faststart.mp4")
    for path in (good, faststart):
        data = path.read_bytes()
        write_bytes(path, data[: len(data) // 2])
    empty = write_bytes(folder / "empty.mp4", b"")
    garbage = write_bytes(folder / "garbage.mkv", np.random.default_rng(0).bytes(4096))
    return [good, faststart, empty, garbage]


def _remux_faststart(src: Path, dst: Path) -> Path:
    """Copy an mp4's packets into one whose index (moov atom) precedes the data."""
    import av

    from lionlora.io.files import atomic_path

    with (
        atomic_path(dst) as tmp,
        av.open(str(src)) as inp,
        av.open(str(tmp), "w", format="mp4", options={"movflags": "faststart"}) as out,
    ):
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return dst
