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
    "pretrain_model",
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


def test_demo_base_model_is_pretrained_or_random(tmp_path):
    """train.model `pretrained` (the demo's) builds models/pretrained with --pretrain and the
    pretrain section's options; `demo` the random-init models/tiny; every LoRA rule reads that one."""
    over = ("--configfile", "configs/demo.yaml", str(tmp_path / "over.yaml"))
    # fewer steps than the demo's curriculum's short_steps (1100): a config error that says so
    (tmp_path / "over.yaml").write_text("pretrain: {steps: 350}\n")
    out = snakemake("-n", "-p", "--cores", "2", *over, "--config", f"results={tmp_path}/r")
    assert (
        out.returncode != 0 and "pretrain.short_steps': expected 0 to steps = 350, got 1100" in out.stderr + out.stdout
    )
    (tmp_path / "over.yaml").write_text("pretrain: {steps: 350, short_steps: 250}\n")
    out = snakemake("-n", "-p", "--cores", "2", *over, "--config", f"results={tmp_path}/r")
    assert out.returncode == 0, out.stderr + out.stdout
    r = f"{tmp_path}/r"
    opts = "--set vae_batch_size=2 --set short_frames=5 --set short_steps=250 --set steps=350 "
    assert f"demo-model --pretrain --out {r}/models/pretrained {opts}" in out.stdout
    assert set(re.findall(r" train --model (\S+)", out.stdout)) == {f"{r}/models/pretrained"}
    out = snakemake("-n", "-p", "--cores", "2", "--config", f"results={tmp_path}/r", "train={'model': 'demo'}")
    assert out.returncode == 0, out.stderr + out.stdout
    assert f"demo-model --out {r}/models/tiny" in out.stdout and "--pretrain" not in out.stdout
    assert set(re.findall(r" train --model (\S+)", out.stdout)) == {f"{r}/models/tiny"}


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


def dl3dv_config(tmp_path, scene_dir, eval_hashes=("eval",), captions=True):
    """A local config over the paper config: one training scene and held-out evaluation scenes."""
    h = hashlib.sha256(b"scene").hexdigest()
    root = tmp_path / "DL3DV"
    held = [hashlib.sha256(e.encode()).hexdigest() if e != "train" else h for e in eval_hashes]
    for x in dict.fromkeys([h, *held]):
        shutil.copytree(scene_dir, root / "1K" / x)
    (tmp_path / "list.csv").write_text(f"hash,batch\n{h},1K\n")
    (tmp_path / "eval.csv").write_text("hash,batch\n" + "".join(f"{x},1K\n" for x in held))  # fetch needs the batch
    (tmp_path / "local.yaml").write_text(
        f"results: {tmp_path}/r\nscenes:\n  source: dl3dv\n  downsample: 2\n"
        + (f"  captions: {tmp_path}/captions.csv\n" if captions else "  captions: ''\n")
        + f"  dl3dv:\n    root: {root}\n    hash_list: {tmp_path}/list.csv\n    eval_hash_list: {tmp_path}/eval.csv\n"
    )
    (tmp_path / "captions.csv").write_text(f"scene,prompt\n{held[0]},a kitchen with a red kettle\n")
    return h, held


def test_paper_config_plans_dl3dv_scenes(tmp_path, scene_dir):
    h, (held,) = dl3dv_config(tmp_path, scene_dir)
    # later config files update the earlier ones: the paper config with a local scene root
    out = snakemake("-n", "-p", "--configfile", "configs/paper.yaml", str(tmp_path / "local.yaml"))
    assert out.returncode == 0, out.stderr + out.stdout
    assert "scene_check" in out.stdout and h in out.stdout
    planned = dict(re.findall(r"^(\w+)\s+(\d+)$", out.stdout, re.M))
    # training scene: reconstructed, 8 basic + 6 fused clips; 8 camera LoRAs and their 8 plain baselines; the
    # held-out scene: reconstructed, its 14 clips conditioning 4 methods x 14 videos (one job per method), evaluated
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
        "reconstruct": "2",
        "render_clip": "28",
        "train_lora": "16",
        "generate_video": "4",
        "eval_camera_generated": "56",
        "eval_camera_table": "1",
    }
    # without the I3D weights on disk FVD is not planned, and the log says why
    assert "eval_fvd" not in planned and "FVD not planned" in out.stderr

    # evaluation runs on the held-out scene only, with its caption as the prompt
    assert f"generated/lionlora/{held}__pan_left/clip.mp4" in out.stdout
    assert f"generated/lionlora/{h}__" not in out.stdout
    assert "--prompt 'a kitchen with a red kettle'" in out.stdout


def test_evaluation_scenes_must_be_held_out(tmp_path, scene_dir):
    dl3dv_config(tmp_path, scene_dir, eval_hashes=("eval", "train"))
    out = snakemake("-n", "--configfile", "configs/paper.yaml", str(tmp_path / "local.yaml"))
    assert out.returncode != 0
    assert "eval_hash_list shares 1 scene(s) with hash_list" in out.stderr + out.stdout


def test_guidance_without_a_prompt_is_refused_at_plan_time(tmp_path, scene_dir):
    """CFG 6 with an empty prompt and negative prompt (the paper config's old state) does nothing."""
    dl3dv_config(tmp_path, scene_dir, captions=False)
    (tmp_path / "noprompt.yaml").write_text("generate:\n  prompt: ''\n")
    out = snakemake(
        "-n", "--configfile", "configs/paper.yaml", str(tmp_path / "local.yaml"), str(tmp_path / "noprompt.yaml")
    )
    assert out.returncode != 0
    assert "guidance does nothing" in out.stderr + out.stdout


def test_benchmark_target_builds_suite_generates_and_scores(tmp_path):
    """`snakemake benchmark`: the suite from the held-out clips only, the adapters' videos, one run."""
    out = snakemake("-n", "-p", "benchmark", "--cores", "2", "--config", f"results={tmp_path}/r")
    assert out.returncode == 0, out.stderr + out.stdout
    text = out.stdout
    r = f"{tmp_path}/r"
    assert f"ln -s {r}/clips/embedded_eval/dolly_in {r}/benchmark/clips/embedded_eval/dolly_in" in text
    assert f"{r}/clips/embedded/" not in text.split("rule benchmark_clips")[1].split("rule ")[0]  # no training scene
    assert (
        f"benchmark suite --clips {r}/benchmark/clips --out {r}/benchmark/suite --frames 49 --height 160 --width 240 "
        "--prompts configs/demo_captions.csv" in text
    )
    assert (
        f"benchmark generate --suite {r}/benchmark/suite --model {r}/models/pretrained --lora dolly_in={r}/lora/dolly_in:1.0 "
        f"--lora orbit_left={r}/lora/orbit_left:1.0 --lora pan_left={r}/lora/pan_left:1.0 "
        f"--out {r}/benchmark/videos/lionlora" in text
    )
    assert f"benchmark run --suite {r}/benchmark/suite --videos lionlora={r}/benchmark/videos/lionlora " in text
    assert f"--out {r}/benchmark/tables" in text and "--jobs 2" in text

    # a given suite and a folder of another method's videos; a diffusers LoRA as a plain LoRA at scale 0.8
    (tmp_path / "mine").mkdir()
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "manifest.csv").write_text("sample\n")
    (tmp_path / "orbit.safetensors").write_bytes(b"")
    (tmp_path / "b.yaml").write_text(
        f"benchmark:\n  suite: {tmp_path}/suite\n  videos: {{mine: {tmp_path}/mine}}\n"
        f"  adapters: {{dimx: {{orbit_left: {tmp_path}/orbit.safetensors}}}}\n"
        "  options: {dimx: {scale: 0.8, fusion: vanilla}}\n  baseline: mine\n"
    )
    out = snakemake("-n", "-p", "benchmark", "--configfile", "configs/demo.yaml", str(tmp_path / "b.yaml"),
                    "--config", f"results={tmp_path}/r")  # fmt: skip
    assert out.returncode == 0, out.stderr + out.stdout
    assert "benchmark_suite" not in out.stdout and "benchmark_clips" not in out.stdout
    assert f"--lora orbit_left={tmp_path}/orbit.safetensors:0.8 --fusion vanilla" in out.stdout
    assert f"--videos mine={tmp_path}/mine --videos " in out.stdout  # the given folder, then the generated ones
    assert f"--videos dimx={r}/benchmark/videos/dimx" in out.stdout and "--baseline mine" in out.stdout


def test_one_generation_job_per_method_and_scene_and_per_motion_run(tmp_path):
    """The videos of one method and scene come from one `generate --video ...` job (the model loads
    once), each --video with its clip, GT cameras, output and the adapters of its primitive's
    parts; a motion run is one job over its S values. Its runtime is the per-video one x videos."""
    out = snakemake("-n", "-p", "--cores", "2", "--config", f"results={tmp_path}/r")
    assert out.returncode == 0, out.stderr + out.stdout
    r = f"{tmp_path}/r"
    jobs = re.findall(r"^rule (generate_\w+):\n((?:    .*\n)+)Shell command: +(.*)$", out.stdout, re.M)
    video = {
        re.search(r"generated/(\w+)/", cmd).group(1): (info, cmd)
        for rule, info, cmd in jobs
        if rule == "generate_video"
    }
    motion = [cmd for rule, _, cmd in jobs if rule == "generate_motion"]
    assert sorted(video) == ["base", "lionlora", "vanilla"] and len(motion) == 5
    info, cmd = video["lionlora"]
    items = [v.split() for v in cmd.split(" --set ")[0].split("--video ")[1:]]
    assert len(items) == 5 and cmd.endswith(
        "--set steps=20 --set cfg=6.0 --set frames=17 > " + f"{r}/logs/generate/lionlora/embedded_eval.log 2>&1"
    )
    assert items[3] == [
        f"out={r}/generated/lionlora/embedded_eval__dolly_in+orbit_left/clip.mp4",
        f"image={r}/clips/embedded_eval/dolly_in+orbit_left/clip.mp4",
        f"cameras={r}/clips/embedded_eval/dolly_in+orbit_left/cameras.json",
        f"lora=dolly_in={r}/lora/dolly_in:1.0",
        f"lora=orbit_left={r}/lora/orbit_left:1.0",
    ]
    assert "runtime=25," in info  # 5 videos x the demo's 5 minutes a video
    assert "priority: 1" in info  # after the adapters (priority 2), before the rest
    assert "lora=" not in video["base"][1] and "--vanilla-fusion" in video["vanilla"][1]
    assert f"lora=orbit_left={r}/lora_plain/orbit_left:1.0" in video["vanilla"][1]
    sweep = next(c for c in motion if "--adapter-scale" in c)
    assert re.findall(r"--video out=\S+/adapter_scale/motion/S([\d.]+)\.mp4 lora=motion=\S+:([\d.]+)", sweep) == [
        ("0.400", "0.400"),
        ("0.700", "0.700"),
        ("1.000", "1.000"),
    ]
