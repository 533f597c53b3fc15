"""``lionlora benchmark generate``: one video per suite sample from LiON-LoRA or diffusers LoRA adapters.

Each sample uses the adapters named after its primitive's parts (``orbit_left+pan_up`` fuses
``orbit_left`` and ``pan_up``), its conditioning image and prompt, and the sampler settings of
:class:`lionlora.apps.generate.GenerateConfig` (the paper's by default). An adapter file is
detected by its keys (:mod:`lionlora.lora.diffusers_io`): a LiON-LoRA adapter takes ``:S`` as its
scaling value; a diffusers-format LoRA is a plain LoRA (no scaling token) and takes ``:S`` as its
adapter scale (the LoRA output's weight, ``set_adapters``' weight in diffusers).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from tqdm.auto import tqdm

from lionlora.apps import generate as generate_app
from lionlora.config import to_dict
from lionlora.errors import AdapterError
from lionlora.io.files import write_json

from .suite import check_suite

log = logging.getLogger(__name__)


def check_loras(specs: list, needed: set[str]) -> dict:
    """``{NAME: spec}``; a NAME given twice, or a primitive part of the suite without an adapter, is an error."""
    out = {}
    for spec in specs:
        if spec.name in out:
            raise AdapterError("--lora", "NAME", "each NAME once", got=spec.name)
        out[spec.name] = spec
    if missing := sorted(needed - set(out)):
        raise AdapterError(
            "--lora", "NAME", f"an adapter for every primitive of the suite {sorted(needed)}", got=missing
        )
    return out


def generate_suite(suite: str | Path, cfg, specs: list, out: str | Path, pipe=None) -> dict:
    """Write ``out/{sample}.mp4`` (and its ``.json`` record) for every sample of ``suite``.

    Args:
        cfg: a :class:`lionlora.apps.generate.GenerateConfig`.
        specs: ``--lora NAME=PATH[:S]`` as :class:`lionlora.apps.generate.LoraSpec`.
        pipe: an already loaded pipeline (default: ``cfg.model`` is loaded).
    Returns:
        the run's record (also written to ``out/benchmark_generate.json``).
    Raises:
        AdapterError: a NAME twice, a primitive without an adapter, a file of neither format.
    """
    from lionlora.lora.diffusers_io import load_lora, lora_format

    suite, out = Path(suite), Path(out)
    manifest = check_suite(suite)
    by_name = check_loras(specs, {p for s in manifest.samples for p in s.parts})
    formats = {name: lora_format(spec.path) for name, spec in by_name.items()}  # fails before the model loads
    gen = generate_app.VideoGenerator(cfg, [], pipe=pipe)
    for name, spec in by_name.items():
        load_lora(gen.lion, spec.path, name)
        if formats[name] == "diffusers" and not cfg.adapter_scale:
            by_name[name] = replace(spec, weight=spec.scale * spec.weight)  # S is the adapter scale
    records = {}
    for s in tqdm(manifest.samples, desc="benchmark generate", unit="video"):
        gen.specs = [by_name[p] for p in s.parts]
        prompt = (suite / s.prompt).read_text().strip()
        rec = generate_app.generate_to_file(
            cfg, suite / s.image, prompt, gen.specs, out / f"{s.sample}.mp4", generator=gen
        )
        records[s.sample] = {k: rec[k] for k in ("frames", "height", "width", "seconds")}
    record = {
        "suite": str(suite),
        "loras": {n: {"path": str(sp.path), "scale": sp.scale, "format": formats[n]} for n, sp in by_name.items()},
        "videos": records,
        "config": to_dict(cfg),
    }
    write_json(out / "benchmark_generate.json", record)
    return record
