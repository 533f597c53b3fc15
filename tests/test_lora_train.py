"""Training on the tiny model: the loss goes down, and an interrupted run resumes exactly."""

from __future__ import annotations

import csv

import pytest
import torch

from lionlora.apps.train import TrainConfig, train
from lionlora.errors import InputError
from lionlora.lora.config import AdapterConfig
from lionlora.lora.io import read_adapter

pytestmark = pytest.mark.usefixtures("torch_single_thread")


def tiny_adapter(**changes) -> AdapterConfig:
    return AdapterConfig(**{"rank": 4, "fourier_freqs": 4, **changes})


def config(model, manifest, out, cache, **changes) -> TrainConfig:
    base = dict(
        model=str(model),
        manifest=manifest,
        lora="pan",
        out=out,
        cache_dir=cache,
        adapter=tiny_adapter(),
        steps=20,
        learning_rate=1e-2,
        warmup_steps=0,
        batch_size=2,
        micro_batch_size=1,
        checkpoint_every=10,
        gradient_checkpointing=False,
        eval_pairs=4,
        log_every=5,
    )
    return TrainConfig(**{**base, **changes})


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("latent_cache")


def test_twenty_steps_lower_the_loss(tiny_model_dir, tiny_pairs, tmp_path, cache):
    out = tmp_path / "pan"
    summary = train(config(tiny_model_dir, tiny_pairs, out, cache))
    assert summary["eval_loss_after"] < 0.9 * summary["eval_loss_before"]
    assert summary["pairs"] == 4 and summary["s_min"] == 0.5 and summary["resumed_from"] == 0
    cfg, tensors, _ = read_adapter(out)
    assert cfg.name == "pan" and cfg.rank == 4 and cfg.s_min == 0.5 and cfg.scaling_token
    assert any(t.abs().max() > 0 for k, t in tensors.items() if k.endswith("lora_B.weight"))  # B moved off 0
    with open(out / "loss.csv") as f:
        assert len(list(csv.DictReader(f))) == 20
    for name in ("loss.png", "train_config.json", "adapter.json"):
        assert (out / name).is_file()
    assert any((out / "logs").rglob("events.out.tfevents.*"))
    assert [p.name for p in sorted((out / "checkpoints").iterdir())] == ["step_000010", "step_000020"]


class Interrupt(Exception):
    pass


def test_resume_continues_the_same_schedule(tiny_model_dir, tiny_pairs, tmp_path, cache):
    """A run killed after step 4 resumes from its step-3 checkpoint and ends bit-identical to an
    uninterrupted run: optimizer, LR schedule, sample order and noise all continue."""
    common = dict(steps=6, checkpoint_every=3, lr_scheduler="cosine", warmup_steps=2, eval_pairs=1)
    common["adapter"] = tiny_adapter(dropout=0.1)
    whole = train(config(tiny_model_dir, tiny_pairs, tmp_path / "whole", cache, **common))

    def kill_after_4(step, loss):
        if step == 4:
            raise Interrupt

    cut = config(tiny_model_dir, tiny_pairs, tmp_path / "cut", cache, **common)
    with pytest.raises(Interrupt):
        train(cut, callback=kill_after_4)
    assert not (tmp_path / "cut" / "adapter.safetensors").exists()
    assert [p.name for p in (tmp_path / "cut" / "checkpoints").iterdir()] == ["step_000003"]
    resumed = train(cut)
    assert resumed["resumed_from"] == 3
    _, a, _ = read_adapter(tmp_path / "whole")
    _, b, _ = read_adapter(tmp_path / "cut")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["final_loss"] == whole["final_loss"]
    with open(tmp_path / "whole" / "loss.csv") as fa, open(tmp_path / "cut" / "loss.csv") as fb:
        assert fa.read() == fb.read()


def test_checkpoints_of_other_data_are_not_resumed(tiny_model_dir, tiny_pairs, tmp_path, cache):
    """A finished run, re-run on the same data, resumes from its last checkpoint; re-run on other
    data (here: other prompts), it starts again and keeps the old checkpoints aside."""
    common = dict(steps=2, checkpoint_every=2, eval_pairs=1)
    out = tmp_path / "run"
    train(config(tiny_model_dir, tiny_pairs, out, cache, **common))
    assert train(config(tiny_model_dir, tiny_pairs, out, cache, **common))["resumed_from"] == 2
    other = tiny_pairs.parent / "manifest_other_prompt.csv"
    other.write_text(tiny_pairs.read_text().replace("the camera pans right", "a different caption"))
    rerun = train(config(tiny_model_dir, other, out, cache, **common))
    assert rerun["resumed_from"] == 0
    assert [p.name for p in (out / "checkpoints.stale").iterdir()] == ["step_000002"]
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step_000002"]


def test_bad_manifest_rows_are_named(tiny_model_dir, tiny_pairs, tmp_path, cache):
    text = tiny_pairs.read_text().splitlines()
    bad = tmp_path / "manifest.csv"
    (tmp_path / "clip0.mp4").symlink_to(tiny_pairs.parent / "clip0.mp4")
    (tmp_path / "clip1.mp4").symlink_to(tiny_pairs.parent / "clip1.mp4")
    bad.write_text("\n".join([text[0], text[1].replace(",0.5,", ",1.5,")]) + "\n")
    with pytest.raises(InputError, match=r"row 1: scale.*\(0, 1\]"):
        train(config(tiny_model_dir, bad, tmp_path / "o", cache, steps=1))
    with pytest.raises(InputError, match="rows for the adapter 'tilt'"):
        train(config(tiny_model_dir, tiny_pairs, tmp_path / "o", cache, steps=1, lora="tilt"))
    with pytest.raises(InputError, match="S in \\[s_min, 1\\]"):
        train(config(tiny_model_dir, tiny_pairs, tmp_path / "o", cache, steps=1, adapter=tiny_adapter(s_min=0.8)))


def test_gradient_checkpointing_gives_the_same_update(tiny_model_dir, tiny_pairs, tmp_path, cache):
    """The blocks recomputed in the backward pass see the same scaling tokens and adapters."""
    runs = {}
    for gc in (False, True):
        train(
            config(
                tiny_model_dir, tiny_pairs, tmp_path / str(gc), cache, steps=2, eval_pairs=0, gradient_checkpointing=gc
            )
        )
        runs[gc] = read_adapter(tmp_path / str(gc))[1]
    for key, value in runs[False].items():
        torch.testing.assert_close(runs[True][key], value, rtol=1e-5, atol=1e-7)


def test_cli_config_file_and_overrides(tiny_model_dir, tiny_pairs, tmp_path, cache):
    """`lionlora train --config FILE`: every option in the file, any of them overridden on the line."""
    import json

    import yaml

    from lionlora.cli import main

    options = dict(
        model=str(tiny_model_dir),
        manifest=str(tiny_pairs),
        lora="pan",
        out=str(tmp_path / "o"),
        cache_dir=str(cache),
        adapter={"rank": 4},
        steps=5,
        batch_size=2,
        gradient_checkpointing=False,
        eval_pairs=0,
        checkpoint_every=5,
    )
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(options))
    assert (
        main(["-q", "train", "--config", str(tmp_path / "train.yaml"), "--steps", "2", "--set", "adapter.rank=2"]) == 0
    )
    cfg, _, _ = read_adapter(tmp_path / "o")
    assert cfg.rank == 2
    resolved = json.loads((tmp_path / "o" / "train_config.json").read_text())
    assert resolved["steps"] == 2 and resolved["batch_size"] == 2


def test_plain_variant_trains_a_lora_without_token(tiny_model_dir, tiny_pairs, tmp_path, cache):
    """`--variant plain` (the paper's baseline adapters): no token tensors, scaling_token off in the
    file, the variant and the training scenes recorded; the LoRA still learns."""
    import json

    from lionlora.cli import main
    from lionlora.lora.io import read_training_scenes

    out = tmp_path / "plain"
    argv = ["-q", "train", "--model", str(tiny_model_dir), "--manifest", str(tiny_pairs), "--lora", "pan"]
    argv += ["--out", str(out), "--cache-dir", str(cache), "--variant", "plain", "--steps", "2"]
    argv += ["--set", "adapter.rank=4", "--set", "batch_size=2", "--set", "eval_pairs=0", "--set", "warmup_steps=0"]
    argv += ["--set", "gradient_checkpointing=false", "--set", "checkpoint_every=2"]
    assert main(argv) == 0
    cfg, tensors, _ = read_adapter(out)
    assert not cfg.scaling_token
    assert not [k for k in tensors if k.startswith("token.")] and any(k.endswith("lora_B.weight") for k in tensors)
    assert any(t.abs().max() > 0 for k, t in tensors.items() if k.endswith("lora_B.weight"))
    training = json.loads((out / "adapter.json").read_text())["training"]
    assert training["variant"] == "plain"
    # the tiny manifest's clips lie at ROOT/clip{c}.mp4: the scene is ROOT's parent folder
    assert read_training_scenes(out) == training["scenes"] == [tiny_pairs.parent.parent.name]


def test_training_scenes_are_the_clip_folders_scene():
    from pathlib import Path

    from lionlora.apps.data import Pair
    from lionlora.apps.train import training_scenes

    def pair(clip, kind="camera"):
        return Pair(Path(clip), kind, "pan", 1.0, [0], None, "", 1)

    pairs = [pair("r/clips/b/pan/clip.mp4"), pair("r/clips/a/pan/clip.mp4"), pair("r/clips/b/pan/clip.mp4")]
    assert training_scenes([*pairs, pair("web/x/clip_000.mp4", "motion")]) == ["a", "b"]
    assert TrainConfig(variant="plain").adapter.scaling_token is False
    assert TrainConfig(variant="lion").adapter.scaling_token is True


def test_conditioning_dropout_zeroes_whole_samples():
    """Image and text dropout (CogVideoX fine-tuning) zero a sample's conditioning as a whole,
    each with its own probability and seeded draws."""
    from lionlora.apps.train import drop_conditioning

    def batch():
        g = torch.Generator().manual_seed(0)
        return {k: torch.randn(64, 3, 2, generator=g) + 5 for k in ("latents", "image_latents", "prompt_embeds")}

    kept = drop_conditioning(batch(), 0.0, 0.0, torch.Generator().manual_seed(1))
    assert all(torch.equal(kept[k], batch()[k]) for k in kept)
    out = drop_conditioning(batch(), 0.5, 0.25, torch.Generator().manual_seed(1))
    u = torch.rand(2, 64, generator=torch.Generator().manual_seed(1))
    for key, draws, p in (("image_latents", u[0], 0.5), ("prompt_embeds", u[1], 0.25)):
        zero = (out[key] == 0).all(dim=(1, 2))
        assert torch.equal(zero, draws < p) and (out[key][~zero] == batch()[key][~zero]).all()
    assert torch.equal(out["latents"], batch()["latents"])


def test_training_details_reach_the_optimizer_and_the_cache(tiny_model_dir, tiny_pairs, tmp_path):
    """AdamW gets the configured betas, eps and weight decay; the noise on the conditioning image
    changes the image latents (and their cache key) but not the clip's latents."""
    from lionlora.apps.data import LatentCache, encode_video, read_pairs
    from lionlora.apps.model import load_pipeline
    from lionlora.apps.train import _Trainer

    cfg = config(tiny_model_dir, tiny_pairs, tmp_path / "o", tmp_path / "c", adam_betas=[0.8, 0.9], adam_epsilon=1e-6)
    assert cfg.image_noise == (-3.0, 0.5) and cfg.image_dropout == 0.05 and cfg.max_grad_norm == 1.0
    optimizer, _ = _Trainer(cfg)._optimizer([torch.nn.Parameter(torch.zeros(2))])
    group = optimizer.param_groups[0]
    assert group["betas"] == (0.8, 0.9) and group["eps"] == 1e-6 and group["weight_decay"] == 1e-4

    pipe = load_pipeline(tiny_model_dir, device="cpu")
    pixels = torch.rand(1, 3, 9, 32, 48, generator=torch.Generator().manual_seed(0)) * 2 - 1
    clean, noisy = (encode_video(pipe, pixels, 7, noise) for noise in (None, (0.0, 0.0)))  # sigma = 1
    assert torch.equal(clean["latents"], noisy["latents"])
    assert not torch.allclose(clean["image_latents"], noisy["image_latents"], atol=1e-3)
    pair = read_pairs(tiny_pairs, "pan")[0]
    keys = {LatentCache(tmp_path, pipe, "m", 9, 32, 48, image_noise=n).pair_key(pair) for n in (None, (-3, 0.5))}
    assert len(keys) == 2


def test_latents_depend_on_the_clip_content_not_its_path_or_time(tiny_model_dir, tiny_pairs, tmp_path):
    """Two demo runs in different results folders (or a re-rendered, byte-identical clip) draw the
    same posterior samples: the seed comes from the clip's bytes, not its path or mtime."""
    import dataclasses
    import os
    import shutil

    from lionlora.apps.data import LatentCache, read_pairs
    from lionlora.apps.model import load_pipeline

    pipe = load_pipeline(tiny_model_dir, device="cpu")
    pair = read_pairs(tiny_pairs, "pan")[0]
    copy = tmp_path / "elsewhere" / pair.clip.name
    copy.parent.mkdir()
    shutil.copy(pair.clip, copy)
    os.utime(copy, ns=(1, 1))  # another modification time too
    moved = dataclasses.replace(pair, clip=copy)
    a = LatentCache(tmp_path / "c1", pipe, "m", 9, 32, 48, image_noise=(-3.0, 0.5))
    b = LatentCache(tmp_path / "c2", pipe, "m", 9, 32, 48, image_noise=(-3.0, 0.5))
    assert a.pair_key(pair) != b.pair_key(moved)  # the cache still tells the files apart
    la, lb = a.pair_latents(pair), b.pair_latents(moved)
    assert torch.equal(la["latents"], lb["latents"]) and torch.equal(la["image_latents"], lb["image_latents"])
    # other frames or another size of the same clip draw other noise
    assert a.content_seed(pair) != LatentCache(tmp_path / "c3", pipe, "m", 9, 32, 64).content_seed(pair)
