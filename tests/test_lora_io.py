"""Adapter files: safetensors round trip, and the named errors for bad adapters and arguments."""

from __future__ import annotations

import pickle

import pytest
import torch

from lionlora.errors import AdapterError, ConfigError
from lionlora.lora.config import AdapterConfig
from lionlora.lora.fusion import ActiveAdapter
from lionlora.lora.io import load_adapter, read_adapter, save_adapter
from lionlora.lora.lion import LionLoRA

pytestmark = pytest.mark.usefixtures("torch_single_thread")


def transformer(model_dir, **changes):
    from diffusers import CogVideoXTransformer3DModel

    if not changes:
        return CogVideoXTransformer3DModel.from_pretrained(model_dir / "transformer").eval()
    config = dict(CogVideoXTransformer3DModel.load_config(model_dir / "transformer"))
    config.update(changes)
    return CogVideoXTransformer3DModel.from_config(config).eval()


@pytest.fixture(scope="module")
def saved_adapter(tiny_model_dir, tmp_path_factory):
    lion = LionLoRA(transformer(tiny_model_dir))
    lion.add_adapter(AdapterConfig(name="orbit_left", rank=4, s_min=0.2, block_start=1))
    gen = torch.Generator().manual_seed(0)
    for p in lion.adapter_parameters("orbit_left").values():
        p.data = torch.randn(p.shape, generator=gen) * 0.2
    out = tmp_path_factory.mktemp("adapter") / "orbit_left"
    save_adapter(lion, "orbit_left", out, extra={"note": "test"})
    return lion, out


def test_round_trip_gives_identical_outputs(tiny_model_dir, saved_adapter):
    lion, folder = saved_adapter
    assert sorted(p.name for p in folder.iterdir()) == ["adapter.json", "adapter.safetensors"]
    cfg, tensors, _ = read_adapter(folder)
    assert cfg.name == "orbit_left" and cfg.width == 32 and cfg.num_layers == 2 and cfg.s_min == 0.2
    assert all(not k.startswith("lora.transformer_blocks.0.") for k in tensors)  # block range kept
    assert {"token.proj.weight", "token.proj.bias"} <= set(tensors)
    loaded = LionLoRA(transformer(tiny_model_dir))
    assert load_adapter(loaded, folder / "adapter.safetensors", name="orbit_left") == cfg
    gen = torch.Generator().manual_seed(1)
    kw = dict(
        hidden_states=torch.randn(1, 3, 8, 4, 6, generator=gen),
        encoder_hidden_states=torch.randn(1, 16, 32, generator=gen),
        timestep=torch.tensor([300]),
        return_dict=False,
        adapters=[ActiveAdapter("orbit_left", scale=0.7)],
    )
    with torch.no_grad():
        assert torch.equal(lion(**kw)[0], loaded(**kw)[0])


def test_pickle_checkpoints_are_refused(tmp_path, tiny_model_dir):
    lion = LionLoRA(transformer(tiny_model_dir))
    torch.save({"w": torch.zeros(2)}, tmp_path / "adapter.bin")
    with pytest.raises(AdapterError, match="pickle checkpoints are refused"):
        load_adapter(lion, tmp_path / "adapter.bin")
    with pytest.raises(AdapterError, match="pickle checkpoints are refused"):
        load_adapter(lion, tmp_path)  # a folder holding only a pickle
    disguised = tmp_path / "other" / "adapter.safetensors"
    disguised.parent.mkdir()
    disguised.write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(AdapterError, match="pickle"):
        read_adapter(disguised.parent)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(AdapterError, match="valid safetensors"):
        read_adapter(tmp_path / "junk.safetensors")
    assert not lion.configs


def test_width_and_name_mismatch(tiny_model_dir, saved_adapter):
    _, folder = saved_adapter
    narrow = LionLoRA(transformer(tiny_model_dir, num_attention_heads=1))
    with pytest.raises(AdapterError, match="transformer width 16"):
        load_adapter(narrow, folder)
    shallow = LionLoRA(transformer(tiny_model_dir, num_layers=1))
    with pytest.raises(AdapterError, match="1 transformer blocks"):
        load_adapter(shallow, folder)
    with pytest.raises(AdapterError, match="orbit_left"):
        load_adapter(LionLoRA(transformer(tiny_model_dir)), folder, name="orbit_right")


def test_generate_cli_rejects_bad_loras_before_loading(tmp_path, saved_adapter, capsys):
    """Named one-line errors, exit status 1 (the model is never loaded: it does not exist)."""
    import numpy as np

    from lionlora.cli import main
    from lionlora.io.video import write_image

    _, folder = saved_adapter
    torch.save({}, tmp_path / "x.pt")
    write_image(tmp_path / "first.png", np.zeros((32, 48, 3), np.uint8))
    cases = {
        f"orbit_left={folder}:0.1": "S in [s_min, 1]",
        f"orbit_left={folder}:1.5": "S in [s_min, 1]",
        f"dolly_in={folder}:0.5": "LoRA name stored in the adapter",
        f"orbit_left={tmp_path / 'x.pt'}:0.5": "pickle checkpoints are refused",
        "orbit_left-no-path": "NAME=PATH[:S]",
    }
    for spec, message in cases.items():
        code = main(
            [
                "-q",
                "generate",
                "--model",
                str(tmp_path / "none"),
                "--image",
                str(tmp_path / "first.png"),
                "--prompt",
                "x",
                "--lora",
                spec,
                "--out",
                str(tmp_path / "o.mp4"),
            ]
        )
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert code == 1 and len(lines) == 1 and message in lines[0], (spec, err)
    assert not (tmp_path / "o.mp4").exists()


def test_lora_spec_parsing():
    from lionlora.apps.generate import parse_lora_spec

    spec = parse_lora_spec("orbit_left=runs/a:b/orbit:0.25")  # the last ':' separates S
    assert (spec.name, spec.path.as_posix(), spec.scale) == ("orbit_left", "runs/a:b/orbit", 0.25)
    # one syntax, NAME=PATH[:S], for generate and analyze: S defaults to 1, a non-numeric suffix
    # belongs to the path
    assert (parse_lora_spec("pan=runs/pan").path.as_posix(), parse_lora_spec("pan=runs/pan").scale) == ("runs/pan", 1)
    assert parse_lora_spec("pan=runs/a:b").path.as_posix() == "runs/a:b"
    assert parse_lora_spec("pan=runs/pan:0.5").path.as_posix() == "runs/pan"
    for bad in ("no-equals-sign", "pan=", "pan=runs/pan:nan"):
        with pytest.raises(ConfigError, match="NAME=PATH"):
            parse_lora_spec(bad)


def test_adapter_config_rejects_bad_values():
    for bad in (
        dict(rank=0),
        dict(name="a.b"),
        dict(s_min=0.0),
        dict(block_start=2, block_stop=1),
        dict(fourier_freqs=0),
    ):
        with pytest.raises(ConfigError):
            AdapterConfig(**bad)


def test_training_scenes_travel_in_the_file(tiny_model_dir, saved_adapter, tmp_path):
    """Recorded scenes come back from the .safetensors alone; an adapter without them gives None."""
    import shutil

    from lionlora.lora.io import read_training_scenes

    assert read_training_scenes(saved_adapter[1]) is None
    lion = LionLoRA(transformer(tiny_model_dir))
    lion.add_adapter(AdapterConfig(name="pan_left", rank=2, fourier_freqs=2))
    save_adapter(lion, "pan_left", tmp_path / "a", extra={"training": {"scenes": ["kitchen", "attic"]}})
    shutil.copy(tmp_path / "a" / "adapter.safetensors", tmp_path / "copy.safetensors")
    assert read_training_scenes(tmp_path / "copy.safetensors") == ["attic", "kitchen"]
    read_adapter(tmp_path / "copy.safetensors")  # still a valid adapter
    from lionlora.lora.io import AdapterRecord

    record = AdapterRecord(AdapterConfig(name="pan_left"), {"training": {"scenes": ["kitchen", "attic"]}})
    back = AdapterRecord.from_metadata(record.to_metadata(), "x.safetensors")
    assert back.training_scenes == ["attic", "kitchen"] and back.config == record.config
