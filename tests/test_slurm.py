"""A slice of the demo DAG runs through the SLURM profile on a real one-node cluster.

The cluster is started by tests/slurm/start_cluster.sh (as root; .ci/run does it before pytest),
which writes its state to LIONLORA_SLURM_STATE/status. Without a running cluster the test is
skipped with the script's reason.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

STATE = Path(os.environ.get("LIONLORA_SLURM_STATE", "/tmp/lionlora-slurm"))
BIN = Path(sys.executable).parent


def _cluster_or_skip() -> None:
    status_file = STATE / "status"
    if not status_file.is_file():
        pytest.skip("no SLURM cluster: tests/slurm/start_cluster.sh has not run (CI runs it as root)")
    status = status_file.read_text().strip()
    if status != "running":
        pytest.skip(f"no SLURM cluster: {status}")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install -e '.[cluster]')")
    if shutil.which("sinfo") is None:
        pytest.skip("no SLURM cluster: sinfo is not on PATH")
    states = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout.split()
    if not {"idle", "mixed", "allocated"} & set(states):
        pytest.skip(f"no SLURM cluster: node state {states}")


SMALL = """\
results: {results}
scenes:
  source: embedded
  downsample: 2
  embedded: {{seed: 0, frames: 6, width: 320, height: 180, downsamples: [2]}}
webvideos:
  input: demo
  demo: {{frames: 13, height: 48, width: 64, fps: 12}}
"""


def test_demo_slice_runs_as_slurm_jobs(tmp_path):
    _cluster_or_skip()
    results = tmp_path / "results"
    (tmp_path / "small.yaml").write_text(SMALL.format(results=results))
    cmd = [
        str(BIN / "snakemake"),
        "--profile",
        "workflow/profiles/slurm",
        "--configfile",
        "configs/demo.yaml",
        str(tmp_path / "small.yaml"),
        # no accounting database on the test cluster: status from squeue, no account
        "--slurm-status-command",
        "squeue",
        "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--slurm-logdir",
        str(tmp_path / "slurm_logs"),
        "--latency-wait",
        "5",
        str(results / "scenes" / "embedded.check.txt"),
        str(results / "webvideos_input"),
    ]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-3000:]

    # the outputs
    check = (results / "scenes" / "embedded.check.txt").read_text()
    assert "6 frames, images_2 160x90" in check
    assert (results / "webvideos_input" / "labels.csv").is_file()

    # each rule ran inside the SLURM job Snakemake submitted for it
    submitted = dict(re.findall(r"submitted with SLURM jobid (\d+) \(log: .*?/rule_(\w+)/", text))
    by_rule = {rule: job for job, rule in submitted.items()}
    assert set(by_rule) == {"scene_synth", "scene_check", "webvideo_demo_videos"}, text[-3000:]
    logs = {
        "scene_synth": results / "logs" / "scene_synth.log",
        "scene_check": results / "logs" / "scene_check" / "embedded.log",
        "webvideo_demo_videos": results / "logs" / "webvideo_demo_videos.log",
    }
    for rule, log in logs.items():
        recorded = re.findall(r"SLURM_JOB_ID=(\d+)", log.read_text())
        assert recorded == [by_rule[rule]], (rule, log.read_text())

    # and SLURM itself knows them as completed jobs
    ids = ",".join(by_rule.values())
    states = subprocess.run(
        ["squeue", "-h", "-t", "all", "-j", ids, "-o", "%i %T"], capture_output=True, text=True
    ).stdout.split("\n")
    assert sorted(s for s in states if s) == sorted(f"{j} COMPLETED" for j in by_rule.values())


def test_missing_partition_stops_with_sbatch_error(tmp_path):
    """A profile pointing at a partition the cluster lacks: Snakemake reports sbatch's own error."""
    _cluster_or_skip()
    results = tmp_path / "results"
    (tmp_path / "small.yaml").write_text(SMALL.format(results=results))
    cmd = [
        str(BIN / "snakemake"),
        str(results / "scenes" / "embedded"),
        "--profile",
        "workflow/profiles/slurm",
        "--slurm-status-command",
        "squeue",
        "--slurm-no-account",
        "--slurm-logdir",
        str(tmp_path / "slurm_logs"),
        "--default-resources",
        "slurm_partition=no_such_partition",
        "--configfile",
        "configs/demo.yaml",
        str(tmp_path / "small.yaml"),
    ]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "SLURM sbatch failed" in text and "invalid partition specified: no_such_partition" in text, text[-3000:]
    assert not (results / "scenes" / "embedded").exists()
