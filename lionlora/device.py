"""Which torch device a stage runs on: one rule for every stage with a ``device`` option."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lionlora.errors import DependencyError

if TYPE_CHECKING:
    import torch


def resolve_device(name: str = "auto", stage: str = "") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; an explicit CUDA device without CUDA is an error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        who = f"{stage}: " if stage else ""
        raise DependencyError(f"{who}device {name!r} requested but CUDA is not available (use device=cpu or auto)")
    return torch.device(name)
