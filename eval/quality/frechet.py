"""Frechet distance between two feature sets modelled as Gaussians.

    d^2 = ||mu_1 - mu_2||^2 + tr(S_1) + tr(S_2) - 2 tr((S_1 S_2)^(1/2))

Defaults (documented because FVDs differ with them):

* covariance ``sample``: divisor N - 1 (``np.cov``, as VideoGPT and TATS); ``population``
  divides by N (as StyleGAN-V, whose ``FeatureStats.get_mean_cov`` divides the raw sums by N);
* square root ``scipy``: the real part of ``scipy.linalg.sqrtm(S_1 @ S_2)``; ``trace_sqrt`` is
  TF-GAN's ``tr(sqrt(sqrt(S_1) S_2 sqrt(S_1)))`` with symmetric square roots from an eigen
  decomposition (negative eigenvalues from round-off clipped to 0). Both equal tr((S_1 S_2)^(1/2))
  for positive semi-definite inputs.

With fewer samples than feature dimensions the covariances are rank deficient: the distance is
still defined but noisy and biased upwards, so a warning is logged and recorded.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.linalg

from lionlora.errors import ConfigError, InputError

log = logging.getLogger(__name__)
COVARIANCES = ("sample", "population")
SQRT_METHODS = ("scipy", "trace_sqrt")


def check_features(x: np.ndarray, source: str = "features") -> np.ndarray:
    """A finite float64 ``[N, D]`` array with N >= 2, or :class:`InputError` naming ``source``."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise InputError(source, "shape", "a 2-D feature array [N, D]", got=f"shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise InputError(source, "dtype", "real numbers", got=str(x.dtype))
    if x.shape[0] < 2:
        raise InputError(source, "rows", "at least 2 feature vectors for a covariance", got=x.shape[0])
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise InputError(source, "values", "finite values", got="NaN or inf")
    return x


def gaussian_stats(x: np.ndarray, covariance: str = "sample") -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and covariance ``[D, D]`` of features ``[N, D]``."""
    if covariance not in COVARIANCES:
        raise ConfigError("frechet", "covariance", f"one of {list(COVARIANCES)}", got=covariance)
    x = check_features(x)
    mu = x.mean(axis=0)
    d = x - mu
    sigma = d.T @ d / (x.shape[0] - (1 if covariance == "sample" else 0))
    return mu, sigma


def _sym_sqrt(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(s1: np.ndarray, s2: np.ndarray, method: str = "scipy") -> tuple[float, list[str]]:
    """``tr((S_1 S_2)^(1/2))`` and any numerical warnings."""
    warnings: list[str] = []
    if method == "trace_sqrt":
        r1 = _sym_sqrt(s1)
        return float(np.trace(_sym_sqrt(r1 @ s2 @ r1))), warnings
    if method != "scipy":
        raise ConfigError("frechet", "sqrt", f"one of {list(SQRT_METHODS)}", got=method)
    root = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(root).all():
        eps = 1e-6
        msg = f"sqrtm(S1 S2) was not finite; retried with {eps} added to both diagonals"
        log.warning(msg)
        warnings.append(msg)
        offset = eps * np.eye(s1.shape[0])
        root = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(root):
        imag = float(np.abs(np.diag(root).imag).max())
        if imag > 1e-3:
            msg = f"sqrtm(S1 S2) had imaginary diagonal parts up to {imag:.3g}; the real part is used"
            log.warning(msg)
            warnings.append(msg)
        root = root.real
    return float(np.trace(root)), warnings


@dataclass
class FrechetResult:
    """A Frechet distance and every choice that produced it."""

    fvd: float
    n_real: int
    n_fake: int
    feature_dim: int
    covariance: str
    sqrt: str
    mean_term: float
    trace_term: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def frechet(
    real: np.ndarray,
    fake: np.ndarray,
    covariance: str = "sample",
    sqrt: str = "scipy",
    real_source: str = "real features",
    fake_source: str = "fake features",
) -> FrechetResult:
    """Frechet distance between feature sets ``[N_real, D]`` and ``[N_fake, D]``.

    Raises:
        InputError: not 2-D, fewer than 2 rows, non-finite, or different feature dimensions.
    """
    real = check_features(real, real_source)
    fake = check_features(fake, fake_source)
    if real.shape[1] != fake.shape[1]:
        raise InputError(
            fake_source, "shape", f"{real.shape[1]} features per row like {real_source}", got=fake.shape[1]
        )
    dim = real.shape[1]
    warnings = []
    for name, n in (("real", real.shape[0]), ("fake", fake.shape[0])):
        if n < dim:
            msg = (
                f"only {n} {name} samples for {dim}-d features: the covariance is rank deficient and "
                f"the distance is noisy and biased upwards (use at least {dim})"
            )
            log.warning(msg)
            warnings.append(msg)
    mu1, s1 = gaussian_stats(real, covariance)
    mu2, s2 = gaussian_stats(fake, covariance)
    tr_sqrt, sqrt_warnings = trace_sqrt_product(s1, s2, sqrt)
    mean_term = float(np.sum((mu1 - mu2) ** 2))
    trace_term = float(np.trace(s1) + np.trace(s2) - 2.0 * tr_sqrt)
    return FrechetResult(
        mean_term + trace_term,
        real.shape[0],
        fake.shape[0],
        dim,
        covariance,
        sqrt,
        mean_term,
        trace_term,
        warnings + sqrt_warnings,
    )


def frechet_distance(real: np.ndarray, fake: np.ndarray, covariance: str = "sample", sqrt: str = "scipy") -> float:
    """Just the distance of :func:`frechet`."""
    return frechet(real, fake, covariance, sqrt).fvd
