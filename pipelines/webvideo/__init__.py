"""Web-video curation: static-camera videos with enough object motion, cut into fixed-length clips.

The paper trains object-motion control on web videos whose camera does not move: border points
tracked through a clip must stay put (:mod:`.static`, trackers in :mod:`.tracking`), and the mean
optical flow (:mod:`lionlora.flow`) must be large enough. :func:`filter_videos` runs the stage
over a folder and writes ``manifest.csv`` and the clips; :mod:`.synthetic` builds the labelled set.

Only the config is imported eagerly (the CLI registers its options); the rest on first use.
"""

from __future__ import annotations

import importlib

from lionlora.pipelines.webvideo.config import CoTrackerConfig, FilterConfig, KltConfig

_LAZY = {
    "FilterSummary": "curate",
    "filter_videos": "curate",
    "TRACKERS": "tracking",
    "CoTrackerTracker": "tracking",
    "KltTracker": "tracking",
    "Tracks": "tracking",
    "make_tracker": "tracking",
}

__all__ = ["CoTrackerConfig", "FilterConfig", "KltConfig", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"lionlora.pipelines.webvideo.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'lionlora.pipelines.webvideo' has no attribute {name!r}")
