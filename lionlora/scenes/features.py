"""SIFT features and verified matches of a frame folder, into a COLMAP database (pycolmap).

The front end shared by triangulation with known poses (:mod:`lionlora.scenes.triangulate`) and
pose recovery (:mod:`lionlora.eval.camera.sfm`): one shared camera for all frames, then
sequential or exhaustive matching with COLMAP's geometric verification.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from lionlora.geometry import Intrinsics


@dataclass(frozen=True)
class FeatureOptions:
    """What :func:`extract_and_match` sets; ``None`` keeps pycolmap's default."""

    max_features: int
    num_threads: int = -1
    device: str = "cpu"
    overlap: int | None = None  # sequential matching with this many neighbours a side; None: every pair
    quadratic_overlap: bool | None = None
    first_octave: int | None = None
    upright: bool | None = None
    max_image_size: int | None = None


def reader_options(pycolmap, intrinsics: Intrinsics | None = None, camera_model: str = "PINHOLE"):
    """One camera for all frames: fixed pinhole ``intrinsics``, or ``camera_model`` left to refine."""
    reader = pycolmap.ImageReaderOptions()
    if intrinsics is None:
        reader.camera_model = camera_model
    else:
        K = intrinsics
        reader.camera_model = "PINHOLE"
        reader.camera_params = ",".join(repr(float(v)) for v in (K.fx, K.fy, K.cx, K.cy))
    return reader


def extract_and_match(pycolmap, db: Path, image_dir: Path, names: list[str], reader, opts: FeatureOptions):
    """Features of ``names`` in ``image_dir`` and their verified matches into ``db``.

    Returns:
        The seconds of feature extraction and of matching.
    """
    device = getattr(pycolmap.Device, opts.device)
    t0 = time.perf_counter()
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.sift.max_num_features = opts.max_features
    if opts.first_octave is not None:
        extraction.sift.first_octave = opts.first_octave
    if opts.upright is not None:
        extraction.sift.upright = opts.upright
    if opts.max_image_size is not None:
        extraction.max_image_size = opts.max_image_size
    extraction.num_threads = opts.num_threads
    pycolmap.extract_features(
        db,
        image_dir,
        image_names=names,
        camera_mode=pycolmap.CameraMode.SINGLE,
        reader_options=reader,
        extraction_options=extraction,
        device=device,
    )
    t1 = time.perf_counter()
    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = opts.num_threads
    if opts.overlap is None:
        pycolmap.match_exhaustive(db, matching_options=matching, device=device)
    else:
        pairing = pycolmap.SequentialPairingOptions()
        pairing.overlap = opts.overlap
        if opts.quadratic_overlap is not None:
            pairing.quadratic_overlap = opts.quadratic_overlap
        pycolmap.match_sequential(db, matching_options=matching, pairing_options=pairing, device=device)
    return t1 - t0, time.perf_counter() - t1
