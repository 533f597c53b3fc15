"""Camera-control evaluation: SfM poses of videos, trajectory metrics, tables against the paper.

``metrics`` (pure numpy) <- ``sfm`` (pycolmap) <- ``evaluate`` (one video) <- ``tables``.
"""
