"""Training pairs: S-scaled frame samples of camera clips and object-motion clips (contract 1).

The config and index sampling are imported eagerly, the manifest writer (pandas) on first use.
"""

import importlib

from lionlora.pipelines.pairs.config import PairsConfig
from lionlora.scaling import check_scale, even_scales, sample_indices

_LAZY = {name: "lionlora.pipelines.pairs.manifest" for name in ("COLUMNS", "build_pairs", "read_webvideo_clips")}

__all__ = ["PairsConfig", "check_scale", "even_scales", "sample_indices", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lionlora.pipelines.pairs' has no attribute {name!r}")
