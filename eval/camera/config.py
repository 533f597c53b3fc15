"""The typed config of camera-control evaluation (``lionlora eval camera``).

Defaults were chosen with ``benchmarks/camera_eval.py`` on 49-frame 480x720 clips rendered
exactly from the embedded scene: they register every frame like the CamI2V recipe
(:meth:`CameraEvalConfig.cami2v_recipe`) in less than half its time, with a floor of the same
order (re-measured idle on the four clips: 2.26x faster, RotErr 0.0139 vs 0.0128, TransErr 0.0125
vs 0.0121). SIFT
must start at the upsampled octave (``first_octave=-1``): native-octave features are 2.4x cheaper
but triple the floor. ``refine_keypoints`` (off by default) brought RotErr, TransErr and CamMC
below the recipe's on the same clips at 1.97x its speed (2026-12-02; docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from lionlora.config import opt
from lionlora.errors import ConfigError


@dataclass
class CameraEvalConfig:
    """Poses from a video with pycolmap, then the camera metrics against the ground truth."""

    mapper: Literal["global", "incremental"] = opt("global", "SfM mapper: GLOMAP global mapping or COLMAP incremental")
    matcher: Literal["sequential", "exhaustive"] = opt("sequential", "image pairs to match")
    overlap: int = opt(10, "sequential matching: frames matched with each frame (see quadratic_overlap)")
    quadratic_overlap: bool = opt(
        True, "sequential matching: pair frames at distances 1, 2, 4, ..., 2^(overlap-1) instead of 1..overlap"
    )
    max_features: int = opt(8192, "most SIFT features per frame")
    max_image_size: int = opt(540, "longest image side used for feature extraction (0: full size)")
    first_octave: int = opt(
        -1, "SIFT's first octave: -1 upsamples the image 2x (finest features), 0 starts at full size"
    )
    upright: bool = opt(
        False, "SIFT without orientation (one descriptor per keypoint): valid when the cameras do not roll"
    )
    refine_keypoints: bool = opt(
        False,
        "sub-pixel Lucas-Kanade refinement of every track's keypoints against the track's middle frame, "
        "before mapping (lionlora.eval.camera.refine)",
    )
    refine_window: int = opt(11, "keypoint refinement: Lucas-Kanade window in pixels (odd)")
    refine_max_shift: float = opt(2.0, "keypoint refinement: largest move from the SIFT position kept, in pixels")
    refine_max_fb_error: float = opt(
        0.2, "keypoint refinement: largest forward-backward error of a kept move, in pixels"
    )
    camera_model: Literal["SIMPLE_PINHOLE", "PINHOLE", "SIMPLE_RADIAL"] = opt(
        "SIMPLE_PINHOLE", "shared camera model estimated when the intrinsics are not fixed"
    )
    fix_intrinsics: bool = opt(True, "use the ground truth's intrinsics as a PINHOLE camera, not refined")
    ba_iterations: int = opt(3, "global mapper: rounds of bundle adjustment and re-triangulation")
    tracks_per_view: int = opt(
        300,
        "global mapper: tracks kept per frame for positioning and bundle adjustment "
        "(0: all); re-triangulation restores the rest",
    )
    trials: int = opt(1, "mapping trials per video (different seeds); metrics are aggregated over successful ones")
    trials_agree: float = opt(
        0.1,
        "early stop: the trials end once a successful trial's RotErr and TransErr are each within this fraction "
        "of an earlier successful trial's (0: always run every trial)",
    )
    trial_reduce: Literal["mean", "median"] = opt("mean", "how the successful trials of a video are combined")
    min_registered: int = opt(0, "frames that must register for the metrics to be computed (0: every frame)")
    convention: str = opt("cami2v", "metric convention (lionlora.eval.camera.metrics.CONVENTIONS)")
    reduce: Literal["sum", "mean"] = opt("sum", "sum or mean over frames of RotErr, TransErr and CamMC")
    seed: int = opt(0, "random seed of the first mapping trial (trial k uses seed + k)")
    num_threads: int = opt(-1, "CPU threads of pycolmap (-1: all cores)")
    device: Literal["auto", "cpu", "cuda"] = opt("auto", "pycolmap device for SIFT (cuda needs a CUDA build)")

    def __post_init__(self) -> None:
        from lionlora.eval.camera.metrics import CONVENTIONS

        checks = [
            ("overlap", self.overlap >= 1, "an integer >= 1"),
            ("max_features", self.max_features >= 64, "at least 64 features"),
            ("max_image_size", self.max_image_size == 0 or self.max_image_size >= 64, "0 or at least 64 pixels"),
            ("first_octave", self.first_octave in (-1, 0, 1), "-1, 0 or 1"),
            ("ba_iterations", self.ba_iterations >= 1, "an integer >= 1"),
            ("refine_window", self.refine_window >= 5 and self.refine_window % 2 == 1, "an odd window >= 5 pixels"),
            ("refine_max_shift", self.refine_max_shift > 0, "a positive distance in pixels"),
            ("refine_max_fb_error", self.refine_max_fb_error > 0, "a positive distance in pixels"),
            ("tracks_per_view", self.tracks_per_view >= 0, "0 (all) or a positive count"),
            ("trials", self.trials >= 1, "an integer >= 1"),
            ("trials_agree", 0 <= self.trials_agree < 1, "a fraction in [0, 1) (0: no early stop)"),
            ("min_registered", self.min_registered >= 0, "0 (every frame) or a positive frame count"),
            ("convention", self.convention in CONVENTIONS, f"one of {sorted(CONVENTIONS)}"),
            ("num_threads", self.num_threads == -1 or self.num_threads >= 1, "-1 or a positive count"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise ConfigError("CameraEvalConfig", name, expected, got=getattr(self, name))

    def required_frames(self, n_frames: int) -> int:
        """Frames that must register in a video of ``n_frames`` frames (at least 2, for the metrics)."""
        return n_frames if self.min_registered == 0 else max(2, min(self.min_registered, n_frames))

    @classmethod
    def cami2v_recipe(cls, **overrides) -> CameraEvalConfig:
        """CamI2V's settings: COLMAP's default SIFT at full size, sequential matching (overlap 10,
        quadratic), the GLOMAP global mapper with its defaults, intrinsics fixed to the ground truth."""
        base = cls(
            mapper="global",
            matcher="sequential",
            overlap=10,
            quadratic_overlap=True,
            max_features=8192,
            max_image_size=0,
            first_octave=-1,
            fix_intrinsics=True,
            ba_iterations=3,
            tracks_per_view=0,
        )
        return replace(base, **overrides)
