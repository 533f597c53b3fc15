"""Pretraining the tiny CogVideoX on the embedded room (``lionlora demo-model --pretrain``).

Its speed and what the pretrained demo reaches (SfM registration, camera errors, linearity) are
measured by ``benchmarks/demo_learning.py``, not here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lionlora.apps.pretrain import PretrainConfig, PretrainModelConfig, pretrain, render_clips
from lionlora.config import from_dict
from lionlora.errors import ConfigError
from lionlora.pipelines.synth.paths import MOVING, STILL, PathConfig, primitive_distance, primitive_names, random_motion
from lionlora.pipelines.trajectories.primitives import primitive_motion

pytestmark = pytest.mark.usefixtures("torch_single_thread")


def _small(**kw) -> PretrainConfig:
    model = PretrainModelConfig(
        height=32,
        width=48,
        frames=9,
        heads=2,
        head_dim=16,
        layers=2,
        vae_channels=[8, 16],
        latent_channels=12,
        patch_size=4,
    )
    base = dict(
        clips=6,
        holdout_clips=2,
        vae_steps=8,
        steps=40,
        batch_size=4,
        learning_rate=1e-3,
        warmup_steps=5,
        train_processes=1,
    )
    return PretrainConfig(model=model, **{**base, **kw})


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    out = tmp_path_factory.mktemp("pretrained") / "model"
    summary = pretrain(_small(train_processes=2), out)  # the demo's data-parallel path, end to end
    return out, summary


def test_pretraining_loss_falls(pretrained):
    out, summary = pretrained
    losses = summary["transformer_first_loss"], summary["transformer_final_loss"]
    assert losses[1] < 0.8 * losses[0], losses
    on_disk = json.loads((out / "pretrain.json").read_text())
    assert on_disk["transformer_final_loss"] == pytest.approx(losses[1])
    assert on_disk["path_kinds"].get(MOVING, 0) + on_disk["path_kinds"].get(STILL, 0) == 6
    assert (out / "pretrain_loss.png").stat().st_size > 1000
    # the VAE's scaling factor is 1 / std of its training latents, stored for the pipeline
    vae_config = json.loads((out / "vae" / "config.json").read_text())
    assert vae_config["scaling_factor"] == pytest.approx(summary["vae_scaling_factor"])
    assert vae_config["scaling_factor"] != pytest.approx(1.15258426)  # not diffusers' default


def test_saved_model_reloads_and_generates_bit_identically(pretrained):
    from lionlora.apps.generate import GenerateConfig, VideoGenerator

    out, _ = pretrained
    image = np.random.default_rng(0).integers(0, 255, (32, 48, 3), dtype=np.uint8)
    cfg = GenerateConfig(model=str(out), steps=3, seed=3)
    a = VideoGenerator(cfg, [])(image, "a room")
    b = VideoGenerator(cfg, [])(image, "a room")  # a second load of the saved folder
    assert a.shape == (9, 32, 48, 3)
    assert np.array_equal(a, b)
    c = VideoGenerator(GenerateConfig(model=str(out), steps=3, seed=4), [])(image, "a room")
    assert not np.array_equal(a, c)


def test_pretraining_is_deterministic_for_a_seed(tmp_path):
    cfg = _small(clips=2, vae_steps=2, steps=2, batch_size=2, flip=False, train_processes=2)
    a = pretrain(cfg, tmp_path / "a")
    b = pretrain(cfg, tmp_path / "b")
    assert a["transformer_final_loss"] == b["transformer_final_loss"]
    assert a["vae_held_out_psnr"] == b["vae_held_out_psnr"]
    blob = (tmp_path / "a" / "transformer" / "diffusion_pytorch_model.safetensors").read_bytes()
    assert blob == (tmp_path / "b" / "transformer" / "diffusion_pytorch_model.safetensors").read_bytes()


def test_bf16_autocast_changes_the_arithmetic_not_the_stored_weights(tmp_path):
    from safetensors import safe_open

    cfg = _small(clips=2, vae_steps=2, steps=2, batch_size=2, flip=False)
    fp32 = pretrain(cfg, tmp_path / "fp32")
    bf16 = pretrain(
        _small(clips=2, vae_steps=2, steps=2, batch_size=2, flip=False, mixed_precision="bf16"), tmp_path / "bf16"
    )
    # the VAE trains in fp32 either way; the transformer sees the same draws through bf16 matmuls
    assert bf16["vae_final_loss"] == fp32["vae_final_loss"]
    assert bf16["transformer_first_loss"] != fp32["transformer_first_loss"]
    assert bf16["transformer_first_loss"] == pytest.approx(fp32["transformer_first_loss"], rel=0.05)
    for part in ("transformer", "vae"):
        dtypes = []
        for run in ("fp32", "bf16"):
            with safe_open(str(tmp_path / run / part / "diffusion_pytorch_model.safetensors"), "pt") as f:
                dtypes.append({k: f.get_tensor(k).dtype for k in f.keys()})  # noqa: SIM118 (safe_open is not iterable)
        assert dtypes[0] == dtypes[1]
        assert "torch.float32" in map(str, dtypes[1].values()) and "torch.bfloat16" not in map(str, dtypes[1].values())


def test_ema_keeps_the_running_average_of_the_weights(tmp_path):
    from safetensors.torch import load_file

    def weights(run: str, **kw) -> dict:
        pretrain(_small(clips=2, vae_steps=1, batch_size=2, flip=False, **kw), tmp_path / run)
        return load_file(tmp_path / run / "transformer" / "diffusion_pytorch_model.safetensors")

    one, two, ema = weights("one", steps=1), weights("two", steps=2), weights("ema", steps=2, ema_decay=0.99)
    # EMAModel: the first update copies the weights, the second uses decay min(0.99, 2 / 11)
    moved = [k for k in two if not np.array_equal(one[k].numpy(), two[k].numpy())]
    assert len(moved) > len(two) // 2
    for k in two:
        expected = 2 / 11 * one[k] + 9 / 11 * two[k]
        np.testing.assert_allclose(ema[k].numpy(), expected.numpy(), rtol=1e-5, atol=1e-7, err_msg=k)


def test_two_training_processes_take_the_steps_of_one():
    """Data parallelism splits each batch, not the draws: the same losses, weights and generator."""
    import torch

    from lionlora.apps.data_parallel import run_data_parallel
    from lionlora.apps.demo_model import build_tiny_pipeline
    from lionlora.apps.pretrain import _transformer_steps, _vae_steps

    cfg = _small(vae_steps=3, steps=3, batch_size=3, vae_batch_size=3)
    pipe = build_tiny_pipeline(cfg.model)
    m, state = cfg.model, torch.Generator().manual_seed(5).get_state()
    clips = torch.rand(4, 3, m.frames, m.height, m.width, generator=torch.Generator().manual_seed(1)) * 2 - 1
    data = {"latents": torch.randn(6, 5, 12, 16, 24), "image_latents": torch.randn(6, 1, 12, 16, 24)}
    prompts = {"prompt": torch.randn(m.text_tokens, m.text_dim), "negative": torch.zeros(m.text_tokens, m.text_dim)}
    rope = {5: pipe._prepare_rotary_positional_embeddings(m.height, m.width, 5, torch.device("cpu"))}
    runs = {}
    for world in (1, 2):
        vae = run_data_parallel(_vae_steps, world, 1, pipe.vae, clips, cfg, state)
        tr = run_data_parallel(
            _transformer_steps, world, 1, pipe.transformer, pipe.scheduler, data, prompts, rope, cfg, state
        )
        runs[world] = vae, tr
    for one, two in zip(runs[1], runs[2]):
        np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-5)
        assert len(set(np.round(one["losses"], 4))) == 3  # the steps changed the weights
        assert torch.equal(one["generator"], two["generator"])
        for k, w in one["state"].items():
            # one process per rank updating shared weights would differ by ~lr per step (1e-3)
            np.testing.assert_allclose(two["state"][k].numpy(), w.numpy(), atol=1e-4, err_msg=k)
    # the caller's model is not trained in place
    assert not torch.equal(
        pipe.vae.state_dict()["encoder.conv_in.conv.weight"], runs[1][0]["state"]["encoder.conv_in.conv.weight"]
    )


def test_short_clip_steps_train_on_the_first_latent_frames(monkeypatch):
    """``short_frames``/``short_steps``: the first steps see the clips' first latent frames (the
    latents of their first ``short_frames`` video frames, causal VAE) with matching rotary
    embeddings, the rest the whole clips."""
    import torch

    import lionlora.apps.train as train_mod
    from lionlora.apps.data_parallel import Shard
    from lionlora.apps.demo_model import build_tiny_pipeline
    from lionlora.apps.pretrain import _transformer_steps

    cfg = _small(steps=4, batch_size=2, short_frames=5, short_steps=3)  # 9 frames -> 5 latent, 5 -> 3
    pipe = build_tiny_pipeline(cfg.model)
    m = cfg.model
    h, w = m.height // m.spatial_compression, m.width // m.spatial_compression
    data = {"latents": torch.randn(6, 5, 12, h, w), "image_latents": torch.randn(6, 1, 12, h, w)}
    prompts = {"prompt": torch.randn(m.text_tokens, m.text_dim), "negative": torch.zeros(m.text_tokens, m.text_dim)}
    rope = {t: pipe._prepare_rotary_positional_embeddings(m.height, m.width, t, torch.device("cpu")) for t in (3, 5)}
    seen, loss = [], train_mod.diffusion_loss

    def spy(transformer, scheduler, batch, gen, rope_, **kw):
        seen.append((batch["latents"].clone(), rope_[0].shape[0], kw["noise"].shape[1]))
        return loss(transformer, scheduler, batch, gen, rope_, **kw)

    monkeypatch.setattr(train_mod, "diffusion_loss", spy)
    state = torch.Generator().manual_seed(0).get_state()
    _transformer_steps(Shard(0, 1), pipe.transformer, pipe.scheduler, data, prompts, rope, cfg, state)
    tokens = (h // m.patch_size) * (w // m.patch_size)
    assert [(x.shape[1], r, n) for x, r, n in seen] == [(3, 3 * tokens, 3)] * 3 + [(5, 5 * tokens, 5)]
    for x, _, _ in seen[:3]:  # each sample is the head of one of the clips
        for sample in x:
            assert any(torch.equal(sample, clip[:3]) for clip in data["latents"])
    with pytest.raises(ConfigError, match="short_frames"):
        _small(short_frames=9)  # not shorter than the clips
    with pytest.raises(ConfigError, match="short_frames"):
        _small(short_frames=4)  # not 1 + k x 2
    with pytest.raises(ConfigError, match="short_steps"):
        _small(short_frames=5, short_steps=41)


def _accepted_and_decoded_whole(make_config, vae, frames, size) -> dict:
    """{frames: (the config accepts it, the VAE decodes a clip of that length to that length)}."""
    import torch

    seen = {}
    for f in frames:
        try:
            make_config(f)
            accepted = True
        except ConfigError:
            accepted = False
        with torch.no_grad():
            x = torch.zeros(1, 3, f, *size)
            seen[f] = (accepted, vae.decode(vae.encode(x).latent_dist.mean).sample.shape[2] == f)
    return seen


def test_accepted_vae_windows_decode_to_their_own_length():
    """``vae_frames`` is accepted exactly when the VAE decodes a window to its own length (the
    decoder's temporal upsampling keeps the first latent frame only for an odd count)."""
    from lionlora.apps.demo_model import build_tiny_pipeline

    vae = build_tiny_pipeline(_small().model).vae.eval()  # 2x temporal compression
    seen = _accepted_and_decoded_whole(lambda f: _small(vae_frames=f), vae, range(1, 10, 2), (32, 48))
    assert seen == {1: (True, True), 3: (False, False), 5: (True, True), 7: (False, False), 9: (True, True)}


def test_accepted_model_frames_decode_to_their_own_length():
    """The tiny model's ``frames`` are accepted exactly when its VAE returns clips of that length."""
    from lionlora.apps.demo_model import TinyModelConfig, build_tiny_pipeline

    vae = build_tiny_pipeline(TinyModelConfig()).vae.eval()  # 4x temporal compression
    seen = _accepted_and_decoded_whole(lambda f: TinyModelConfig(frames=f), vae, (5, 9, 13, 17), (32, 32))
    assert seen == {5: (False, False), 9: (True, True), 13: (False, False), 17: (True, True)}
    PretrainModelConfig(frames=13)  # 2x temporal compression: 7 latent frames


def test_vae_crops_are_windows_on_the_latent_grid():
    import torch

    from lionlora.apps.pretrain import _crop

    cfg = _small(vae_crop=[16, 24])  # spatial compression 2
    x = torch.arange(32 * 48.0).reshape(1, 1, 1, 32, 48).expand(2, 3, 5, 32, 48)
    gen = torch.Generator().manual_seed(0)
    corners = set()
    for _ in range(50):
        out = _crop(x, cfg, gen)
        top, left = divmod(int(out[0, 0, 0, 0, 0]), 48)
        corners.add((top, left))
        assert top % 2 == 0 and left % 2 == 0
        assert torch.equal(out, x[..., top : top + 16, left : left + 24])
    assert len(corners) > 10 and max(t for t, _ in corners) <= 16 and max(left for _, left in corners) <= 24
    state = gen.get_state()
    assert _crop(x, _small(), gen) is x  # no crop: whole frames, and the random stream is untouched
    assert torch.equal(gen.get_state(), state)
    for bad in ([16], [15, 24], [16, 50], [0, 24]):
        with pytest.raises(ConfigError, match="vae_crop"):
            _small(vae_crop=bad)


def test_clips_do_not_depend_on_the_number_of_render_workers():
    one = render_clips(_small(render_workers=1), 3, seed=7)
    two = render_clips(_small(render_workers=2), 3, seed=7)
    assert np.array_equal(one.video, two.video) and np.array_equal(one.c2w, two.c2w)
    assert one.kinds == two.kinds
    assert one.video.std() > 10  # real frames, not a blank buffer


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        # linear warm-up from 1/warmup of the peak, then constant (the default) or a decay towards 0
        ("constant_with_warmup", [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0]),
        (
            "cosine",
            [0.25, 0.5, 0.75, 1.0, 1.0, 0.5 + 0.5 * np.cos(np.pi * 0.25), 0.5, 0.5 - 0.5 * np.cos(np.pi * 0.25)],
        ),
        ("linear", [0.25, 0.5, 0.75, 1.0, 1.0, 0.75, 0.5, 0.25]),
    ],
)
def test_learning_rate_schedules(schedule, expected):
    import torch

    from lionlora.apps.pretrain import _optimizer

    weight = torch.nn.Parameter(torch.zeros(2))
    opt_, sched = _optimizer([weight], 2.0, schedule, steps=8, warmup=4, weight_decay=0.0)
    lrs = []
    for _ in range(8):
        lrs.append(opt_.param_groups[0]["lr"])
        opt_.step()
        sched.step()
    assert lrs == pytest.approx([2.0 * e for e in expected])


def test_primitive_distance_detects_every_primitive_at_any_scale():
    depth = 3.0
    for name in primitive_names():
        for s in (0.2, 0.6, 1.0):
            rel = primitive_motion(name, np.linspace(0.0, s, 17), depth)
            assert primitive_distance(rel, depth) < 0.02, (name, s)
    # a pan with a 10-degree turn is not a primitive
    rel = primitive_motion("pan_left", np.linspace(0.0, 1.0, 17), depth)
    assert primitive_distance(rel, depth) == 0.0
    turn = np.radians(10.0)
    rel[-1, :3, :3] = [[np.cos(turn), 0, np.sin(turn)], [0, 1, 0], [-np.sin(turn), 0, np.cos(turn)]]
    assert primitive_distance(rel, depth) > 0.1


def test_pretraining_paths_never_follow_a_primitive():
    """Every moving path the sampler accepts is farther than the threshold from every primitive."""
    cfg = _small(clips=12)
    data = render_clips(cfg, cfg.clips, seed=5)
    moving = [d for d, k in zip(data.primitive_distance, data.kinds) if k == MOVING]
    assert moving and min(moving) >= cfg.paths.min_primitive_distance
    assert data.video.shape == (12, 9, 32, 48, 3)
    # the raw distribution does come close to primitives now and then: the rejection is needed
    rng = np.random.default_rng(0)
    raw = [primitive_distance(r, 3.0) for r, k in (random_motion(rng, 9, 3.0, PathConfig()) for _ in range(300))]
    raw = [d for d in raw if d > 0]
    assert min(raw) < PathConfig().min_primitive_distance


def test_still_paths_do_not_move():
    rng = np.random.default_rng(1)
    rel, kind = random_motion(rng, 9, 3.0, PathConfig(still_fraction=0.999))
    assert kind == STILL and np.allclose(rel, np.eye(4))


def test_bad_pretrain_config_names_the_field():
    with pytest.raises(ConfigError, match="vae_frames"):
        from_dict(PretrainConfig, {"vae_frames": 4})
    with pytest.raises(ConfigError, match="vae_frames"):
        from_dict(PretrainConfig, {"vae_frames": 3})  # 2 latent frames decode to 4
    with pytest.raises(ConfigError, match="temporal_compression"):
        from_dict(PretrainConfig, {"model": {"temporal_compression": 3}})
    with pytest.raises(ConfigError, match="patch_size"):
        from_dict(PretrainConfig, {"model": {"patch_size": 32}})
    with pytest.raises(ConfigError, match="mixed_precision"):
        from_dict(PretrainConfig, {"mixed_precision": "fp16"})
    with pytest.raises(ConfigError, match="render_workers"):
        from_dict(PretrainConfig, {"render_workers": 0})
    with pytest.raises(ConfigError, match="train_processes"):
        from_dict(PretrainConfig, {"train_processes": 5, "vae_batch_size": 4})
    with pytest.raises(ConfigError, match="train_processes"):
        from_dict(PretrainConfig, {"train_processes": 2, "device": "cuda"})
    with pytest.raises(ConfigError, match="ema_decay"):
        from_dict(PretrainConfig, {"ema_decay": 1.0})
    with pytest.raises(ConfigError, match="lr_scheduler"):
        from_dict(PretrainConfig, {"lr_scheduler": "cosine_with_restarts"})
