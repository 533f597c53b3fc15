"""The Snakemake workflow parses, validates its config and plans the demo from the repo root."""

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def snakemake(*args, cwd=REPO):
    return subprocess.run([str(SNAKEMAKE), *args], capture_output=True, text=True, cwd=cwd)


def test_snakefile_holds_only_the_skeleton():
    text = (REPO / "workflow" / "Snakefile").read_text()
    code = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    allowed = (
        "from snakemake.utils import min_version",
        "min_version(",
        "configfile:",
        "include:",
        "rule all:",
        "default_target:",
        "input:",
        "ALL_TARGETS",
    )
    assert all(ln.strip().startswith(allowed) for ln in code), code


DEMO_RULES = (
    "scene_synth",
    "scene_check",
    "reconstruct",
    "render_clip",
    "webvideo_demo_videos",
    "webvideo_filter",
    "pairs",
    "demo_model",
    "train_lora",
    "analyze_loras",
    "generate_video",
    "generate_motion",
    "motion_manifest",
    "eval_camera_floor",
    "eval_camera_generated",
    "eval_camera_table",
    "eval_i3d_init",
    "eval_fvd",
    "eval_motion",
    "eval_fig6",
    "eval_fig10",
)


def test_demo_dry_run_plans_every_stage(tmp_path):
    out = snakemake("-n", "--cores", "2", "--config", f"results={tmp_path}/results")
    assert out.returncode == 0, out.stderr + out.stdout
    planned = set(re.findall(r"^(\w+)\s+\d+$", out.stdout, re.M))
    assert set(DEMO_RULES) <= planned, set(DEMO_RULES) - planned


def test_schema_rejects_bad_config(tmp_path):
    (tmp_path / "bad.yaml").write_text("results: r\nscenes:\n  source: somewhere\n")
    out = snakemake("-n", "--configfile", str(tmp_path / "bad.yaml"))
    assert out.returncode != 0
    assert "somewhere" in out.stderr + out.stdout


def test_stage_option_contradicting_the_clip_is_refused(tmp_path):
    (tmp_path / "over.yaml").write_text("render:\n  frames: 12\n")
    out = snakemake(
        "-n",
        "--configfile",
        "configs/demo.yaml",
        str(tmp_path / "over.yaml"),
        "--config",
        f"results={tmp_path}/results",
    )
    assert out.returncode != 0
    assert "render.frames = 12 contradicts the shared value 49" in out.stderr + out.stdout


def test_paper_config_plans_dl3dv_scenes(tmp_path, scene_dir):
    h = hashlib.sha256(b"scene").hexdigest()
    root = tmp_path / "DL3DV"
    shutil.copytree(scene_dir, root / "1K" / h)
    (tmp_path / "list.csv").write_text(f"hash,batch\n{h},1K\n")
    (tmp_path / "local.yaml").write_text(
        f"results: {tmp_path}/r\nscenes:\n  source: dl3dv\n  downsample: 2\n"
        f"  dl3dv:\n    root: {root}\n    hash_list: {tmp_path}/list.csv\n"
    )
    # later config files update the earlier ones: the paper config with a local scene root
    out = snakemake("-n", "--configfile", "configs/paper.yaml", str(tmp_path / "local.yaml"))
    assert out.returncode == 0, out.stderr + out.stdout
    assert "scene_check" in out.stdout and h in out.stdout
    planned = dict(re.findall(r"^(\w+)\s+(\d+)$", out.stdout, re.M))
    # 8 basic + 6 fused clips, 8 camera LoRAs, 4 methods x 14 clips generated and evaluated
    assert {
        k: planned.get(k)
        for k in (
            "reconstruct",
            "render_clip",
            "train_lora",
            "generate_video",
            "eval_camera_generated",
            "eval_camera_table",
        )
    } == {
        "reconstruct": "1",
        "render_clip": "14",
        "train_lora": "8",
        "generate_video": "56",
        "eval_camera_generated": "56",
        "eval_camera_table": "1",
    }
    # without the I3D weights on disk FVD is not planned, and the log says why
    assert "eval_fvd" not in planned and "FVD not planned" in out.stderr
