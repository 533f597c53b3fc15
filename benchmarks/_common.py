"""Shared set-up of the 3DGS benchmarks: the embedded scene and the demo configuration."""

from __future__ import annotations

from pathlib import Path

from lionlora.config import load_yaml

REPO = Path(__file__).resolve().parents[1]


def demo_section(name: str) -> dict:
    """A section of configs/demo.yaml."""
    return load_yaml(REPO / "configs" / "demo.yaml").get(name) or {}


def embedded_scene(work: Path) -> Path:
    """The demo's embedded scene, written into ``work`` unless already there."""
    from lionlora.config import from_dict
    from lionlora.pipelines.synth import SynthConfig, synth_scene

    out = work / "scene"
    if not (out / "transforms.json").exists():
        synth_scene(out, from_dict(SynthConfig, demo_section("scenes").get("embedded")))
    return out
