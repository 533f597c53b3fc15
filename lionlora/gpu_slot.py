"""Run a command on one GPU of its own: ``python -m lionlora.gpu_slot --slots N -- COMMAND...``.

Snakemake counts GPUs (``--resources gpu=N``) but does not say which device a job gets, so two
jobs would both see every GPU and start on device 0. This wrapper takes the first free slot of
``N`` (an exclusive ``flock`` on ``LOCK_DIR/slot-<i>.lock``), sets ``CUDA_VISIBLE_DEVICES`` to
that device and replaces itself with the command, which keeps the lock until it exits (a killed
job frees its slot). Under SLURM (``SLURM_JOB_ID`` set) the scheduler has already chosen the
devices and the command runs unchanged. When ``CUDA_VISIBLE_DEVICES`` is already set, slot ``i``
is the ``i``-th device of that list.
"""

from __future__ import annotations

import argparse
import fcntl
import getpass
import os
import sys
import tempfile
import time
from pathlib import Path


def default_lock_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"lionlora-gpu-slots-{getpass.getuser()}"


def acquire_slot(slots: int, lock_dir: Path, wait: float = 0.2) -> tuple[int, int]:
    """The first slot whose lock is free, as ``(slot, fd)``; waits while every slot is taken."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(slots):
            fd = os.open(lock_dir / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return slot, fd
        time.sleep(wait)


def device_of(slot: int, visible: str | None) -> str:
    """The device id of a slot: the slot itself, or the slot-th entry of CUDA_VISIBLE_DEVICES."""
    if not visible:
        return str(slot)
    devices = [d.strip() for d in visible.split(",") if d.strip()]
    if slot >= len(devices):
        raise SystemExit(f"gpu_slot: slot {slot} but CUDA_VISIBLE_DEVICES={visible!r} lists {len(devices)} device(s)")
    return devices[slot]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lionlora.gpu_slot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", type=int, required=True, help="GPUs of this machine (Snakemake's gpu resource)")
    parser.add_argument("--lock-dir", type=Path, default=None, help="folder of the slot locks (default: in TMPDIR)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    if args.slots < 1:
        parser.error("--slots must be >= 1")
    if not os.environ.get("SLURM_JOB_ID"):
        slot, fd = acquire_slot(args.slots, args.lock_dir or default_lock_dir())
        os.set_inheritable(fd, True)  # the lock stays held by the command after exec
        os.environ["CUDA_VISIBLE_DEVICES"] = device_of(slot, os.environ.get("CUDA_VISIBLE_DEVICES"))
    sys.stdout.flush()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
