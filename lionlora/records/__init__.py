"""Stage records: every file that one stage writes and another reads, as one class whose ``read`` and
``write`` both sides use, and whose invariants are checked there, once.

=====================  ==========================  ============================  ==========================
record                 file                        written by                    read by
=====================  ==========================  ============================  ==========================
:class:`PairsManifest` ``pairs/manifest.csv``      ``lionlora pairs``            ``lionlora train``
:class:`CameraResult`  ``eval/.../camera.json``    ``lionlora eval camera``      ``eval table``, ``eval
                                                                                 camera-linearity``
:class:`FvdResult`     ``fvd*.json``               ``lionlora eval fvd`` /       ``lionlora eval table``
                                                   ``eval frechet``
=====================  ==========================  ============================  ==========================

Two records live beside their only stage, where both sides already import them: the web-video
manifest (:class:`lionlora.pipelines.webvideo.manifest.WebVideoManifest`: ``lionlora filter`` ->
``lionlora pairs``) and the adapter metadata (:class:`lionlora.lora.io.AdapterRecord`). The shared
invariants (the S range with its one tolerance, ``F = 4k + 1``) are in :mod:`lionlora.checks`.
"""

from lionlora.records.camera import CameraResult
from lionlora.records.fvd import FvdResult
from lionlora.records.pairs import PairRow, PairsManifest

__all__ = ["CameraResult", "FvdResult", "PairRow", "PairsManifest"]
