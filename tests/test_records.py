"""Typed stage records (issue 15): round trips of every record class, the files they write (byte for
byte what the stages wrote before), and the shared invariants, each checked in one place."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lionlora.checks import S_TOL, check_frames, is_4k_plus_1, scale_in_range
from lionlora.errors import AdapterError, ConfigError, InputError
from lionlora.io.files import write_json
from lionlora.lora.config import AdapterConfig
from lionlora.lora.io import FORMAT, AdapterRecord
from lionlora.pipelines.webvideo.manifest import COLUMNS as WEB_COLUMNS
from lionlora.pipelines.webvideo.manifest import WebVideoManifest
from lionlora.records import CameraResult, FvdResult, PairRow, PairsManifest
from lionlora.records.pairs import COLUMNS as PAIR_COLUMNS
from lionlora.scaling import check_scale, sample_indices

REPO = Path(__file__).resolve().parents[1]

# -- the shared invariants ----------------------------------------------------------------------


def test_scale_range_has_one_tolerance():
    lo = 49 / 600
    assert scale_in_range(lo, lo) and scale_in_range(lo - 0.5 * S_TOL, lo) and not scale_in_range(lo - 2 * S_TOL, lo)
    assert scale_in_range(1 + 0.5 * S_TOL) and not scale_in_range(1 + 2 * S_TOL)
    assert scale_in_range(float(np.float32(13 / 49)), 13 / 49)  # float32 rounds below 13/49
    assert not scale_in_range(0.0) and scale_in_range(1e-9)  # without lo: (0, 1]
    for bad in (math.nan, math.inf, True, "0.5", None):
        assert not scale_in_range(bad)


def test_every_s_check_uses_the_tolerance():
    """The pairs stage (once 1e-9), the manifest reader (once exact) and the adapters (1e-6) agree."""
    lo = 49 / 600
    assert check_scale(lo - 0.5 * S_TOL, 49, 600) == pytest.approx(lo, abs=S_TOL)  # raised with the old 1e-9
    with pytest.raises(ConfigError, match=r"S in \[49/600"):
        check_scale(lo - 2 * S_TOL, 49, 600)
    row = PairRow("a.mp4", "camera", "pan", 1 + 0.5 * S_TOL, (0, 1))
    assert row.validate("m.csv", 1) is row  # the manifest reader once rejected anything above 1


def test_frames_4k_plus_1():
    assert [f for f in range(-3, 60) if is_4k_plus_1(f)] == list(range(1, 60, 4))
    for bad in (True, 5.0, "5", None):
        assert not is_4k_plus_1(bad)
    assert check_frames(49, "cfg") == 49
    with pytest.raises(ConfigError, match="cfg: field 'frames': expected 4k \\+ 1 frames"):
        check_frames(48, "cfg")


def test_invariants_are_written_once():
    """No module but lionlora/checks.py spells out 4k + 1 or an S tolerance of its own."""
    own = REPO / "lionlora" / "checks.py"
    frames = re.compile(r"-\s*1\)\s*%\s*4\b")
    tolerance = re.compile(r"s_min\s*-\s*1e-|1\.0\s*\+\s*1e-|lo\s*-\s*_?TOL")
    for folder in ("lionlora", "pipelines", "eval"):
        for path in (REPO / folder).rglob("*.py"):
            if path == own:
                continue
            text = path.read_text()
            assert not frames.search(text), f"{path}: use lionlora.checks.is_4k_plus_1"
            assert not tolerance.search(text), f"{path}: use lionlora.checks.scale_in_range"


def test_config_keeps_is_finite_number():
    from lionlora import checks, config

    assert config.is_finite_number is checks.is_finite_number


# -- pairs manifest -----------------------------------------------------------------------------


def pair_rows() -> list[PairRow]:
    return [
        PairRow(
            "../clips/a/clip.mp4",
            "camera",
            "orbit_left",
            s,
            tuple(sample_indices(s, 600, 49)),
            f"cameras/a{s}.json",
            "",
        )
        for s in (49 / 600, 0.5, 1.0)
    ] + [PairRow("../web/clips/b_0.mp4", "motion", "motion", 0.75, (0, 3, 7), "", 'a dog, "running", fast')]


def test_pairs_manifest_round_trip_and_bytes(tmp_path):
    rows = pair_rows()
    path = PairsManifest(rows).write(tmp_path / "manifest.csv")
    assert PairsManifest.read(path).rows == rows
    # the bytes the pairs stage wrote before the record existed: a DataFrame of dict rows
    old = [{**r.__dict__, "frames": json.dumps(list(r.frames))} for r in rows]
    assert path.read_text() == pd.DataFrame(old, columns=list(PAIR_COLUMNS)).to_csv(index=False)
    assert PairsManifest([]).write(tmp_path / "empty.csv").read_text() == ",".join(PAIR_COLUMNS) + "\n"
    assert PairsManifest.read(tmp_path / "empty.csv").rows == []


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.builds(
            PairRow,
            clip=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12),
            kind=st.sampled_from(["camera", "motion"]),
            lora=st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
            scale=st.floats(min_value=1e-6, max_value=1.0),
            frames=st.lists(st.integers(0, 10_000), min_size=1, max_size=9).map(tuple),
            cameras=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
            prompt=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=30),
        ),
        max_size=5,
    )
)
def test_pairs_manifest_round_trip_any_text(tmp_path_factory, rows):
    path = PairsManifest(rows).write(tmp_path_factory.mktemp("pairs") / "manifest.csv")
    assert PairsManifest.read(path).rows == rows


@pytest.mark.parametrize(
    ("cell", "value", "field"),
    [
        ("kind", "video", "row 2: kind"),
        ("scale", "0", "row 2: scale"),
        ("scale", "1.5", "row 2: scale"),
        ("scale", "big", "row 2: scale"),
        ("frames", "[-1, 2]", "row 2: frames"),
        ("frames", "[]", "row 2: frames"),
        ("frames", "1, 2", "row 2: frames"),
    ],
)
def test_pairs_manifest_rejects_bad_rows(tmp_path, cell, value, field):
    path = PairsManifest(pair_rows()).write(tmp_path / "manifest.csv")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[1, cell] = value
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match=re.escape(f"manifest.csv: field '{field}'")):
        PairsManifest.read(path)
    with pytest.raises(InputError, match="no such file"):
        PairsManifest.read(tmp_path / "none.csv")
    table.drop(columns="prompt").to_csv(path, index=False)
    with pytest.raises(InputError, match="field 'prompt'"):
        PairsManifest.read(path)


# -- web-video manifest -------------------------------------------------------------------------


def test_webvideo_manifest_round_trip(tmp_path):
    rows = [
        {c: "" for c in WEB_COLUMNS} | {"video": "b.mp4", "status": "error", "keep": "false", "reason": "bad, file"},
        {c: str(i) for i, c in enumerate(WEB_COLUMNS)} | {"video": "a.mp4", "clips": "clips/a_0.mp4;clips/a_1.mp4"},
    ]
    path = WebVideoManifest(rows).write(tmp_path / "manifest.csv")
    back = WebVideoManifest.read(path)
    assert back.rows == sorted(rows, key=lambda r: r["video"])
    assert WebVideoManifest(back.rows).write(tmp_path / "again.csv").read_bytes() == path.read_bytes()
    for name in ("a_0.mp4", "a_1.mp4"):
        (tmp_path / "clips").mkdir(exist_ok=True)
        (tmp_path / "clips" / name).write_bytes(b"")
    assert back.accepted_clips(path, "tracker") == [
        (tmp_path / "clips/a_0.mp4", str(WEB_COLUMNS.index("tracker"))),
        (tmp_path / "clips/a_1.mp4", str(WEB_COLUMNS.index("tracker"))),
    ]
    (tmp_path / "clips" / "a_1.mp4").unlink()
    with pytest.raises(InputError, match="field 'clips'.*a_1.mp4"):
        back.accepted_clips(path)


def test_webvideo_manifest_columns_a_reader_needs(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("video,clips,prompt\nx.mp4,,\n")
    assert WebVideoManifest.read(path, columns=("clips",)).rows == [{"video": "x.mp4", "clips": "", "prompt": ""}]
    with pytest.raises(InputError, match="field 'status'"):
        WebVideoManifest.read(path)


# -- camera result ------------------------------------------------------------------------------


def camera_result(status="ok") -> dict:
    """A result as ``lionlora eval camera`` writes it, keys in its order."""
    value = None if status == "failed" else 0.5
    return {
        "rot_err": value,
        "trans_err": value,
        "cam_mc": value,
        "ate": value,
        "n_frames": 49,
        "convention": "cami2v",
        "reduce": "sum",
        "registered": 49 if status == "ok" else 3,
        "status": status,
        "reason": "" if status == "ok" else "SfM registered 3 of 49 frames (49 required)",
        "trials_ok": 1 if status == "ok" else 0,
        "trials": [{"seed": 0, "registered": 49, "seconds": 1.5, "models": 1}],
        "primitive": "orbit_left",
        "video": "gen/orbit_left.mp4",
        "gt": "gt/orbit_left.json",
        "sfm": {"seconds_features": 0.1, "seconds_matching": 0.2, "mean_features": 800.0, "verified_pairs": 40},
        "cameras": "cameras.json",
        "config": {"convention": "cami2v", "seeds": [0]},
    }


@pytest.mark.parametrize("status", ["ok", "failed"])
def test_camera_result_round_trip_and_bytes(tmp_path, status):
    data = camera_result(status)
    rec = CameraResult.from_json(data, "r.json")
    assert list(rec.to_json().items()) == list(data.items())
    path = rec.write(tmp_path / "camera.json")
    assert path.read_bytes() == write_json(tmp_path / "old.json", data).read_bytes()
    assert CameraResult.read(path) == rec and rec.ok == (status == "ok")
    assert rec.recovered_cameras(path) == tmp_path / "cameras.json"
    no_primitive = {k: v for k, v in data.items() if k != "primitive"} | {"extra": [1]}
    assert CameraResult.from_json(no_primitive).to_json() == no_primitive


def test_camera_result_cameras_relative_to_the_file(tmp_path):
    rec = CameraResult.from_json(camera_result() | {"cameras": str(tmp_path / "v1" / "cams.json")})
    moved = rec.with_cameras_relative_to(tmp_path / "v1" / "camera.json")
    assert moved.cameras == "cams.json" and rec.cameras != moved.cameras
    assert moved.recovered_cameras(tmp_path / "v1" / "camera.json") == tmp_path / "v1" / "cams.json"
    assert CameraResult.from_json(camera_result() | {"cameras": None}).recovered_cameras("x/r.json") == Path(
        "x/cameras.json"
    )


def test_camera_result_invariants():
    minimal = {"status": "ok", "reason": "", "rot_err": 0.1}  # what a reader of the cameras needs
    assert CameraResult.from_json(minimal).to_json()["rot_err"] == 0.1
    with pytest.raises(InputError, match="field 'convention'"):
        CameraResult.from_json(minimal).complete("r.json")
    bad = [
        ({"status": "maybe"}, "status"),
        ({"reason": "x"}, "status"),
        ({"status": "ok", "ate": "small"}, "ate"),
        ({"status": "ok", "ate": math.inf}, "ate"),
    ]
    for data, field in bad:
        with pytest.raises(InputError, match=f"r.json: field '{field}'"):
            CameraResult.from_json(data, "r.json")
    with pytest.raises(InputError, match="r.json: field 'ate'"):
        CameraResult.from_json(camera_result() | {"ate": None}, "r.json").complete("r.json")
    with pytest.raises(InputError, match="a JSON object"):
        CameraResult.from_json([1, 2], "r.json")


# -- FVD result ---------------------------------------------------------------------------------


def test_fvd_result_round_trip_and_bytes(tmp_path):
    data = {
        "fvd": 123.25,
        "n_real": 8,
        "n_fake": 8,
        "comparable_to_paper": False,
        "weights": {"path": "i3d.pt", "sha256": "ab"},
        "frames": 16,
        "warnings": [],
        "config": {"preset": "stylegan-v"},
    }
    rec = FvdResult.from_json(data, "fvd.json")
    assert (rec.fvd, rec.n_real, rec.comparable) == (123.25, 8, False)
    path = rec.write(tmp_path / "fvd.json")
    assert path.read_bytes() == write_json(tmp_path / "old.json", data).read_bytes()
    assert FvdResult.read(path) == rec
    minimal = FvdResult.from_json({"fvd": 175.5})
    assert minimal.comparable and minimal.to_json() == {"fvd": 175.5}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "fvd"),
        ({"fvd": "x"}, "fvd"),
        ({"fvd": math.nan}, "fvd"),
        ({"fvd": 1.0, "n_real": -1}, "n_real"),
        ({"fvd": 1.0, "n_fake": 2.5}, "n_fake"),
        ({"fvd": 1.0, "comparable_to_paper": "no"}, "comparable_to_paper"),
    ],
)
def test_fvd_result_invariants(data, field):
    with pytest.raises(InputError, match=f"fvd.json: field '{field}'"):
        FvdResult.from_json(data, "fvd.json")


# -- adapter metadata ---------------------------------------------------------------------------


def test_adapter_record_round_trip(tmp_path):
    cfg = AdapterConfig(name="orbit_left", rank=4, s_min=0.25, width=32, num_layers=2)
    rec = AdapterRecord(cfg, {"training": {"steps": 3, "loss": [0.5, 0.25]}})
    assert AdapterRecord.from_metadata(rec.to_metadata(), "a.safetensors") == AdapterRecord(cfg)
    path = rec.write(tmp_path)
    assert path == tmp_path / "adapter.json"
    assert json.loads(path.read_text()) == rec.to_json() and list(rec.to_json())[:2] == ["format", "config"]
    assert AdapterRecord.read(tmp_path) == rec == AdapterRecord.read(path)
    with pytest.raises(AdapterError, match="field 'format'"):
        AdapterRecord.from_json({**rec.to_json(), "format": "other/1"}, path)
    with pytest.raises(AdapterError, match="field 'metadata.config'"):
        AdapterRecord.from_metadata({"format": FORMAT, "config": "{"}, "a.safetensors")
    with pytest.raises(AdapterError, match="field 'metadata.format'"):
        AdapterRecord.from_metadata({"config": "{}"}, "a.safetensors")


# -- linearity result ---------------------------------------------------------------------------


def test_linearity_result_round_trip_and_bytes(tmp_path):
    from lionlora.records import LinearityResult

    data = {
        "pearson_r": 0.98,
        "p_value": 1e-4,
        "n": 12,
        "slope": 2.0,
        "intercept": 0.1,
        "spearman_r": 0.97,
        "n_failed": 1,
        "magnitude": "optical-flow magnitude",
        "label": "lionlora",
        "step": 500,
        "per_video": "motion_per_video.csv",
    }
    rec = LinearityResult.from_json(data, "motion.json")
    path = rec.write(tmp_path / "motion.json")
    assert path.read_bytes() == write_json(tmp_path / "old.json", data).read_bytes()
    assert LinearityResult.read(path) == rec and rec.details["step"] == 500
    table_only = {"pearson_r": 0.2, "p_value": 0.5, "n": 12}  # what a table needs
    assert LinearityResult.from_json(table_only).to_json() == table_only
    with pytest.raises(InputError, match="field 'slope'"):
        LinearityResult.from_json(table_only, "m.json").complete("m.json")
    for bad, field in (({"pearson_r": "high"}, "pearson_r"), ({"pearson_r": 0.5, "n": -2}, "n")):
        with pytest.raises(InputError, match=f"m.json: field '{field}'"):
            LinearityResult.from_json(bad, "m.json")


# -- generated-video record ---------------------------------------------------------------------


def video_record(scales=(0.5,), cameras=True) -> dict:
    """A record as ``lionlora generate`` writes it, keys in its order."""
    data = {
        "image": "first.png",
        "prompt": "a room",
        "frames": 9,
        "height": 64,
        "width": 96,
        "loras": [{"name": f"l{i}", "path": f"lora/l{i}", "scale": s, "weight": 1.0} for i, s in enumerate(scales)],
        "seconds": 1.25,
        "config": {"steps": 2, "fps": 8},
    }
    if cameras:
        data["cameras"] = {"source": "gt.json", "scale": scales[0]}
    return data


@pytest.mark.parametrize("cameras", [True, False])
def test_video_record_round_trip_and_bytes(tmp_path, cameras):
    from lionlora.records import VideoRecord

    data = video_record(cameras=cameras)
    rec = VideoRecord.from_json(data, "v.json")
    path = rec.write(tmp_path / "v.json")
    assert path.read_bytes() == write_json(tmp_path / "old.json", data).read_bytes()
    assert VideoRecord.read(path) == rec and rec.shared_scale(path) == 0.5


def test_video_record_invariants_and_motion_manifest(tmp_path):
    from lionlora.eval.quality.motion import manifest_from_records
    from lionlora.records import VideoRecord

    with pytest.raises(InputError, match="v.json: field 'frames': expected 4k \\+ 1"):
        VideoRecord.from_json(video_record() | {"frames": 8}, "v.json")
    with pytest.raises(InputError, match="field 'loras\\[1\\].scale'"):
        VideoRecord.from_json(video_record((0.5, "big")), "v.json")
    with pytest.raises(InputError, match="one scaling value S shared"):
        VideoRecord.from_json(video_record((0.5, 0.75))).shared_scale("v.json")
    with pytest.raises(InputError, match="no LoRA"):
        VideoRecord.from_json(video_record((), cameras=False)).shared_scale("v.json")
    videos = []
    for i, s in enumerate((0.25, 0.5, 1.0)):
        VideoRecord.from_json(video_record((s, s))).write(tmp_path / "gen" / f"v{i}.json")
        videos.append(tmp_path / "gen" / f"v{i}.mp4")
    out = manifest_from_records(videos, tmp_path / "manifest.csv")
    assert out.read_text().splitlines() == ["video,scale", "gen/v0.mp4,0.25", "gen/v1.mp4,0.5", "gen/v2.mp4,1.0"]


def test_linearity_manifest_round_trip_and_invariants(tmp_path):
    from lionlora.records.linearity_tables import LinearityManifest

    path = tmp_path / "m.csv"
    LinearityManifest("video", ["a.mp4", "b/c.mp4"], [0.25, 1.0]).write(path)
    assert path.read_text() == "video,scale\na.mp4,0.25\nb/c.mp4,1.0\n"
    back = LinearityManifest.read(path, "video")
    assert (back.paths, back.scales) == (["a.mp4", "b/c.mp4"], [0.25, 1.0])
    back.write(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == path.read_bytes()
    path.write_text("video,scale\na.mp4,1.5\n")
    with pytest.raises(InputError, match=r"scale \(row 1\).*\(0, 1\]"):
        LinearityManifest.read(path, "video")
    path.write_text("camera,scale\n,0.5\n")
    with pytest.raises(InputError, match=r"camera \(row 1\)"):
        LinearityManifest.read(path, "camera")
    with pytest.raises(InputError, match="'video'"):
        LinearityManifest.read(path, "video")
    with pytest.raises(InputError, match=r"\(0, 1\]"):
        LinearityManifest("video", ["a.mp4"], [0.0]).write(tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()


def test_per_video_magnitudes_round_trip(tmp_path):
    import pandas as pd

    from lionlora.records.linearity_tables import PerVideoMagnitudes

    table = pd.DataFrame(
        {
            "video": ["a.mp4", "b.mp4"],
            "scale": [0.5, 1.0],
            "magnitude": [1.25, float("nan")],
            "status": ["ok", "failed"],
            "reason": ["", "unreadable"],
        }
    )
    path = PerVideoMagnitudes(table).write(tmp_path / "OUT_per_video.csv")
    back = PerVideoMagnitudes.read(path)
    assert back.ok()["video"].tolist() == ["a.mp4"] and back.ok()["magnitude"].tolist() == [1.25]
    PerVideoMagnitudes(back.table).write(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == path.read_bytes()
    path.write_text("video,scale,magnitude,status\na.mp4,0.5,1.0,ok\n")
    with pytest.raises(InputError, match="'reason'"):
        PerVideoMagnitudes.read(path)
