"""Stage records: every file that one stage writes and another reads, as one class whose ``read`` and
``write`` both sides use, and whose invariants are checked there, once.

* :class:`PairsManifest` (rows :class:`PairRow`): ``pairs/manifest.csv``, written by ``lionlora pairs``,
  read by ``lionlora train``;
* :class:`CameraResult`: the per-video JSON of ``lionlora eval camera``, read by ``eval table`` and
  ``eval camera-linearity``;
* :class:`FvdResult`: ``fvd*.json`` of ``lionlora eval fvd`` / ``eval frechet``, read by ``eval table``;
* :class:`LinearityResult`: the summary JSON (``eval/{method}/motion.json``) of ``lionlora eval motion`` /
  ``eval camera-linearity``, read by ``eval table`` and ``eval figures``;
* :class:`LinearityManifest`: the ``{video|camera},scale`` manifest of ``eval motion-manifest``, read by
  ``eval motion`` / ``eval camera-linearity``; :class:`PerVideoMagnitudes`: their ``OUT_per_video.csv``,
  read by ``eval figures fig10``;
* :class:`VideoRecord`: ``V.json`` beside a generated ``V.mp4``, written by ``lionlora generate``,
  read by ``lionlora eval motion-manifest``.

Two records live beside their only stage, where both sides already import them: the web-video
manifest (:class:`lionlora.pipelines.webvideo.manifest.WebVideoManifest`: ``lionlora filter`` ->
``lionlora pairs``) and the adapter metadata (:class:`lionlora.lora.io.AdapterRecord`). The shared
invariants (the S range with its one tolerance, ``F = 4k + 1``) are in :mod:`lionlora.checks`.
"""

import importlib

# Loaded on first use: the pairs manifest needs pandas, which the command line does not load to start.
_LAZY = {
    "CameraResult": "lionlora.records.camera",
    "FvdResult": "lionlora.records.fvd",
    "LinearityResult": "lionlora.records.linearity",
    "LinearityManifest": "lionlora.records.linearity_tables",
    "PerVideoMagnitudes": "lionlora.records.linearity_tables",
    "PairRow": "lionlora.records.pairs",
    "PairsManifest": "lionlora.records.pairs",
    "VideoRecord": "lionlora.records.video",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lionlora.records' has no attribute {name!r}")
