"""Kill a small slice of the demo mid-run (SIGTERM, SIGKILL), run the same command again: it resumes
without redoing finished outputs and ends with the outputs of an uninterrupted run, up to timings.

The slice: scene synth -> reconstruct -> one clip, at small sizes. The signal comes while reconstruct
runs, after the scene is written. On SIGTERM Snakemake finishes the running job and starts no other;
on SIGKILL of its process group (a crash) the job dies, its outputs are incomplete and are redone.
After SIGKILL, Snakemake's lock on the outputs remains (it cannot tell a killed run from a running
one): `--unlock` with the same arguments comes first, as its message says. Every output must be
identical, timings aside; videos byte for byte (the video writer's x264 settings are reproducible).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from tests.conftest import REPO
from tests.test_workflow import SNAKEMAKE

SMALL = """\
scenes:
  source: embedded
  embedded: {frames: 12, width: 320, height: 180, downsamples: [2, 4], points: 2000, boxes: 3}
clip: {frames: 9, width: 96, height: 64, sample_frames: 5}
reconstruct:
  steps: 30
  sh_degree: 0
  densify: {refine_start_iter: 10, refine_every: 10, refine_stop_iter: 20, reset_every: 0, max_gaussians: 3000}
render: {primitives: [dolly_in], fused: [], start_frame: 0}
"""
TIMING_KEYS = ("seconds", "seconds_per_step", "time", "elapsed")


def command(base, *extra):
    return [
        str(SNAKEMAKE),
        "--cores",
        "1",
        "--configfile",
        "configs/demo.yaml",
        str(base / "small.yaml"),
        "--config",
        f"results={base / 'r'}",
        *extra,
        "--",
        str(base / "r" / "clips" / "embedded" / "dolly_in" / "cameras.json"),
    ]


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """An uninterrupted run of the slice, moved to BASE/reference (the runs below reuse BASE/r)."""
    base = tmp_path_factory.mktemp("resume")
    (base / "small.yaml").write_text(SMALL)
    out = run(command(base))
    assert out.returncode == 0, out.stderr[-3000:]
    shutil.move(base / "r", base / "reference")
    return base


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def assert_same_outputs(reference, results):
    files = [p.relative_to(reference) for p in reference.rglob("*") if p.is_file()]
    files = [f for f in files if f.parts[0] not in ("logs", "benchmarks")]
    assert files
    for rel in files:
        a, b = reference / rel, results / rel
        assert b.is_file(), rel
        if rel.suffix == ".json":
            assert without_timings(json.loads(a.read_text())) == without_timings(json.loads(b.read_text())), rel
        else:
            assert a.read_bytes() == b.read_bytes(), rel


def interrupt(base, sig):
    results = base / "r"
    shutil.rmtree(results, ignore_errors=True)
    proc = subprocess.Popen(
        command(base), cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    started = results / "logs" / "reconstruct" / "embedded.log"  # the job's log: created as it starts
    deadline = time.monotonic() + 600
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None and started.exists(), "the run ended before reconstruct started"
    time.sleep(2)
    if sig == signal.SIGKILL:
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its job, as a crash or an OOM kill would
    else:
        proc.send_signal(sig)  # snakemake stops its jobs itself
    proc.wait(timeout=300)
    # every file present now (the logs aside) is a finished output: the re-run must not touch it
    return {p: p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file() and "logs" not in p.parts}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_run_resumes_and_ends_like_an_uninterrupted_one(base, sig):
    finished = interrupt(base, sig)
    assert base / "r" / "benchmarks" / "scene_synth.tsv" in finished
    out = run(command(base))
    if sig == signal.SIGKILL:
        assert out.returncode != 0 and "--unlock" in out.stderr  # the killed run's lock is left
        assert run(command(base, "--unlock")).returncode == 0
        out = run(command(base))
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout + out.stderr  # the job counts of a real run are logged on stderr
    jobs = set(re.findall(r"^(\w+)\s+\d+$", text, re.M))  # the job-count table
    redone = {"render_clip", "total"} | ({"reconstruct"} if sig == signal.SIGKILL else set())
    assert jobs == redone, text
    assert {p: p.stat().st_mtime_ns for p in finished} == finished  # finished outputs were not redone
    assert_same_outputs(base / "reference", base / "r")
    # a finished run re-run does nothing
    again = run(command(base))
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
