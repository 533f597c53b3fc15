"""Video and frame-folder I/O: uint8 RGB arrays ``[T, H, W, 3]`` in, H.264 mp4 out.

Reading uses PyAV (FFmpeg). Every failure raises :class:`VideoError` naming the file: missing,
unsupported extension, no video stream, corrupt or truncated data, zero frames. Writing goes
through a temporary file beside the target that is renamed on success (see
:func:`lionlora.io.files.atomic_path`), so an interrupted write leaves nothing under the name.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from lionlora.errors import VideoError
from lionlora.io.files import atomic_path

#: x264 settings of every video the toolkit writes. With x264's defaults the same frames encoded to
#: different bitstreams intermittently (4 distinct files in 5 runs of ``lionlora generate``, up to 24
#: grey levels apart), even with one thread; the variation disappeared with ``mbtree=0``,
#: ``rc-lookahead=0`` or ``bframes=0`` (x264's lookahead). ``bframes=0`` costs the least: same PSNR,
#: +0 to +23% size, where ``mbtree=0`` costs up to +200% at the same CRF (``benchmarks/video_encode.py``).
REPRODUCIBLE_X264 = "bframes=0"
#: encoder threads: one, so that no split of the work across threads can change the bitstream
ENCODER_THREADS = 1

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class VideoInfo:
    """What a container says about its video stream (``frames`` may be counted by decoding)."""

    path: str
    frames: int
    fps: float
    width: int
    height: int


def _check_video_path(path: Path) -> None:
    if not path.exists():
        raise VideoError(path, "", "an existing video file", got="no such file")
    if path.is_dir():
        raise VideoError(path, "", "a video file (use a frame folder reader for folders)")
    if path.suffix.lower() not in VIDEO_EXTENSIONS:
        raise VideoError(path, "extension", f"one of {', '.join(VIDEO_EXTENSIONS)}", got=path.suffix)
    if path.stat().st_size == 0:
        raise VideoError(path, "", "a non-empty video file", got="0 bytes")


@contextlib.contextmanager
def _open(path: Path):
    import av

    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise VideoError(path, "", "a readable video container", got=f"{type(exc).__name__}: {exc}") from None
    try:
        if not container.streams.video:
            raise VideoError(path, "streams", "a video stream", got="none")
        yield container
    finally:
        container.close()


def probe_video(path: str | Path, count_frames: bool = False) -> VideoInfo:
    """Read a video's frame count, frame rate and size.

    Args:
        path: video file.
        count_frames: decode the stream to count frames (exact; slower) instead of trusting
            the container's header, which some formats (webm, some avi) leave at 0.
    """
    path = Path(path)
    _check_video_path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        width, height = stream.codec_context.width, stream.codec_context.height
        n = int(stream.frames or 0)
    if count_frames or n == 0:
        n = sum(1 for _ in iter_video(path))
    return VideoInfo(str(path), n, fps, int(width), int(height))


def iter_video(path: str | Path, stride: int = 1, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yield the frames of a video as uint8 RGB arrays ``[H, W, 3]``.

    Args:
        stride: keep every ``stride``-th frame (starting with the first).
        max_frames: stop after this many kept frames.
    Raises:
        VideoError: the file is unreadable, truncated before its first frame, or corrupt.
    """
    import av

    path = Path(path)
    _check_video_path(path)
    if stride < 1:
        raise VideoError(path, "stride", "an integer >= 1", got=stride)
    kept = 0
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for i, frame in enumerate(container.decode(stream)):
                if i % stride:
                    continue
                yield frame.to_ndarray(format="rgb24")
                kept += 1
                if max_frames is not None and kept >= max_frames:
                    return
        except av.error.FFmpegError as exc:
            raise VideoError(
                path, "", "an uncorrupted video stream", got=f"decoding failed after {kept} frames: {exc}"
            ) from None
    if kept == 0:
        raise VideoError(path, "", "at least one decodable frame", got="0 frames")


def read_video(path: str | Path, stride: int = 1, max_frames: int | None = None) -> np.ndarray:
    """Read a whole video into ``[T, H, W, 3]`` uint8.

    A stream that declares N frames but decodes to fewer than N - 2 is reported as truncated.
    """
    path = Path(path)
    frames = list(iter_video(path, stride=stride, max_frames=max_frames))
    if stride == 1 and max_frames is None:
        declared = probe_video(path).frames
        if declared > 0 and len(frames) < declared - 2:
            raise VideoError(
                path,
                "",
                f"{declared} frames as declared by the container",
                got=f"{len(frames)} decodable frames (truncated file?)",
            )
    return np.stack(frames)


def walk_files(folder: str | Path, suffixes, skip=()) -> list[Path]:
    """Files under ``folder`` (recursively) whose suffix is in ``suffixes`` (lower-case, with the
    dot), sorted by relative path; hidden files and folders, and the folders in ``skip``, are left out."""
    folder = Path(folder)
    suffixes = {s.lower() for s in suffixes}
    skip = {Path(p).resolve() for p in skip}
    found = []
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs[:] = [d for d in dirs if not d.startswith(".") and (root_path / d).resolve() not in skip]
        found += [
            root_path / f
            for f in files
            if not f.startswith(".") and Path(f).suffix.lower() in suffixes and (root_path / f).is_file()
        ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def list_frame_files(folder: str | Path) -> list[Path]:
    """Image files of a frame folder, in sorted file-name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VideoError(folder, "", "an existing folder of frames", got="no such folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise VideoError(folder, "", f"image files ({', '.join(IMAGE_EXTENSIONS)})", got="none")
    return files


def read_image(path: str | Path) -> np.ndarray:
    """Read one image as uint8 RGB ``[H, W, 3]``."""
    import cv2

    path = Path(path)
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise VideoError(path, "", "a readable image file")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write a uint8 RGB image atomically (format from the extension)."""
    import cv2

    path = Path(path)
    image = _check_frame(np.asarray(image), path)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise VideoError(path, "extension", "an image format OpenCV can write", got=path.suffix)
    return path


def cover_window(h: int, w: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Resize-then-centre-crop of an ``h x w`` image onto ``height x width``: ``(nh, nw, y0, x0)``,
    the resized size (aspect kept, covering the target) and the crop's top-left corner."""
    s = max(height / h, width / w)
    nh, nw = max(height, int(round(h * s))), max(width, int(round(w * s)))
    return nh, nw, (nh - height) // 2, (nw - width) // 2


def cover_frame(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """``frame`` ``[H, W, C]`` resized to cover ``height x width`` (aspect kept), centre-cropped."""
    import cv2

    h, w = frame.shape[:2]
    if (h, w) == (height, width):
        return frame
    nh, nw, y0, x0 = cover_window(h, w, height, width)
    interp = cv2.INTER_AREA if nh < h else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(frame, (nw, nh), interpolation=interp)[y0 : y0 + height, x0 : x0 + width])


def resize_cover(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """:func:`cover_frame` over frames ``[T, H, W, C]``."""
    return np.stack([cover_frame(f, height, width) for f in frames])


def read_frames_dir(folder: str | Path) -> np.ndarray:
    """Read a folder of images (sorted by file name) into ``[T, H, W, 3]`` uint8."""
    files = list_frame_files(folder)
    frames = [read_image(f) for f in files]
    shape = frames[0].shape
    for f, img in zip(files, frames):
        if img.shape != shape:
            raise VideoError(
                f, "size", f"the size of the first frame {shape[1]}x{shape[0]}", got=f"{img.shape[1]}x{img.shape[0]}"
            )
    return np.stack(frames)


def load_frames(path: str | Path) -> np.ndarray:
    """Frames of a video file or a frame folder, ``[T, H, W, 3]`` uint8."""
    path = Path(path)
    return read_frames_dir(path) if path.is_dir() else read_video(path)


def pick_frames(path: str | Path, indices: list[int]) -> tuple[np.ndarray | None, int]:
    """Frames ``indices`` of a video file or frame folder, decoded once and kept only where picked
    (a 600-frame clip is never held whole), and the source's frame count; the frames are None when
    an index is not below that count."""
    path, wanted, kept = Path(path), set(indices), {}
    if path.is_dir():
        files = list_frame_files(path)
        kept, count = {i: read_image(files[i]) for i in wanted if i < len(files)}, len(files)
    else:
        count = 0
        for i, frame in enumerate(iter_video(path)):
            if i in wanted:
                kept[i] = frame
            count = i + 1
    return (np.stack([kept[i] for i in indices]) if wanted <= kept.keys() else None), count


def _check_frame(frame: np.ndarray, path: Path) -> np.ndarray:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise VideoError(
            path, "frames", "uint8 RGB frames [H, W, 3]", got=f"{frame.dtype} array of shape {frame.shape}"
        )
    return frame


class VideoWriter:
    """Stream frames into an H.264 mp4 written atomically.

    Use as a context manager; the file appears under its name only when the block exits
    without an exception::

        with VideoWriter("clip.mp4", fps=24) as w:
            for frame in frames:
                w.write(frame)
    """

    def __init__(
        self,
        path: str | Path,
        fps: float = 24.0,
        crf: int = 18,
        preset: str = "medium",
        x264_params: str = REPRODUCIBLE_X264,
        threads: int = ENCODER_THREADS,
    ):
        """Args:
        x264_params: ``key=value:key=value`` x264 options; the default makes the file a function of
            the frames (see :data:`REPRODUCIBLE_X264`); ``""`` gives x264's own defaults.
        threads: encoder threads (0: x264 chooses).
        """
        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise VideoError(self.path, "extension", ".mp4 (H.264 output)", got=self.path.suffix)
        if not fps > 0:
            raise VideoError(self.path, "fps", "a positive frame rate", got=fps)
        self.fps, self.crf, self.preset = fps, crf, preset
        self.x264_params, self.threads = x264_params, threads
        self._ctx = None
        self._container = None
        self._stream = None
        self.frames_written = 0

    def __enter__(self) -> VideoWriter:
        self._ctx = atomic_path(self.path)
        self._tmp = self._ctx.__enter__()
        return self

    def write(self, frame: np.ndarray) -> None:
        import av

        frame = _check_frame(np.ascontiguousarray(frame), self.path)
        h, w = frame.shape[:2]
        if self._container is None:
            if h % 2 or w % 2:
                raise VideoError(self.path, "size", "even width and height (H.264 yuv420p)", got=f"{w}x{h}")
            self._container = av.open(str(self._tmp), mode="w", format="mp4")
            rate = Fraction(self.fps).limit_denominator(1001)
            self._stream = self._container.add_stream("libx264", rate=rate)
            self._stream.width, self._stream.height = w, h
            self._stream.pix_fmt = "yuv420p"
            self._stream.codec_context.thread_count = self.threads
            options = {"crf": str(self.crf), "preset": self.preset}
            if self.x264_params:
                options["x264-params"] = self.x264_params
            self._stream.options = options
        elif (h, w) != (self._stream.height, self._stream.width):
            raise VideoError(
                self.path,
                "frames",
                f"all frames {self._stream.width}x{self._stream.height}",
                got=f"{w}x{h} at frame {self.frames_written}",
            )
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            self._container.mux(packet)
        self.frames_written += 1

    def __exit__(self, exc_type, exc, tb) -> bool:
        ctx, self._ctx = self._ctx, None
        try:
            if self._container is not None:
                if exc_type is None:
                    for packet in self._stream.encode():  # flush the encoder
                        self._container.mux(packet)
                self._container.close()
            if exc_type is None and self.frames_written == 0:
                raise VideoError(self.path, "frames", "at least one frame to write", got=0)
        except BaseException as err:
            ctx.__exit__(type(err), err, err.__traceback__)  # removes the temporary file
            raise
        return bool(ctx.__exit__(exc_type, exc, tb))


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float = 24.0, crf: int = 18) -> Path:
    """Write uint8 RGB frames (an array ``[T, H, W, 3]`` or an iterable) to an H.264 mp4."""
    with VideoWriter(path, fps=fps, crf=crf) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)
