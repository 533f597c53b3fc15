"""Which torch device a stage runs on: one rule for every stage with a ``device`` option."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from lionlora.errors import ConfigError, DependencyError

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


THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "OPENCV_FOR_THREADS_NUM",  # read by OpenCV when a (child) process first imports it
)


@contextlib.contextmanager
def single_threaded_children():
    """Child processes started inside this block run their BLAS/OpenMP pools with one thread.

    A process pool of N workers on N cores then does not start N x N threads (the pools read
    these variables once, when the child imports numpy or torch).
    """
    import os

    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def limit_threads(threads: int) -> None:
    """Keep torch, OpenCV and the BLAS/OpenMP pools to ``threads`` CPU threads in this process.

    The environment variables reach torch when it is imported later and every child process;
    torch and OpenCV are also told directly when they are already imported or importable.
    pycolmap takes its count through its options (``CameraEvalConfig.num_threads``).
    """
    import os
    import sys

    if threads < 1:
        raise ConfigError("--threads", "", "an integer >= 1", got=threads)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    try:
        import cv2
    except ImportError:  # OpenCV is optional for stages that do not read videos
        return
    cv2.setNumThreads(threads)
