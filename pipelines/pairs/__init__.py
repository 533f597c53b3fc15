"""Training pairs: S-scaled frame samples of camera clips and object-motion clips (contract 1)."""

from pipelines.pairs.config import PairsConfig
from pipelines.pairs.manifest import COLUMNS, build_pairs, read_webvideo_clips
from pipelines.pairs.sampling import check_scale, even_scales, sample_indices

__all__ = ["PairsConfig", "COLUMNS", "build_pairs", "read_webvideo_clips", "check_scale", "even_scales",
           "sample_indices"]
