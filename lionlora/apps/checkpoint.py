"""Training checkpoints without pickle: adapter + optimizer tensors in safetensors, the rest in JSON.

``{out}/checkpoints/step_000500/`` holds

* ``adapter.safetensors`` / ``adapter.json``: the adapter being trained (:mod:`lionlora.lora.io`);
* ``optimizer.safetensors``: the optimizer's per-parameter state (``state.<i>.<key>``);
* ``training_state.json``: step, optimizer param groups, LR-scheduler state, the loss history and
  the resolved config; written last, it marks the folder as complete.

Random numbers and the sample order are pure functions of (seed, step) (see
:mod:`lionlora.apps.data`), so the step number restores them: a resumed run repeats the
uninterrupted run's schedule exactly.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import torch

from lionlora.errors import InputError
from lionlora.io.files import atomic_dir, read_json, write_json
from lionlora.lora.io import assign_adapter_tensors, read_adapter, save_adapter

log = logging.getLogger(__name__)

STATE_FILE = "training_state.json"
_STEP_DIR = re.compile(r"^step_(\d+)$")


def _optimizer_tensors(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, scalars = {}, {}
    for idx, entries in state.items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{idx}.{key}"] = value.detach().to("cpu").contiguous()
            else:
                scalars[f"{idx}.{key}"] = value
    return tensors, scalars


def save_checkpoint(folder: Path, step: int, lion, name: str, optimizer, lr_scheduler, extra: dict) -> Path:
    """Write checkpoint ``folder/step_{step:06d}`` atomically; returns its path."""
    from safetensors.torch import save_file

    path = folder / f"step_{step:06d}"
    opt_state = optimizer.state_dict()
    tensors, scalars = _optimizer_tensors(opt_state["state"])
    with atomic_dir(path, STATE_FILE) as tmp:
        save_adapter(lion, name, tmp)
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        write_json(
            tmp / STATE_FILE,
            {
                "step": step,
                "optimizer": {"param_groups": opt_state["param_groups"], "scalars": scalars},
                "lr_scheduler": lr_scheduler.state_dict(),
                **extra,
            },
        )
    return path


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``folder`` as (step, path), oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and (p / STATE_FILE).is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def prune_checkpoints(folder: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints."""
    for _, path in list_checkpoints(folder)[:-keep] if keep > 0 else []:
        shutil.rmtree(path, ignore_errors=True)


def load_checkpoint(path: Path, lion, name: str, optimizer, lr_scheduler) -> dict:
    """Restore adapter weights, optimizer and LR scheduler from ``path``; returns the state JSON."""
    from safetensors.torch import load_file

    state = read_json(path / STATE_FILE, "a training checkpoint state")
    cfg, tensors, _ = read_adapter(path)
    if cfg.name != name:
        raise InputError(path, "config.name", f"a checkpoint of adapter '{name}'", got=cfg.name)
    assign_adapter_tensors(lion, name, tensors, path)
    opt_tensors = load_file(str(path / "optimizer.safetensors"))
    opt_state: dict[int, dict] = {}
    for key, value in opt_tensors.items():
        _, idx, field = key.split(".", 2)
        opt_state.setdefault(int(idx), {})[field] = value
    for key, value in state["optimizer"]["scalars"].items():
        idx, field = key.split(".", 1)
        opt_state.setdefault(int(idx), {})[field] = value
    optimizer.load_state_dict({"state": opt_state, "param_groups": state["optimizer"]["param_groups"]})
    lr_scheduler.load_state_dict(state["lr_scheduler"])
    log.info("resumed from %s (step %d)", path, state["step"])
    return state
