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
    from pipelines.synth import SynthConfig, synth_scene

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
