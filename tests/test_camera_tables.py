"""``lionlora eval table``: per-method means, bootstrap intervals, success rates, failure counting,
the noise-floor row and the paper's rows."""

import numpy as np
import pandas as pd
import pytest

from lionlora.cli import main
from lionlora.errors import InputError
from lionlora.eval.camera.tables import TableConfig, bootstrap_ci, load_paper_tables, split_of, write_tables
from lionlora.io.files import write_json

METRICS = ("rot_err", "trans_err", "cam_mc", "ate")


def video(status, primitive, value=None, convention="cami2v", reduce="sum"):
    row = {
        "status": status,
        "reason": "" if status == "ok" else "SfM registered 3 of 49 frames (49 required)",
        "convention": convention,
        "reduce": reduce,
        "n_frames": 49,
        "registered": 49 if status == "ok" else 3,
        "primitive": primitive,
    }
    row.update({k: (None if value is None else value * (i + 1)) for i, k in enumerate(METRICS)})
    return row


@pytest.fixture()
def results(tmp_path):
    root = tmp_path / "eval"
    # noise floor: both splits, all ok
    for i, prim in enumerate(["dolly_in", "orbit_left", "dolly_in+orbit_left"]):
        write_json(root / "gt" / f"embedded__{prim}.json", video("ok", prim, 0.01 * (i + 1)))
    # no-control baseline: basic 2.0 and 4.0 (mean 3.0), fused one ok at 5.0
    write_json(root / "cogvideox" / "a__dolly_in.json", video("ok", "dolly_in", 2.0))
    write_json(root / "cogvideox" / "a__orbit_left.json", video("ok", "orbit_left", 4.0))
    write_json(root / "cogvideox" / "a__dolly_in+orbit_left.json", video("ok", "dolly_in+orbit_left", 5.0))
    # method: basic 1.0, 1.0 and one failure; fused one failure only
    write_json(root / "lionlora" / "a__dolly_in.json", video("ok", "dolly_in", 1.0))
    write_json(root / "lionlora" / "b__dolly_in.json", video("ok", "dolly_in", 1.0))
    write_json(root / "lionlora" / "a__orbit_left.json", video("failed", "orbit_left"))
    write_json(root / "lionlora" / "a__dolly_in+orbit_left.json", video("failed", "dolly_in+orbit_left"))
    write_json(root / "lionlora" / "a__dolly_in.cameras.json", {"frames": []})  # skipped
    write_json(root / "lionlora" / "fvd.json", {"fvd": 150.0, "n_real": 10, "n_fake": 10})
    write_json(root / "lionlora" / "fvd_fused.json", {"fvd": 175.5})
    write_json(root / "lionlora" / "motion.json", {"pearson_r": 0.97, "p_value": 0.001, "n": 12})
    # a motion-only baseline: no camera videos, no FVD
    write_json(root / "adapter_scale" / "motion.json", {"pearson_r": 0.2, "p_value": 0.5, "n": 12})
    return root


def row_of(df, method, split):
    return df[(df.method == method) & (df.split == split)].iloc[0]


def test_table_values(results, tmp_path, capsys):
    out = tmp_path / "tables"
    assert main(["eval", "table", "--results", str(results), "--out", str(out), "--bootstrap", "500"]) == 0
    df = pd.read_csv(out / "camera_metrics.csv")
    lion = row_of(df, "lionlora", "basic")
    assert (lion.videos, lion.ok) == (3, 2) and lion.success_rate == pytest.approx(2 / 3)
    assert lion.rot_err_mean == pytest.approx(1.0) and lion.ate_mean == pytest.approx(4.0)
    # the failure counts with the baseline's basic mean (3.0 for rot_err, 12.0 for ate)
    assert lion.rot_err_failures_counted == pytest.approx((1 + 1 + 3) / 3)
    assert lion.ate_failures_counted == pytest.approx((4 + 4 + 12) / 3)
    assert lion.rot_err_penalty_source == "mean of cogvideox"
    assert lion.fvd == 150.0 and lion.pearson_r == 0.97
    fused = row_of(df, "lionlora", "fused")
    assert (fused.videos, fused.ok, fused.success_rate) == (1, 0, 0.0)
    assert np.isnan(fused.rot_err_mean) and fused.rot_err_failures_counted == pytest.approx(5.0)
    assert fused.fvd == 175.5
    everything = row_of(df, "lionlora", "all")
    assert (everything.videos, everything.ok) == (4, 2)
    floor = row_of(df, "gt", "all")
    assert bool(floor.noise_floor) and floor.rot_err_mean == pytest.approx(0.02)
    assert floor.rot_err_ci_low <= floor.rot_err_mean <= floor.rot_err_ci_high
    per_video = pd.read_csv(out / "per_video.csv")
    assert len(per_video) == 10 and (per_video.status == "failed").sum() == 2
    assert set(per_video[per_video.status == "failed"].reason) == {"SfM registered 3 of 49 frames (49 required)"}
    md = (out / "camera_tables.md").read_text()
    assert "Quantitative results of basic camera poses" in md and "complex fused camera poses" in md
    assert "| paper | Ours (LiON-LoRA) | — | — | 0.776 | 0.167 | — | 0.295 | 136.0 |" in md
    assert "Pearson r" not in md.split("## Motion-strength linearity")[0]  # a figure of the paper, not a column
    camera_part, motion_part = md.split("## Motion-strength linearity")
    assert "| lionlora | 0.970 |" in motion_part and "| adapter_scale | 0.200 |" in motion_part
    assert "adapter" not in camera_part  # nothing of it in the camera tables
    assert "gt (noise floor)" in md and "2/3 (67%)" in md
    assert "Table 3" in md and "| 7k | 10k | 0.896 | 0.140 | 0.341 | 202.8 |" in md
    assert (out / "table_config.json").exists()


def test_paper_penalty_without_baseline_and_worst(results, tmp_path):
    import shutil

    shutil.rmtree(results / "cogvideox")
    write_tables(results, tmp_path / "t1", TableConfig(bootstrap=200))
    df = pd.read_csv(tmp_path / "t1" / "camera_metrics.csv")
    lion = row_of(df, "lionlora", "basic")
    paper = load_paper_tables()["tables"]["table1"]["rows"][0]  # CogVideoX, the no-control row
    assert lion.rot_err_failures_counted == pytest.approx((1 + 1 + paper["rot_err"]) / 3)
    assert np.isnan(lion.cam_mc_failures_counted)  # CamMC is not in the paper
    write_tables(results, tmp_path / "t2", TableConfig(bootstrap=200, penalty="worst"))
    lion = row_of(pd.read_csv(tmp_path / "t2" / "camera_metrics.csv"), "lionlora", "basic")
    assert lion.rot_err_failures_counted == pytest.approx(1.0)  # worst successful non-floor video is 1.0


def test_bootstrap_interval():
    rng = np.random.default_rng(0)
    assert bootstrap_ci(np.full(5, 2.5), 200, 0.95, rng) == (2.5, 2.5)
    x = rng.normal(10.0, 2.0, size=400)
    lo, hi = bootstrap_ci(x, 2000, 0.95, rng)
    half = 1.96 * x.std() / np.sqrt(len(x))
    assert lo == pytest.approx(x.mean() - half, abs=0.05) and hi == pytest.approx(x.mean() + half, abs=0.05)


def test_split_and_paper_data():
    assert (split_of("dolly_in"), split_of("dolly_in+orbit_left"), split_of(None)) == ("basic", "fused", None)
    tables = load_paper_tables()["tables"]
    assert [len(tables[t]["rows"]) for t in ("table1", "table2", "table3")] == [6, 6, 4]
    assert tables["table2"]["rows"][-1] == {
        "method": "Ours (LiON-LoRA)",
        "rot_err": 1.044,
        "trans_err": 0.197,
        "ate": 0.345,
        "fvd": 172.8,
        "second_best": ["rot_err"],
    }


def test_bad_results_are_named_errors(results, tmp_path):
    write_json(results / "other" / "x.json", video("ok", "dolly_in", 1.0, reduce="mean"))
    with pytest.raises(InputError, match="x.json.*convention/reduce"):
        write_tables(results, tmp_path / "t")
    write_json(results / "other" / "x.json", {**video("ok", "dolly_in", 1.0), "ate": None})
    with pytest.raises(InputError, match="x.json: field 'ate'"):
        write_tables(results, tmp_path / "t")
    with pytest.raises(InputError, match="nowhere"):
        write_tables(tmp_path / "nowhere", tmp_path / "t")


def test_random_weights_fvd_is_marked(results, tmp_path):
    """An FVD computed with random I3D weights (the demo) is flagged next to the paper's values.

    The flag is per method: one of its FVD files from random weights marks all of them.
    """
    write_json(results / "lionlora" / "fvd_fused.json", {"fvd": 175.5, "comparable_to_paper": False})
    out = tmp_path / "tables"
    assert main(["eval", "table", "--results", str(results), "--out", str(out), "--bootstrap", "200"]) == 0
    df = pd.read_csv(out / "camera_metrics.csv")
    assert not bool(row_of(df, "lionlora", "fused").fvd_comparable)
    assert np.isnan(row_of(df, "cogvideox", "fused").fvd)  # no FVD, no flag
    md = (out / "camera_tables.md").read_text()
    assert "175.5†" in md and "150.0†" in md and "not comparable to the paper" in md
    # real weights: no mark
    write_json(results / "lionlora" / "fvd_fused.json", {"fvd": 175.5, "comparable_to_paper": True})
    assert main(["eval", "table", "--results", str(results), "--out", str(out), "--bootstrap", "200"]) == 0
    assert "†" not in (out / "camera_tables.md").read_text()


def test_training_scene_flags_known_answer():
    from lionlora.eval.camera.tables import scene_of, training_scene_flags

    adapters = {"pan_left": ["a", "x"], "dolly_in": ["a", "b"], "diffusers_orbit": None, "tilt": []}
    assert training_scene_flags(["a", "b", "c"], adapters) == {"a": ["dolly_in", "pan_left"], "b": ["dolly_in"]}
    assert training_scene_flags(["c"], adapters) == {}
    assert scene_of("a__dolly_in+orbit_left") == "a" and scene_of("lionlora/b__pan_left") == "b"
    assert scene_of("lionlora/web__clip_3__pan_left") == "web__clip_3" and scene_of("plain") == "plain"


def test_videos_of_training_scenes_are_flagged(results, tmp_path):
    """Scene 'a' trained lionlora's adapters: its 3 videos are counted and footnoted, b's are not."""
    from lionlora.eval.camera.tables import training_scene_flags

    flags = {"lionlora": training_scene_flags(["a", "b"], {"dolly_in": ["a"], "orbit_left": ["a", "z"]})}
    write_tables(results, tmp_path / "t", TableConfig(bootstrap=200), flags=flags)
    df = pd.read_csv(tmp_path / "t" / "camera_metrics.csv")
    assert row_of(df, "lionlora", "all").trained_scene_videos == 3  # a__dolly_in, a__orbit_left, a__dolly_in+orbit_left
    assert row_of(df, "lionlora", "basic").trained_scene_videos == 2
    assert row_of(df, "cogvideox", "all").trained_scene_videos == 0  # no adapters: nothing flagged
    md = (tmp_path / "t" / "camera_tables.md").read_text()
    assert "| ours | lionlora ‡ | 3 |" in md and "cogvideox ‡" not in md
    assert "`lionlora`: 2 of 3 videos, scenes a (trained dolly\\_in, orbit\\_left)" in md
    write_tables(results, tmp_path / "u", TableConfig(bootstrap=200))
    assert "‡" not in (tmp_path / "u" / "camera_tables.md").read_text()
