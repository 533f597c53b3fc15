"""LiON-LoRA toolkit: the method (norm-consistent LoRA, scaling token, fusion) and shared primitives.

Shared primitives live in :mod:`lionlora.geometry` (cameras and transforms), :mod:`lionlora.io`
(camera files, videos) and :mod:`lionlora.scenes` (DL3DV folders). Data stages are in the
``pipelines`` package and metrics in ``eval``; both depend on this package, never the reverse
(except the CLI, :mod:`lionlora.cli`, which wires everything together).
"""

__version__ = "0.1.0"
