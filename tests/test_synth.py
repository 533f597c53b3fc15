import dataclasses
import hashlib
import json

import numpy as np
import pytest

from lionlora.errors import ConfigError, InputError
from lionlora.geometry import Intrinsics, look_at
from lionlora.pipelines.synth import SynthConfig, build_room, render_view, synth_scene
from lionlora.pipelines.synth.layout import FLOOR_Y, ROOM_Z


def digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_deterministic_for_a_seed(tmp_path):
    cfg = SynthConfig(seed=3, frames=4, width=320, height=180, downsamples=[2], points=300, boxes=3)
    a = synth_scene(tmp_path / "a", cfg)
    b = synth_scene(tmp_path / "b", cfg)
    c = synth_scene(
        tmp_path / "c", SynthConfig(seed=4, frames=4, width=320, height=180, downsamples=[2], points=300, boxes=3)
    )
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)
    assert json.loads((a / "synth_config.json").read_text())["seed"] == 3
    # re-running into a previous output replaces it; a foreign folder is refused
    synth_scene(a, cfg)
    assert digest(a) == digest(b)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="foreign"):
        synth_scene(tmp_path / "foreign", cfg)
    assert (tmp_path / "foreign" / "notes.txt").read_text() == "keep me"


def test_full_resolution_images_load(tmp_path):
    from lionlora.scenes import load_scene

    cfg = SynthConfig(seed=3, frames=3, width=160, height=96, downsamples=[1, 2], points=200, boxes=2)
    out = synth_scene(tmp_path / "s", cfg)
    assert (out / "images").is_dir() and (out / "images_2").is_dir()
    scene = load_scene(out, downsample=1)
    assert (scene.cameras.intrinsics.width, scene.cameras.intrinsics.height) == (160, 96)


def test_depth_is_exact_on_known_surfaces():
    full = build_room(0, boxes=0)
    walls = slice(0, 5)  # back, left, right walls, floor, ceiling (no posters)
    room = dataclasses.replace(
        full,
        origin=full.origin[walls],
        u=full.u[walls],
        v=full.v[walls],
        texture=full.texture[walls],
        tile=full.tile[walls],
        offset=full.offset[walls],
        tint=full.tint[walls],
    )
    K = Intrinsics.from_fov(20.0, 64, 48)  # narrow: every ray meets the wall or floor first
    eye = np.array([0.0, 0.0, 0.0])
    # looking straight at the back wall: depth is its distance everywhere
    rgb, depth = render_view(room, look_at(eye, np.array([0.0, 0, 5]), np.array([0.0, 1, 0])), K, supersample=1)
    assert np.allclose(depth, ROOM_Z[1], rtol=1e-5)
    assert rgb.std() > 3  # textured, not flat
    # looking straight down at the floor: depth is the camera height above it
    down = look_at(eye, np.array([0.0, 5.0, 0]), np.array([0.0, 0, 1]))
    _, depth = render_view(room, down, K, supersample=1)
    assert np.allclose(depth, FLOOR_Y, rtol=1e-5)


def test_scene_has_depth_variation(scene_dir):
    info = json.loads((scene_dir / "scene_info.json").read_text())
    assert 3.0 < info["median_depth"] < 12.0
    room = build_room(0)
    from lionlora.scenes import load_scene

    s = load_scene(scene_dir, downsample=4)
    _, depth = render_view(room, s.cameras.c2w[0], s.cameras.intrinsics, supersample=1)
    lo, hi = np.percentile(depth, [5, 95])
    assert hi / lo > 2.0  # not one plane


def test_bad_config():
    with pytest.raises(ConfigError, match="frames"):
        SynthConfig(frames=1)
    with pytest.raises(ConfigError, match="downsamples"):
        SynthConfig(downsamples=[3])
