"""Loading the I3D feature detector from a local file: TorchScript or a state dict.

Two weight formats are accepted, detected from the file:

* **TorchScript** in the StyleGAN-V convention (``i3d_torchscript.pt``), called as
  ``model(x, rescale=..., resize=..., return_features=True)`` on ``[B, 3, T, H, W]`` videos;
* a **state dict** in the VideoGPT / TATS convention (``i3d_pretrained_400.pt``), loaded with
  ``strict=True`` into :class:`lionlora.eval.quality.i3d.InceptionI3d`, which takes the same call.

Nothing is downloaded. A file may be pinned by its SHA-256. ``lionlora eval i3d-init`` writes a
randomly initialised state dict plus a sidecar ``PATH.json`` that marks it, so that the demo runs
through the same loading path and its FVDs are labelled as not comparable to published numbers.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lionlora.device import resolve_device
from lionlora.errors import DependencyError, InputError
from lionlora.io.files import read_json, sha256_file, write_bytes, write_json

log = logging.getLogger(__name__)

REFERENCE_WEIGHTS = (
    "the Kinetics-400 I3D used for FVD, either the VideoGPT/TATS state dict 'i3d_pretrained_400.pt' "
    "(published with VideoGPT, github.com/wilson1yan/VideoGPT, and TATS, github.com/SongweiGe/TATS) "
    "or the StyleGAN-V TorchScript 'i3d_torchscript.pt' (linked from "
    "github.com/universome/stylegan-v, src/metrics/frechet_video_distance.py)"
)
RANDOM_NOTE = (
    "randomly initialised I3D (lionlora eval i3d-init): FVD values are NOT comparable "
    "to the paper or to any published FVD"
)
USER_NOTE = (
    "user-provided weights: comparable to published FVDs only if they are the reference "
    "Kinetics-400 I3D (VideoGPT/TATS i3d_pretrained_400.pt or StyleGAN-V i3d_torchscript.pt)"
)


#: Classes of the reference I3D's head (Kinetics-400): its logits are the FVD features.
KINETICS_CLASSES = 400


def comparability(random_init: bool, feature_dim: int) -> tuple[bool, str]:
    """Whether an FVD made with these weights can be compared to published ones, and why.

    Only a Kinetics-400 head (400 logits) that is not a random initialisation qualifies; a
    file's identity beyond that is recorded by its SHA-256, not guessed.
    """
    if random_init:
        return False, RANDOM_NOTE
    if feature_dim != KINETICS_CLASSES:
        return False, (
            f"a {feature_dim}-class head: FVD values are NOT comparable to published FVDs, which use "
            f"the Kinetics-400 I3D ({KINETICS_CLASSES} logits)"
        )
    return True, USER_NOTE


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives are zip files holding ``code/`` and ``constants.pkl``."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.endswith("constants.pkl") or "/code/" in n for n in z.namelist())


@dataclass
class I3DDetector:
    """A loaded I3D and what it is.

    Attributes:
        model: a module called as ``model(x, rescale=, resize=, return_features=)``.
        path: the weights file.
        sha256: hex SHA-256 of that file.
        format: ``torchscript`` or ``state_dict``.
        random_init: the file was written by ``lionlora eval i3d-init``.
        device: torch device of the model.
    """

    model: torch.nn.Module
    path: Path
    sha256: str
    format: str
    random_init: bool
    device: torch.device

    @property
    def note(self) -> str:
        return RANDOM_NOTE if self.random_init else USER_NOTE

    def describe(self) -> dict:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "format": self.format,
            "random_init": self.random_init,
            "note": self.note,
        }

    @torch.no_grad()
    def __call__(self, batch: torch.Tensor, rescale: bool, resize: bool) -> np.ndarray:
        """Features ``[B, D]`` float64 of a preprocessed batch ``[B, 3, T, H, W]``."""
        out = self.model(batch.to(self.device), rescale=rescale, resize=resize, return_features=True)
        if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != batch.shape[0]:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise InputError(self.path, "output", f"features [{batch.shape[0]}, D] from the detector", got=got)
        return out.detach().double().cpu().numpy()


def check_weights_file(path: str | Path | None, sha256: str | None = None) -> tuple[Path, str]:
    """The weights path and its SHA-256; a missing file or a pin mismatch is an error."""
    if path is None or str(path) == "":
        raise DependencyError(
            f"no I3D weights given (--i3d PATH or eval_quality.i3d): expected {REFERENCE_WEIGHTS}; "
            "nothing is downloaded. For a demo only, `lionlora eval i3d-init --out PATH` "
            "writes random weights."
        )
    path = Path(path)
    if not path.is_file():
        raise DependencyError(
            f"I3D weights not found at {path}: expected {REFERENCE_WEIGHTS}; "
            "nothing is downloaded, place the file there or pass --i3d PATH"
        )
    digest = sha256_file(path)
    if sha256 and digest.lower() != sha256.lower():
        raise InputError(path, "sha256", f"the pinned SHA-256 {sha256}", got=digest)
    return path, digest


def _read_sidecar(path: Path, digest: str) -> bool:
    """Whether ``PATH.json`` marks this exact file as a random initialisation."""
    side = path.with_name(path.name + ".json")
    if not side.is_file():
        return False
    meta = read_json(side, "I3D weights sidecar")
    return bool(meta.get("random_init")) and meta.get("sha256") == digest


def load_i3d(path: str | Path | None, sha256: str | None = None, device: str = "auto") -> I3DDetector:
    """Load a TorchScript or VideoGPT-convention state dict I3D from a local file.

    Args:
        path: the weights file.
        sha256: optional pin; a different file hash raises :class:`InputError`.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
    Raises:
        DependencyError: no path, or the file does not exist (the message names the reference
            weights and where they are published).
        InputError: the file is neither format, or a state dict whose keys or shapes do not match.
    """
    from lionlora.eval.quality.i3d import InceptionI3d

    path, digest = check_weights_file(path, sha256)
    dev = resolve_device(device, "I3D")
    if _is_torchscript(path):
        try:
            model = torch.jit.load(str(path), map_location=dev)
        except RuntimeError as exc:
            raise InputError(path, "", "a loadable TorchScript archive", got=str(exc).splitlines()[0]) from None
        fmt = "torchscript"
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several unrelated types for foreign files
            raise InputError(
                path,
                "",
                "a TorchScript archive or a torch.save'd state dict",
                got=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            ) from None
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise InputError(path, "", "a state dict (mapping of names to tensors)", got=type(state).__name__)
        model = InceptionI3d(
            num_classes=int(state["logits.conv3d.bias"].shape[0]) if "logits.conv3d.bias" in state else 400
        )
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise InputError(
                path,
                "state dict",
                "the VideoGPT/TATS Inception-I3D layout (strict load)",
                got=str(exc).replace("\n", " "),
            ) from None
        model = model.to(dev)
        fmt = "state_dict"
    model.eval()
    random_init = _read_sidecar(path, digest)
    if random_init:
        log.warning("%s: %s", path, RANDOM_NOTE)
    return I3DDetector(model, path, digest, fmt, random_init, dev)


def write_random_i3d(out: str | Path, seed: int = 0, num_classes: int = 400) -> Path:
    """Write a randomly initialised :class:`InceptionI3d` state dict and its ``OUT.json`` sidecar.

    The file has the VideoGPT/TATS layout, so it goes through :func:`load_i3d` exactly as the real
    weights do. Convolutions are Kaiming-normal (activations keep their scale through the ReLUs);
    BatchNorm keeps identity statistics.
    """
    from lionlora.eval.quality.i3d import InceptionI3d

    out = Path(out)
    torch.manual_seed(seed)
    model = InceptionI3d(num_classes)
    for m in model.modules():
        if isinstance(m, torch.nn.Conv3d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    buffer = io.BytesIO()  # saving to a buffer keeps the archive's inner name, hence the bytes, fixed
    torch.save(model.state_dict(), buffer)
    write_bytes(out, buffer.getvalue())
    digest = sha256_file(out)
    write_json(
        out.with_name(out.name + ".json"),
        {
            "random_init": True,
            "seed": seed,
            "sha256": digest,
            "format": "state_dict",
            "layout": "VideoGPT/TATS InceptionI3d",
            "note": RANDOM_NOTE,
        },
    )
    return out
