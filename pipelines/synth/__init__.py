"""The embedded scene: a textured room rendered exactly along a smooth capture path.

It is written in the DL3DV layout (see :mod:`lionlora.scenes.dl3dv`) with a COLMAP model, so that
every stage runs on it as on a real DL3DV scene.
"""

from lionlora.pipelines.synth.config import SynthConfig
from lionlora.pipelines.synth.layout import Room, build_room
from lionlora.pipelines.synth.raycast import render_view
from lionlora.pipelines.synth.writer import synth_scene

__all__ = ["SynthConfig", "Room", "build_room", "render_view", "synth_scene"]
