"""Stage records: every file that one stage writes and another reads, as one class whose ``read`` and
``write`` both sides use, and whose invariants are checked there, once.

* :class:`PairsManifest` (rows :class:`PairRow`): ``pairs/manifest.csv``, written by ``lionlora pairs``,
  read by ``lionlora train``;
* :class:`CameraResult`: the per-video JSON of ``lionlora eval camera``, read by ``eval table`` and
  ``eval camera-linearity``;
* :class:`FvdResult`: ``fvd*.json`` of ``lionlora eval fvd`` / ``eval frechet``, read by ``eval table``;
* :class:`LinearityResult`: the summary JSON (``eval/{method}/motion.json``) of ``lionlora eval motion`` /
  ``eval camera-linearity``, read by ``eval table`` and ``eval figures``.

Two records live beside their only stage, where both sides already import them: the web-video
manifest (:class:`lionlora.pipelines.webvideo.manifest.WebVideoManifest`: ``lionlora filter`` ->
``lionlora pairs``) and the adapter metadata (:class:`lionlora.lora.io.AdapterRecord`). The shared
invariants (the S range with its one tolerance, ``F = 4k + 1``) are in :mod:`lionlora.checks`.
"""

from lionlora.records.camera import CameraResult
from lionlora.records.fvd import FvdResult
from lionlora.records.linearity import LinearityResult
from lionlora.records.pairs import PairRow, PairsManifest

__all__ = ["CameraResult", "FvdResult", "LinearityResult", "PairRow", "PairsManifest"]
