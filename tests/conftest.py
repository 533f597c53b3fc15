"""Shared fixtures: the embedded scene is generated once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TQDM_DISABLE", "1")

REPO = Path(__file__).resolve().parents[1]

# The scene used by most tests: the default layout with fewer frames.
SCENE_FRAMES = 24


@pytest.fixture(scope="session")
def scene_dir(tmp_path_factory) -> Path:
    """The embedded scene (seed 0, 24 frames, images_2 = 480x270 and images_4), read-only by convention."""
    from lionlora.pipelines.synth import SynthConfig, synth_scene

    out = tmp_path_factory.mktemp("scene") / "embedded"
    return synth_scene(out, SynthConfig(seed=0, frames=SCENE_FRAMES))


@pytest.fixture(scope="session")
def scene(scene_dir):
    from lionlora.scenes import load_scene

    return load_scene(scene_dir, downsample=2)


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``gpu`` without CUDA, and ``weights`` without LIONLORA_WEIGHTS."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device"))
        if "weights" in item.keywords and not os.environ.get("LIONLORA_WEIGHTS"):
            item.add_marker(pytest.mark.skip(reason="needs real weights (set LIONLORA_WEIGHTS)"))


# -- LiON-LoRA (issue 7): a tiny CogVideoX I2V model and a tiny set of training pairs ----------


@pytest.fixture(scope="module")
def torch_single_thread():
    """One intra-op thread for a module of tiny-model tests (their ops are far too small to gain
    from more, and lose much when the cores are shared); restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The tiny random-init CogVideoX I2V pipeline, written by ``lionlora demo-model``."""
    from lionlora.cli import main

    out = tmp_path_factory.mktemp("tiny_model") / "model"
    assert main(["-q", "demo-model", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def tiny_pairs(tmp_path_factory) -> Path:
    """A pairs manifest (contract 1): two 24-frame 64x96 clips of a texture sliding left (a
    camera panning right), each at S = 0.5 and 1, 9 frames per pair, for the adapter 'pan'."""
    import json

    import numpy as np

    from lionlora.io.video import write_video
    from lionlora.scaling import sample_indices

    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    rows = ["clip,kind,lora,scale,frames,cameras,prompt"]
    for c in range(2):
        cells = (rng.random((8, 50, 3)) * 255).astype(np.uint8)
        texture = np.repeat(np.repeat(cells, 8, axis=0), 8, axis=1)
        write_video(root / f"clip{c}.mp4", [texture[:, 4 * i : 4 * i + 96] for i in range(24)], fps=8)
        for s in (0.5, 1.0):
            frames = json.dumps(sample_indices(s, 24, 9))
            rows.append(f'clip{c}.mp4,camera,pan,{s},"{frames}",,the camera pans right')
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root / "manifest.csv"


# -- Packaging (issue 15): the wheel, built once from a clean copy of the sources --------------

# What the build reads; copied so that a stale build/ in the checkout cannot leak into the wheel.
WHEEL_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "lionlora", "pipelines", "eval")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built offline (``pip wheel --no-deps --no-build-isolation``)."""
    import shutil
    import subprocess
    import sys

    src = tmp_path_factory.mktemp("wheel_src")
    for name in WHEEL_SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(REPO / name, src / name)
    dist = tmp_path_factory.mktemp("wheel_dist")
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)]
    subprocess.run(cmd, check=True, capture_output=True)
    (whl,) = dist.glob("lionlora-*.whl")
    return whl


@pytest.fixture(scope="session")
def wheel_site(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own (``pip install --target``), for ``PYTHONPATH``."""
    import subprocess
    import sys

    site = tmp_path_factory.mktemp("wheel_site")
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(cmd, check=True, capture_output=True)
    return site
