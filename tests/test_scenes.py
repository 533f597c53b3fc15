import json
import shutil

import cv2
import numpy as np
import pytest

from lionlora.errors import CameraError, InputError, SceneError
from lionlora.geometry.se3 import se3_inverse
from lionlora.io.video import read_image
from lionlora.scenes import SceneRef, load_scene, read_scene_list, resolve_scene
from tests.conftest import SCENE_FRAMES


def copy_scene(scene_dir, tmp_path):
    dst = tmp_path / "scene"
    shutil.copytree(scene_dir, dst)
    return dst


def test_load_embedded_scene(scene_dir):
    s = load_scene(scene_dir, downsample=2)
    assert len(s) == SCENE_FRAMES
    K = s.cameras.intrinsics
    assert (K.width, K.height) == (480, 270)
    full = json.loads((scene_dir / "transforms.json").read_text())
    assert K.fx == pytest.approx(full["fl_x"] / 2)
    assert s.image_paths[0].name == "frame_00001.png" and s.image_paths[0].parent.name == "images_2"
    assert s.points is not None and len(s.points) > 500
    assert s.warnings == []  # points agree with cameras once applied_transform is undone
    s4 = load_scene(scene_dir)  # default: the largest images present (images_2)
    assert s4.downsample == 2
    assert load_scene(scene_dir, downsample=4).cameras.intrinsics.width == 240


def test_sfm_points_project_onto_their_colours(scene):
    """COLMAP points, cameras and images agree: projected points land on pixels of their colour."""
    K = scene.cameras.intrinsics
    errs = []
    for i in (0, len(scene) // 2, len(scene) - 1):
        img = read_image(scene.image_paths[i]).astype(float)
        w2c = se3_inverse(scene.cameras.c2w[i])
        pc = scene.points @ w2c[:3, :3].T + w2c[:3, 3]
        uv = K.project(pc)
        ok = (pc[:, 2] > 0) & (uv[:, 0] > 1) & (uv[:, 1] > 1) & (uv[:, 0] < K.width - 2) & (uv[:, 1] < K.height - 2)
        px = img[uv[ok, 1].astype(int), uv[ok, 0].astype(int)]
        errs.append(np.median(np.abs(px - scene.colors[ok]).mean(1)))
    # random pixels of the photographs differ by ~60 grey levels; matched ones by a few
    assert max(errs) < 20


def test_frame_order_follows_file_names(scene_dir, tmp_path):
    d = copy_scene(scene_dir, tmp_path)
    data = json.loads((d / "transforms.json").read_text())
    rng = np.random.default_rng(0)
    data["frames"] = [data["frames"][i] for i in rng.permutation(len(data["frames"]))]
    (d / "transforms.json").write_text(json.dumps(data))
    s = load_scene(d, downsample=2)
    ref = load_scene(scene_dir, downsample=2)
    assert [p.name for p in s.image_paths] == [p.name for p in ref.image_paths]
    assert np.allclose(s.cameras.c2w, ref.cameras.c2w)


def test_missing_image(scene_dir, tmp_path):
    d = copy_scene(scene_dir, tmp_path)
    (d / "images_2" / "frame_00005.png").unlink()
    with pytest.raises(SceneError, match="frame_00005.png.*1 of"):
        load_scene(d, downsample=2)


def test_image_size_inconsistent_with_intrinsics(scene_dir, tmp_path):
    d = copy_scene(scene_dir, tmp_path)
    for p in (d / "images_2").iterdir():
        img = cv2.imread(str(p))
        cv2.imwrite(str(p), cv2.resize(img, (400, 270)))
    with pytest.raises(SceneError, match="480x270"):
        load_scene(d, downsample=2)


def test_one_image_of_other_size(scene_dir, tmp_path):
    d = copy_scene(scene_dir, tmp_path)
    p = d / "images_2" / "frame_00003.png"
    cv2.imwrite(str(p), cv2.resize(cv2.imread(str(p)), (240, 135)))
    with pytest.raises(SceneError, match="frame_00003.png"):
        load_scene(d, downsample=2)


def test_nan_matrix_and_missing_folder(scene_dir, tmp_path):
    d = copy_scene(scene_dir, tmp_path)
    with pytest.raises(SceneError, match="images_8"):
        load_scene(d, downsample=8)
    data = json.loads((d / "transforms.json").read_text())
    data["frames"][7]["transform_matrix"][0][3] = float("nan")
    (d / "transforms.json").write_text(json.dumps(data).replace("NaN", "NaN"))
    with pytest.raises(CameraError, match=r"frames\[7\]"):
        load_scene(d, downsample=2)
    (d / "transforms.json").unlink()
    with pytest.raises(SceneError, match="transforms.json"):
        load_scene(d)


def test_portrait_flagged_and_points_required(scene_dir, tmp_path):
    d = copy_scene(scene_dir, tmp_path)
    data = json.loads((d / "transforms.json").read_text())
    data["w"], data["h"] = data["h"], data["w"]
    data["cx"], data["cy"] = data["cy"], data["cx"]
    (d / "transforms.json").write_text(json.dumps(data))
    for p in (d / "images_2").iterdir():
        cv2.imwrite(str(p), cv2.rotate(cv2.imread(str(p)), cv2.ROTATE_90_CLOCKWISE))
    shutil.rmtree(d / "colmap")
    s = load_scene(d, downsample=2)
    assert any("portrait" in w for w in s.warnings)
    assert s.points is None
    with pytest.raises(SceneError, match="3D points"):
        load_scene(d, downsample=2, require_points=True)


def test_scene_list_csv_and_text(tmp_path):
    h1, h2 = "a" * 64, "0123456789abcdef" * 4
    (tmp_path / "list.csv").write_text(f"Batch,Hash\n1K,{h1}\n2K,{h2}\n1K,{h1}\n")
    refs = read_scene_list(tmp_path / "list.csv")
    assert refs == [SceneRef(h1, "1K"), SceneRef(h2, "2K")]
    (tmp_path / "list.txt").write_text(f"# scenes\n{h1}\n\n{h2}  # second\n")
    assert [r.hash for r in read_scene_list(tmp_path / "list.txt")] == [h1, h2]
    (tmp_path / "bad.csv").write_text("scene,batch\nx,1K\n")
    with pytest.raises(InputError, match="'hash'"):
        read_scene_list(tmp_path / "bad.csv")
    (tmp_path / "bad.txt").write_text("not-a-hash\n")
    with pytest.raises(InputError, match="line 1"):
        read_scene_list(tmp_path / "bad.txt")
    (tmp_path / "empty.csv").write_text("hash,batch\n")
    with pytest.raises(InputError, match="at least one"):
        read_scene_list(tmp_path / "empty.csv")


def test_resolve_scene_layouts(tmp_path):
    h = "b" * 64
    (tmp_path / "2K" / h).mkdir(parents=True)
    (tmp_path / "2K" / h / "transforms.json").write_text("{}")
    assert resolve_scene(tmp_path, SceneRef(h, "2K")) == tmp_path / "2K" / h
    assert resolve_scene(tmp_path, SceneRef(h)) == tmp_path / "2K" / h  # found by search
    with pytest.raises(SceneError, match="not found"):
        resolve_scene(tmp_path, SceneRef("c" * 64))
