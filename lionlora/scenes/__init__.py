"""Scene folders in the DL3DV-10K layout, lists of DL3DV scenes and per-scene prompts."""

from lionlora.scenes.captions import read_captions, scene_prompt
from lionlora.scenes.dl3dv import Scene, load_scene
from lionlora.scenes.scene_list import SceneRef, read_scene_list, resolve_scene

__all__ = ["Scene", "load_scene", "SceneRef", "read_scene_list", "resolve_scene", "read_captions", "scene_prompt"]
