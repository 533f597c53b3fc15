"""FVD: Frechet distance, preprocessing presets, the I3D module, weight loading, cache and CLI."""

import json

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from lionlora.cli import main
from lionlora.errors import ConfigError, DependencyError, InputError, VideoError
from lionlora.eval.quality.features import FeatureCache, find_videos
from lionlora.eval.quality.frechet import frechet, frechet_distance, gaussian_stats
from lionlora.eval.quality.i3d import InceptionI3d
from lionlora.eval.quality.presets import PRESETS, preprocess
from lionlora.eval.quality.weights import load_i3d, write_random_i3d
from lionlora.io.files import sha256_file
from lionlora.io.video import read_video, write_image, write_video

# ---------------------------------------------------------------- Frechet distance


def test_frechet_of_a_set_with_itself_is_zero():
    x = np.random.default_rng(0).normal(size=(300, 16)) @ np.random.default_rng(1).normal(size=(16, 16))
    for sqrt in ("scipy", "trace_sqrt"):
        for cov in ("sample", "population"):
            assert abs(frechet_distance(x, x, cov, sqrt)) < 1e-8 * np.trace(np.cov(x, rowvar=False))


def test_frechet_approaches_gaussian_closed_form():
    rng = np.random.default_rng(2)
    d = 5
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    s1, s2 = a @ a.T + np.eye(d), b @ b.T + 0.5 * np.eye(d)
    closed = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real))
    x = rng.multivariate_normal(mu1, s1, size=40000)
    y = rng.multivariate_normal(mu2, s2, size=40000)
    for sqrt in ("scipy", "trace_sqrt"):
        assert frechet_distance(x, y, sqrt=sqrt) == pytest.approx(closed, rel=0.03)


def test_frechet_known_diagonal_case_and_options():
    # diagonal covariances: d^2 = |mu1 - mu2|^2 + sum (sigma1 - sigma2)^2, with exact sample moments
    z = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])  # mean 0, sample cov 4/3 I
    x = z * [1.0, 2.0] + [0.0, 0.0]
    y = z * [3.0, 1.0] + [1.0, 2.0]
    var = 4.0 / 3.0
    expected_sample = 1 + 4 + var * ((1 - 3) ** 2 + (2 - 1) ** 2)
    r = frechet(x, y)
    assert r.fvd == pytest.approx(expected_sample, rel=1e-9)
    assert (r.n_real, r.n_fake, r.feature_dim, r.covariance, r.sqrt) == (4, 4, 2, "sample", "scipy")
    pop = frechet(x, y, covariance="population").fvd
    assert pop == pytest.approx(1 + 4 + 1.0 * 5, rel=1e-9)
    assert frechet(x, y, sqrt="trace_sqrt").fvd == pytest.approx(expected_sample, rel=1e-9)
    mu, sigma = gaussian_stats(x, "population")
    np.testing.assert_allclose(sigma, np.diag([1.0, 4.0]), atol=1e-12)


def test_frechet_warns_below_feature_dimension(caplog):
    x = np.random.default_rng(3).normal(size=(5, 8))
    r = frechet(x, x + 1.0)
    assert len(r.warnings) == 2 and "rank deficient" in r.warnings[0]
    assert "rank deficient" in caplog.text


def test_frechet_bad_inputs():
    x = np.zeros((10, 4))
    with pytest.raises(InputError, match="4 features per row"):
        frechet(np.random.rand(10, 4), np.random.rand(10, 5))
    with pytest.raises(InputError, match="2-D"):
        frechet(np.random.rand(10), x)
    with pytest.raises(InputError, match="at least 2"):
        frechet(np.random.rand(1, 4), x)
    with pytest.raises(InputError, match="finite"):
        frechet(np.full((3, 4), np.nan), x)
    with pytest.raises(ConfigError, match="covariance"):
        frechet(np.random.rand(10, 4), np.random.rand(10, 4), covariance="biased")


# ---------------------------------------------------------------- presets


@pytest.mark.parametrize(
    "name, size, lo, hi",
    [("videogpt", (224, 224), -1.0, 1.0), ("squash224", (224, 224), -1.0, 1.0), ("stylegan", (48, 80), 0.0, 255.0)],
)
@pytest.mark.parametrize("frames, t_out", [("all", 20), ("first16", 16), ("middle16", 16)])
def test_presets_shapes_and_ranges(name, size, lo, hi, frames, t_out):
    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, size=(20, 48, 80, 3), dtype=np.uint8)
    video[0, 0, 0], video[0, 0, 1] = 0, 255
    x = preprocess(video, name, frames)
    assert x.shape == (3, t_out, *size) and x.dtype == torch.float32
    assert float(x.min()) >= lo and float(x.max()) <= hi
    assert float(x.max()) - float(x.min()) > 0.5 * (hi - lo)
    if name == "stylegan":
        assert torch.equal(x, x.round())  # integer levels, as uint8 frames
    # float input in [0, 1] gives the same tensor
    torch.testing.assert_close(preprocess(video.astype(np.float32) / 255, name, frames), x)


def test_preset_geometry_and_frame_selection():
    # frame t is filled with value t, a left half dark and a right half bright
    video = np.zeros((30, 60, 120, 3), dtype=np.uint8)
    video[:, :, 60:] = 200
    video += np.arange(30, dtype=np.uint8)[:, None, None, None]
    crop = preprocess(video, "videogpt", "middle16")  # 60x120 -> 224x448 -> centre 224
    squash = preprocess(video, "squash224", "first16")
    assert (crop[0, :, 0, 0] * 127.5 + 127.5).round().tolist() == [float(7 + t) for t in range(16)]
    # the centre crop keeps the middle half of the width: the dark/bright edge sits at its centre
    assert float(crop[0, 0, 100, 10]) < 0 < float(crop[0, 0, 100, 214])
    assert float(squash[0, 0, 100, 10]) < 0 < float(squash[0, 0, 100, 214])
    assert float(squash[0, 0, 0, 0]) == pytest.approx(-1.0, abs=1e-6)
    assert PRESETS["stylegan"].rescale and PRESETS["stylegan"].resize and not PRESETS["videogpt"].rescale


def test_stylegan_feeds_frames_at_their_own_resolution():
    """StyleGAN-V gives its detector the dataset's uint8 frames as they are (no 128 px resize)."""
    video = np.random.default_rng(1).integers(0, 256, size=(12, 256, 256, 3), dtype=np.uint8)
    x = preprocess(video, "stylegan")
    assert x.shape == (3, 12, 256, 256)
    assert torch.equal(x, torch.from_numpy(video).permute(3, 0, 1, 2).float())
    assert PRESETS["stylegan"].describe()["size"] is None


def test_square_frames_follow_videogpts_tie_rule():
    """VideoGPT resizes with ``if h < w: (224, ceil(w * s)) else: (ceil(h * s), 224)``: at a side
    of 50, ceil(50 * (224 / 50)) = 225 lands on the height of a square frame, and the crop drops
    its extra row, not a column."""
    import math

    n = 50
    assert math.ceil(n * (224 / n)) == 225
    video = np.random.default_rng(2).integers(0, 256, size=(10, n, n, 3), dtype=np.uint8)
    x = torch.from_numpy(video).permute(0, 3, 1, 2).float() / 255
    ref = F.interpolate(x, size=(225, 224), mode="bilinear", align_corners=False)[:, :, 0:224, 0:224]
    torch.testing.assert_close(preprocess(video, "videogpt"), (ref * 2 - 1).permute(1, 0, 2, 3))


def test_squash224_samples_tf1_resize_bilinear_grid():
    """TF1 resize_bilinear (align_corners=False, no half-pixel centres) reads input i * in / out:
    halving picks every other pixel, doubling repeats the last one; PyTorch's grid does neither."""
    from lionlora.eval.quality.presets import tf1_resize_bilinear

    img = torch.arange(448 * 448, dtype=torch.float32).reshape(1, 448, 448)
    torch.testing.assert_close(tf1_resize_bilinear(img, (224, 224)), img[:, ::2, ::2])
    row = torch.tensor([[[0.0, 10.0]]])
    assert tf1_resize_bilinear(row, (1, 4)).flatten().tolist() == [0.0, 5.0, 10.0, 10.0]
    video = np.random.default_rng(3).integers(0, 256, size=(10, 448, 448, 3), dtype=np.uint8)
    x = preprocess(video, "squash224")
    expected = torch.from_numpy(video[:, ::2, ::2]).permute(3, 0, 1, 2).float() / 127.5 - 1
    torch.testing.assert_close(x, expected)
    assert "half_pixel_centers=False" in PRESETS["squash224"].describe()["interpolation"]


def test_preset_bad_inputs():
    ok = np.zeros((12, 32, 32, 3), dtype=np.uint8)
    with pytest.raises(VideoError, match=r"\[0, 1\]"):
        preprocess(ok.astype(np.float32) + 1.5, "videogpt")
    with pytest.raises(VideoError, match="uint8"):
        preprocess(ok.astype(np.int16), "videogpt")
    with pytest.raises(VideoError, match="at least 10 frames"):
        preprocess(ok[:9], "videogpt")
    with pytest.raises(VideoError, match="at least 16 frames"):
        preprocess(ok, "videogpt", "first16")
    with pytest.raises(VideoError, match="RGB"):
        preprocess(ok[..., 0], "videogpt")
    with pytest.raises(ConfigError, match="preset"):
        preprocess(ok, "fvdcal")


# ---------------------------------------------------------------- I3D and weights


def test_i3d_layout_matches_the_videogpt_checkpoint():
    sd = InceptionI3d().state_dict()
    assert len(sd) == 344
    expected = {
        "Conv3d_1a_7x7.conv3d.weight": (64, 3, 7, 7, 7),
        "Conv3d_2c_3x3.bn.running_var": (192,),
        "Mixed_3b.b1b.conv3d.weight": (128, 96, 3, 3, 3),
        "Mixed_4f.b3b.conv3d.weight": (128, 528, 1, 1, 1),
        "Mixed_5c.b2b.conv3d.weight": (128, 48, 3, 3, 3),
        "logits.conv3d.weight": (400, 1024, 1, 1, 1),
        "logits.conv3d.bias": (400,),
    }
    for key, shape in expected.items():
        assert tuple(sd[key].shape) == shape, key
    assert not any(k.startswith("logits.bn") or "b3a" in k for k in sd)


def test_i3d_state_dict_round_trip(tmp_path):
    path = write_random_i3d(tmp_path / "i3d.pt", seed=3)
    det = load_i3d(path, sha256=sha256_file(path), device="cpu")
    assert det.format == "state_dict" and det.random_init and "NOT comparable" in det.note
    ref = InceptionI3d().eval()
    ref.load_state_dict(torch.load(path, weights_only=True), strict=True)
    x = torch.rand(2, 3, 10, 40, 40) * 2 - 1
    with torch.no_grad():
        want = ref(x).numpy()
        assert ref.features(x).shape == (2, 1024, 2, 2, 2)  # SAME padding: ceil(size / stride)
    got = det(x, rescale=False, resize=False)
    assert got.shape == (2, 400)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.abs(got[0] - got[1]).max() > 1e-4  # different videos, different features
    # same seed, same bytes; the sidecar marks the file
    assert sha256_file(write_random_i3d(tmp_path / "again.pt", seed=3)) == sha256_file(path)
    assert json.loads((tmp_path / "i3d.pt.json").read_text())["random_init"] is True


def test_i3d_rejects_foreign_state_dict_and_bad_files(tmp_path):
    sd = InceptionI3d(num_classes=400).state_dict()
    del sd["Mixed_4b.b0.conv3d.weight"]
    torch.save(sd, tmp_path / "broken.pt")
    with pytest.raises(InputError, match="strict load"):
        load_i3d(tmp_path / "broken.pt", device="cpu")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="TorchScript archive or a torch.save"):
        load_i3d(tmp_path / "junk.pt", device="cpu")
    with pytest.raises(DependencyError, match="i3d_pretrained_400.pt.*i3d_torchscript.pt"):
        load_i3d(tmp_path / "missing.pt")
    with pytest.raises(DependencyError, match="nothing is downloaded"):
        load_i3d(None)
    path = write_random_i3d(tmp_path / "i3d.pt")
    with pytest.raises(InputError, match="sha256"):
        load_i3d(path, sha256="0" * 64, device="cpu")


class TinyDetector(torch.nn.Module):
    """A stand-in with the StyleGAN-V detector's signature and flag semantics."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(6, 7)

    def forward(
        self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = True
    ) -> torch.Tensor:
        if rescale:
            x = x / 127.5 - 1.0
        if resize:
            x = F.interpolate(x, size=(x.shape[2], 224, 224), mode="trilinear", align_corners=False)
        stats = torch.cat([x.mean(dim=(2, 3, 4)), x.std(dim=(2, 3, 4))], dim=1)
        out = self.proj(stats)
        return out if return_features else out.softmax(dim=1)


def save_tiny_torchscript(path):
    torch.manual_seed(0)
    module = TinyDetector().eval()
    torch.jit.script(module).save(str(path))
    return module


def test_torchscript_detector_path(tmp_path):
    module = save_tiny_torchscript(tmp_path / "tiny.pt")
    det = load_i3d(tmp_path / "tiny.pt", device="cpu")
    assert det.format == "torchscript" and not det.random_init and "user-provided" in det.note
    x = preprocess(np.random.default_rng(0).integers(0, 256, (12, 40, 60, 3), dtype=np.uint8), "stylegan")[None]
    got = det(x, rescale=True, resize=True)
    with torch.no_grad():
        want = module(x, rescale=True, resize=True, return_features=True).double().numpy()
        unscaled = module(x, rescale=False, resize=True, return_features=True).double().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.abs(got - unscaled).max() > 1e-3  # the flags reach the model


# ---------------------------------------------------------------- folders, cache, CLI


def make_videos(folder, n, shift, t=12, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(n):
        base = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
        write_video(folder / f"v{i}.mp4", [np.roll(base, k * shift, axis=1) for k in range(t)])


def test_find_videos_filters_and_empty_folder(tmp_path):
    make_videos(tmp_path / "a" / "dolly_in", 1, 1)
    make_videos(tmp_path / "a" / "dolly_in+orbit_left", 1, 1)
    frames = tmp_path / "a" / "frames"
    frames.mkdir()
    for i in range(3):
        (frames / f"{i:03d}.png").write_bytes(b"")
    rel = [p.relative_to(tmp_path / "a").as_posix() for p in find_videos(tmp_path / "a", frame_folders=True)]
    assert rel == ["dolly_in+orbit_left/v0.mp4", "dolly_in/v0.mp4", "frames"]
    assert len(find_videos(tmp_path / "a")) == 2  # frame folders only when asked for
    assert len(find_videos(tmp_path / "a", include=["*+*"])) == 1
    assert len(find_videos(tmp_path / "a", exclude=["*+*", "frames"], frame_folders=True)) == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="none"):
        find_videos(tmp_path / "empty")
    with pytest.raises(VideoError, match="no such folder"):
        find_videos(tmp_path / "nowhere")


def test_cache_key_depends_on_every_choice():
    keys = {
        FeatureCache.key(v, p, f, w)
        for v in ("a", "b")
        for p in ("videogpt", "stylegan")
        for f in ("all", "first16")
        for w in ("w1", "w2")
    }
    assert len(keys) == 16


def test_fvd_and_frechet_cli(tmp_path, capsys):
    make_videos(tmp_path / "real", 3, shift=1, seed=1)
    make_videos(tmp_path / "fake", 3, shift=6, seed=2)
    save_tiny_torchscript(tmp_path / "tiny.pt")
    common = [
        "eval",
        "fvd",
        "--real",
        str(tmp_path / "real"),
        "--fake",
        str(tmp_path / "fake"),
        "--i3d",
        str(tmp_path / "tiny.pt"),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    assert main([*common, "--out", str(tmp_path / "fvd.json"), "--preset", "stylegan"]) == 0
    rec = json.loads((tmp_path / "fvd.json").read_text())
    assert {"fvd", "n_real", "n_fake"} <= set(rec) and (rec["n_real"], rec["n_fake"]) == (3, 3)
    assert rec["fvd"] > 0 and rec["comparable_to_paper"] is False  # a 7-class head is not the Kinetics-400 I3D
    assert "7-class head" in rec["comparable_note"] and rec["i3d_sha256"] == sha256_file(tmp_path / "tiny.pt")
    assert rec["preset"]["name"] == "stylegan" and rec["preset"]["rescale"] is True
    assert (rec["frames"], rec["covariance"], rec["sqrt"]) == ("all", "sample", "scipy")
    assert rec["weights"]["sha256"] == sha256_file(tmp_path / "tiny.pt")
    assert rec["cache"]["misses"] == 6 and len(rec["warnings"]) == 2
    # a re-run reads every feature from the cache and gives the same number
    assert main([*common, "--out", str(tmp_path / "again.json"), "--preset", "stylegan"]) == 0
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["cache"]["hits"] == 6 and again["fvd"] == pytest.approx(rec["fvd"], rel=1e-6)
    # frame folders holding the decoded frames give the same features as the video files
    for i in range(3):
        for k, frame in enumerate(read_video(tmp_path / "real" / f"v{i}.mp4")):
            write_image(tmp_path / "frames" / f"v{i}" / f"{k:03d}.png", frame)
    assert (
        main(
            [
                *common[:3],
                str(tmp_path / "frames"),
                *common[4:],
                "--out",
                str(tmp_path / "ff.json"),
                "--preset",
                "stylegan",
                "--frame-folders",
                "true",
            ]
        )
        == 0
    )
    np.testing.assert_allclose(np.load(tmp_path / "ff.real.npy"), np.load(tmp_path / "fvd.real.npy"))
    # a 16-frame selection on 12-frame videos is a named error, reported in one line
    assert main([*common, "--out", str(tmp_path / "vg.json"), "--set", "frames=first16"]) == 1
    assert "at least 16 frames" in capsys.readouterr().err
    # eval frechet on the saved features reproduces the FVD
    assert (
        main(
            [
                "eval",
                "frechet",
                "--real-features",
                str(tmp_path / "fvd.real.npy"),
                "--fake-features",
                str(tmp_path / "fvd.fake.npy"),
                "--out",
                str(tmp_path / "fd.json"),
            ]
        )
        == 0
    )
    fd = json.loads((tmp_path / "fd.json").read_text())
    assert fd["fvd"] == pytest.approx(rec["fvd"], rel=1e-4) and (fd["n_real"], fd["n_fake"]) == (3, 3)
    np.save(tmp_path / "wide.npy", np.random.rand(5, 9))
    assert (
        main(
            [
                "eval",
                "frechet",
                "--real-features",
                str(tmp_path / "fvd.real.npy"),
                "--fake-features",
                str(tmp_path / "wide.npy"),
                "--out",
                str(tmp_path / "bad.json"),
            ]
        )
        == 1
    )
    assert "features per row" in capsys.readouterr().err
    assert not (tmp_path / "bad.json").exists()


def test_fvd_cli_with_random_i3d_state_dict(tmp_path, capsys):
    make_videos(tmp_path / "real", 2, shift=1, t=10, seed=1)
    make_videos(tmp_path / "fake", 2, shift=4, t=10, seed=2)
    assert main(["eval", "i3d-init", "--out", str(tmp_path / "w" / "i3d.pt"), "--seed", "0"]) == 0
    assert (
        main(
            [
                "eval",
                "fvd",
                "--real",
                str(tmp_path / "real"),
                "--fake",
                str(tmp_path / "fake"),
                "--i3d",
                str(tmp_path / "w" / "i3d.pt"),
                "--out",
                str(tmp_path / "fvd.json"),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    rec = json.loads((tmp_path / "fvd.json").read_text())
    assert rec["comparable_to_paper"] is False and "NOT comparable" in rec["weights"]["note"]
    assert rec["preset"]["name"] == "videogpt" and rec["feature_dim"] == 400 and rec["fvd"] > 0
    assert "not comparable" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert (
        main(
            [
                "eval",
                "fvd",
                "--real",
                str(tmp_path / "empty"),
                "--fake",
                str(tmp_path / "fake"),
                "--i3d",
                str(tmp_path / "w" / "i3d.pt"),
                "--out",
                str(tmp_path / "x.json"),
            ]
        )
        == 1
    )
    assert "empty" in capsys.readouterr().err


@pytest.mark.weights
@pytest.mark.parametrize("name, preset", [("i3d_pretrained_400.pt", "videogpt"), ("i3d_torchscript.pt", "stylegan")])
def test_reference_weights_load_and_give_kinetics_logits(name, preset):
    import os
    from pathlib import Path

    path = Path(os.environ["LIONLORA_WEIGHTS"]) / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    det = load_i3d(path)
    assert not det.random_init
    video = np.random.default_rng(0).integers(0, 256, (16, 120, 160, 3), dtype=np.uint8)
    x = preprocess(video, preset)[None]
    feats = det(x, PRESETS[preset].rescale, PRESETS[preset].resize)
    assert feats.shape == (1, 400) and np.isfinite(feats).all()


def test_comparable_only_with_a_kinetics_400_head_and_timing_warnings(tmp_path):
    """A non-random 400-class head is comparable, a 101-class one is not; the weights' SHA-256 is
    recorded; real and fake sets with other frame counts or rates are warned about."""
    from lionlora.eval.quality.config import FvdConfig
    from lionlora.eval.quality.fvd import compute_fvd

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, size=(32, 40, 3), dtype=np.uint8)
    for i in range(2):
        write_video(tmp_path / "real" / f"r{i}.mp4", [np.roll(base, k + i, axis=1) for k in range(12)], fps=8)
        write_video(tmp_path / "fake" / f"f{i}.mp4", [np.roll(base, 2 * k + i, axis=0) for k in range(14)], fps=24)
    records = {}
    for classes in (400, 101):
        path = write_random_i3d(tmp_path / f"i3d_{classes}.pt", num_classes=classes)
        path.with_name(path.name + ".json").unlink()  # no longer marked random: a user's file
        cfg = FvdConfig(i3d=path, cache_dir=tmp_path / "cache", device="cpu", frames="all")
        records[classes] = compute_fvd(tmp_path / "real", tmp_path / "fake", cfg, tmp_path / f"fvd_{classes}.json")
        assert records[classes]["i3d_sha256"] == sha256_file(path)
    assert records[400]["comparable_to_paper"] is True
    assert records[101]["comparable_to_paper"] is False and "101-class" in records[101]["comparable_note"]
    rec = records[400]
    assert rec["timing"] == {
        "real": {"frame_counts": [12], "frame_rates": [8.0]},
        "fake": {"frame_counts": [14], "frame_rates": [24.0]},
    }
    assert any("frame counts" in w for w in rec["warnings"]) and any("frame rates" in w for w in rec["warnings"])
