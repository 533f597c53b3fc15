"""FVD between a folder of real videos and a folder of generated ones, with every choice recorded.

``fvd.json`` holds ``fvd``, ``n_real``, ``n_fake`` (the keys ``lionlora eval table`` reads) and
the record of how the number was made: preset (size, resize policy, value range, interpolation,
detector flags), frame selection, covariance divisor, square-root method, the weights' SHA-256
(``i3d_sha256``), path and format, whether the number is comparable to published FVDs (only a
Kinetics-400 head that is not a random initialisation) and why, the frame counts and rates of both
sets (a warning when they differ), the feature cache statistics, warnings and the resolved config.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lionlora.config import to_dict
from lionlora.errors import InputError
from lionlora.eval.quality.config import FvdConfig
from lionlora.eval.quality.features import (
    FeatureCache,
    default_cache_dir,
    extract_features,
    find_videos,
    timing_of,
    timing_warnings,
)
from lionlora.eval.quality.frechet import frechet
from lionlora.eval.quality.presets import get_preset
from lionlora.eval.quality.weights import comparability, load_i3d
from lionlora.io.files import check_output, write_npy
from lionlora.records.fvd import FvdResult

log = logging.getLogger(__name__)


def compute_fvd(real_dir: str | Path, fake_dir: str | Path, cfg: FvdConfig, out: str | Path | None = None) -> dict:
    """FVD of the videos in ``fake_dir`` against those in ``real_dir``.

    Args:
        real_dir, fake_dir: folders searched recursively for video files (and frame folders).
        cfg: weights, preset, frames, statistics and filtering options.
        out: when given, the result is written there as JSON (and, with ``cfg.save_features``,
            the features as ``OUT.real.npy`` / ``OUT.fake.npy``).
    Returns:
        the record written to ``out``.
    """
    if out is not None:  # every output checked before any feature is cached or saved
        features = [Path(out).with_suffix(s) for s in (".real.npy", ".fake.npy")] if cfg.save_features else []
        for path in (Path(out), *features):
            check_output(path)
    preset = get_preset(cfg.preset)
    real_videos = find_videos(real_dir, cfg.include, cfg.exclude, cfg.frame_folders)
    fake_videos = find_videos(fake_dir, cfg.include, cfg.exclude, cfg.frame_folders)
    detector = load_i3d(cfg.i3d, cfg.i3d_sha256, cfg.device)
    cache = FeatureCache(cfg.cache_dir if cfg.cache_dir is not None else default_cache_dir())
    common = dict(
        detector=detector,
        weights_sha256=detector.sha256,
        preset=preset,
        frames=cfg.frames,
        cache=cache,
        batch_size=cfg.batch_size,
    )
    real, real_info = extract_features(real_videos, desc="I3D real", **common)
    fake, fake_info = extract_features(fake_videos, desc="I3D fake", **common)
    result = frechet(real, fake, cfg.covariance, cfg.sqrt, f"{real_dir} features", f"{fake_dir} features")
    decoded = [v.n_frames for v in real_info + fake_info if v.n_frames is not None]
    comparable, why = comparability(detector.random_init, result.feature_dim)
    timing = {"real": timing_of(real_videos), "fake": timing_of(fake_videos)}
    record = {
        "fvd": result.fvd,
        "n_real": result.n_real,
        "n_fake": result.n_fake,
        "comparable_to_paper": comparable,
        "comparable_note": why,
        "i3d_sha256": detector.sha256,
        "weights": detector.describe(),
        "preset": preset.describe(),
        "frames": cfg.frames,
        "covariance": result.covariance,
        "sqrt": result.sqrt,
        "feature": "Kinetics-400 I3D logits averaged over time (return_features=True)",
        "feature_dim": result.feature_dim,
        "mean_term": result.mean_term,
        "trace_term": result.trace_term,
        "real": str(real_dir),
        "fake": str(fake_dir),
        "decoded_frames": {"min": min(decoded), "max": max(decoded)} if decoded else None,
        "timing": timing,
        "cache": {"dir": str(cache.root), "hits": cache.hits, "misses": cache.misses},
        "warnings": result.warnings + timing_warnings(timing["real"], timing["fake"]),
        "config": to_dict(cfg),
    }
    if out is not None:
        out = Path(out)
        if cfg.save_features:
            write_npy(out.with_suffix(".real.npy"), real.astype(np.float32))
            write_npy(out.with_suffix(".fake.npy"), fake.astype(np.float32))
            record["features"] = {"real": out.with_suffix(".real.npy").name, "fake": out.with_suffix(".fake.npy").name}
        FvdResult.from_json(record, out).write(out)
    log.info("FVD %.3f (%d real, %d fake videos, preset %s)", result.fvd, result.n_real, result.n_fake, preset.name)
    return record


def frechet_files(
    real_features: str | Path,
    fake_features: str | Path,
    covariance: str = "sample",
    sqrt: str = "scipy",
    out: str | Path | None = None,
) -> dict:
    """Frechet distance between two saved feature arrays (``.npy`` ``[N, D]``)."""
    arrays = []
    for path in (Path(real_features), Path(fake_features)):
        if not path.is_file():
            raise InputError(path, "", "an existing .npy feature file [N, D]")
        try:
            arrays.append(np.load(path, allow_pickle=False))
        except (OSError, ValueError) as exc:
            raise InputError(path, "", "a .npy feature array [N, D]", got=str(exc)) from None
    result = frechet(arrays[0], arrays[1], covariance, sqrt, str(real_features), str(fake_features))
    record = {
        "fvd": result.fvd,
        "n_real": result.n_real,
        "n_fake": result.n_fake,
        **{k: v for k, v in result.to_dict().items() if k not in ("fvd", "n_real", "n_fake")},
        "real_features": str(real_features),
        "fake_features": str(fake_features),
    }
    if out is not None:
        FvdResult.from_json(record, out).write(out)
    return record
