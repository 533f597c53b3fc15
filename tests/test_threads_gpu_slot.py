"""Jobs keep to their declared threads and, locally, each GPU job sees only its own device."""

import os
import subprocess
import sys
import time

import pytest

from lionlora.gpu_slot import device_of

SLOT = [sys.executable, "-m", "lionlora.gpu_slot"]
SHOW = "import os, time; print(os.environ.get('CUDA_VISIBLE_DEVICES', 'unset'), flush=True); time.sleep({})"


def run_in_slot(lock_dir, slots=2, hold=0.0, env=None):
    cmd = [*SLOT, "--slots", str(slots), "--lock-dir", str(lock_dir), "--", sys.executable, "-c", SHOW.format(hold)]
    full = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID")}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**full, **(env or {})})


def test_concurrent_gpu_jobs_get_different_devices(tmp_path):
    jobs = [run_in_slot(tmp_path, hold=1.5) for _ in range(2)]
    devices = sorted(job.communicate()[0].strip() for job in jobs)
    assert devices == ["0", "1"]


def test_a_third_job_waits_for_a_free_slot_then_reuses_it(tmp_path):
    first = [run_in_slot(tmp_path, hold=1.0) for _ in range(2)]
    time.sleep(0.3)
    start = time.monotonic()
    third = run_in_slot(tmp_path)
    device = third.communicate()[0].strip()
    assert device in ("0", "1") and time.monotonic() - start > 0.4  # it waited for a slot
    assert all(job.wait() == 0 for job in first)


def test_a_killed_job_frees_its_slot(tmp_path):
    holder = run_in_slot(tmp_path, slots=1, hold=30)
    assert holder.stdout.readline().strip() == "0"
    holder.kill()
    holder.wait()
    assert run_in_slot(tmp_path, slots=1).communicate()[0].strip() == "0"


def test_slots_index_a_preset_device_list_and_slurm_is_left_alone(tmp_path):
    jobs = [run_in_slot(tmp_path, hold=1.0, env={"CUDA_VISIBLE_DEVICES": "5,7"}) for _ in range(2)]
    assert sorted(job.communicate()[0].strip() for job in jobs) == ["5", "7"]
    slurm = run_in_slot(tmp_path, env={"SLURM_JOB_ID": "42", "CUDA_VISIBLE_DEVICES": "3"})
    assert slurm.communicate()[0].strip() == "3"
    with pytest.raises(SystemExit):
        device_of(2, "5,7")


def test_limit_threads_reaches_torch_and_opencv():
    code = (
        "from lionlora.device import limit_threads; limit_threads(1); import cv2, torch; "
        "print(torch.get_num_threads(), cv2.getNumThreads())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"]


def test_single_threaded_children_start_with_one_thread_and_the_parent_keeps_its_settings(monkeypatch):
    from lionlora.device import THREAD_VARIABLES, single_threaded_children

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    code = "import torch, os; print(torch.get_num_threads(), os.environ['OPENBLAS_NUM_THREADS'])"
    with single_threaded_children():
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"]
    assert os.environ["OMP_NUM_THREADS"] == "2" and "MKL_NUM_THREADS" not in os.environ
    assert "OPENCV_FOR_THREADS_NUM" in THREAD_VARIABLES


def test_cli_threads_become_pycolmap_threads(tmp_path, monkeypatch):
    import lionlora.eval.camera.evaluate as evaluate
    from lionlora.cli import main

    seen = {}

    def fake_evaluate(source, gt, cfg, cameras_out=None, source_frames=False):
        seen["num_threads"], seen["source_frames"] = cfg.num_threads, source_frames
        return {"status": "failed", "registered": 0, "n_frames": 0, "reason": "test"}

    monkeypatch.setattr(evaluate, "evaluate_camera", fake_evaluate)
    monkeypatch.setattr(evaluate, "write_result", lambda out, result: None)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # limit_threads sets variables: keep them here
    args = ["eval", "camera", "--video", "v.mp4", "--gt", "c.json", "--out", str(tmp_path / "c.json")]
    assert main(["--threads", "3", *args]) == 0 and seen == {"num_threads": 3, "source_frames": False}
    assert main([*args, "--set", "num_threads=2"]) == 0 and seen["num_threads"] == 2
