import numpy as np
import pytest

from lionlora.errors import VideoError
from lionlora.io.video import (
    VideoWriter,
    load_frames,
    probe_video,
    read_frames_dir,
    read_video,
    write_image,
    write_video,
)


def moving_frames(t=12, h=64, w=96):
    """A smooth gradient pattern translating by 2 px per frame (compresses well, decodes close)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = []
    for i in range(t):
        r = 127 + 100 * np.sin((xx + 2 * i) / 20.0)
        g = 127 + 100 * np.cos(yy / 15.0)
        b = 127 + 100 * np.sin((xx + yy + 2 * i) / 25.0)
        frames.append(np.stack([r, g, b], -1).astype(np.uint8))
    return np.stack(frames)


def test_mp4_round_trip(tmp_path):
    frames = moving_frames()
    p = write_video(tmp_path / "clip.mp4", frames, fps=12, crf=10)
    back = read_video(p)
    assert back.shape == frames.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - frames).mean() < 3.0
    info = probe_video(p)
    assert (info.frames, info.width, info.height) == (12, 96, 64)
    assert info.fps == pytest.approx(12.0)
    assert read_video(p, stride=3).shape[0] == 4
    assert read_video(p, max_frames=5).shape[0] == 5
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".")]


@pytest.mark.parametrize("ext", [".avi", ".mkv", ".mov", ".webm"])
def test_other_containers_readable(tmp_path, ext):
    import av

    frames = moving_frames(t=6)
    p = tmp_path / f"clip{ext}"
    codec = "libvpx-vp9" if ext == ".webm" else "mpeg4"
    with av.open(str(p), "w") as c:
        s = c.add_stream(codec, rate=6)
        s.width, s.height, s.pix_fmt = 96, 64, "yuv420p"
        for f in frames:
            for pk in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)
    back = read_video(p)
    assert back.shape == frames.shape


def test_frames_dir(tmp_path):
    frames = moving_frames(t=4)
    for i in (2, 0, 3, 1):  # written out of order, read in sorted name order
        write_image(tmp_path / "frames" / f"{i:03d}.png", frames[i])
    back = read_frames_dir(tmp_path / "frames")
    assert np.array_equal(back, frames)  # png is lossless
    assert np.array_equal(load_frames(tmp_path / "frames"), frames)


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(VideoError, match="no such file"):
        read_video(tmp_path / "missing.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(VideoError, match="0 bytes"):
        read_video(tmp_path / "empty.mp4")
    (tmp_path / "garbage.mp4").write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(VideoError, match="garbage.mp4"):
        read_video(tmp_path / "garbage.mp4")
    (tmp_path / "clip.gif").write_bytes(b"GIF89a")
    with pytest.raises(VideoError, match="extension"):
        read_video(tmp_path / "clip.gif")


def test_truncated_video(tmp_path):
    p = write_video(tmp_path / "full.mp4", moving_frames(t=30), fps=10)
    data = p.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match="cut.mp4"):
        read_video(cut)


def test_frames_dir_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="image files"):
        read_frames_dir(tmp_path / "empty")
    write_image(tmp_path / "mixed" / "a.png", np.zeros((8, 8, 3), np.uint8))
    write_image(tmp_path / "mixed" / "b.png", np.zeros((8, 10, 3), np.uint8))
    with pytest.raises(VideoError, match="b.png"):
        read_frames_dir(tmp_path / "mixed")


def test_write_errors_and_atomicity(tmp_path):
    with pytest.raises(VideoError, match="even"):
        write_video(tmp_path / "odd.mp4", np.zeros((2, 9, 10, 3), np.uint8))
    with pytest.raises(VideoError, match="uint8"):
        write_video(tmp_path / "f.mp4", np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(VideoError, match="at least one frame"):
        write_video(tmp_path / "none.mp4", [])
    with pytest.raises(RuntimeError), VideoWriter(tmp_path / "interrupted.mp4", fps=5) as w:
        w.write(moving_frames(t=1)[0])
        raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []  # nothing half-written, no temporary files


def test_file_writers_round_trip(tmp_path):
    import hashlib

    from lionlora.io.files import sha256_file, write_bytes, write_csv, write_npy

    data = bytes(range(256)) * 5000  # larger than one hashing chunk
    assert sha256_file(write_bytes(tmp_path / "b.bin", data)) == hashlib.sha256(data).hexdigest()
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(np.load(write_npy(tmp_path / "a.npy", arr)), arr)
    text = write_csv(tmp_path / "t.csv", [{"a": 1, "b": "x"}, {"b": "y", "extra": 0}], ["a", "b"]).read_text()
    assert text == "a,b\n1,x\n,y\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "b.bin", "t.csv"]  # no temporaries left


def _x264_options(path) -> dict:
    """The encoder settings x264 writes into its SEI message at the start of the stream."""
    data = path.read_bytes()
    start = data.index(b"options: ") + len(b"options: ")
    text = data[start : data.index(b"\x00", start)].decode("ascii")
    return dict(item.split("=", 1) for item in text.split())


def test_same_frames_encode_to_identical_files_across_processes(tmp_path):
    import subprocess
    import sys

    from lionlora.io.video import ENCODER_THREADS

    np.save(tmp_path / "frames.npy", moving_frames(t=20, h=96, w=128))
    code = "import sys, numpy as np\nfrom lionlora.io.video import write_video\nwrite_video(sys.argv[1], np.load(sys.argv[2]))"
    paths = [tmp_path / f"run{i}.mp4" for i in range(3)]
    for p in paths:
        subprocess.run([sys.executable, "-c", code, str(p), str(tmp_path / "frames.npy")], check=True)
    assert len({p.read_bytes() for p in paths}) == 1
    # the settings that make it so (x264's lookahead made identical frames encode differently)
    options = _x264_options(paths[0])
    assert options["bframes"] == "0" and options["threads"] == str(ENCODER_THREADS) == "1"
