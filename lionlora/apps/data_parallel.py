"""Synchronous data parallelism over CPU processes (``torch.distributed`` with gloo) for pretraining.

On a few CPU cores, N one-thread processes each working on 1/N of a batch get more done than one
process with N threads: the tiny model's matrices are too small to keep N threads busy. Each
process holds the whole model and a copy of the same generator; every step they all draw the same
random numbers for the whole batch (which clips, noise, timesteps), each takes its share of the
batch (:meth:`Shard.part`), weights its loss by that share, and the gradients are summed across
processes before the optimiser step. Every process then applies the same update to the same
weights, so the N processes take the steps that one process would take on the whole batch, up to
the order of floating-point sums; with one process nothing is split and nothing is sent.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Shard:
    """Process ``rank`` of ``world``: which part of each batch it computes and how it syncs."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """The process that reports progress and returns the result."""
        return self.rank == 0

    def part(self, n: int) -> slice:
        """This process's contiguous share of ``n`` samples (shares differ in size by at most 1)."""
        return slice(n * self.rank // self.world, n * (self.rank + 1) // self.world)

    def weight(self, n: int) -> float:
        """The fraction of the batch's mean loss that this process's share carries."""
        p = self.part(n)
        return (p.stop - p.start) / n

    def sum_gradients(self, params: Iterable, loss: float) -> float:
        """Sum the gradients of ``params`` and the weighted ``loss`` over the processes, in place.

        Returns the summed loss: the batch's mean loss. One flat all-reduce a step.
        """
        if self.world == 1:
            return loss
        import torch
        import torch.distributed as dist

        grads = [p.grad for p in params if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads] + [torch.tensor([loss], dtype=grads[0].dtype)])
        dist.all_reduce(flat)
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()
        return float(flat[-1])


def run_data_parallel(fn: Callable[..., Any], world: int, threads: int, *args) -> Any:
    """``fn(shard, *args)`` in ``world`` processes of ``threads`` threads each; returns rank 0's result.

    With ``world == 1`` it is a plain call in this process. Otherwise the processes are spawned
    (``fn`` must be a module-level function) and meet through a file store in a temporary folder,
    so no port is opened. ``args`` reach the processes pickled, their tensors in shared memory: a
    model that ``fn`` trains must be copied there first, or every process would update the same
    weights.
    """
    if world == 1:
        return fn(Shard(), *args)
    import torch
    import torch.multiprocessing as mp

    from lionlora.device import single_threaded_children

    with tempfile.TemporaryDirectory(prefix="lionlora-dp-") as tmp, single_threaded_children():
        mp.spawn(_worker, args=(fn, world, threads, tmp, args), nprocs=world, join=True)
        return torch.load(Path(tmp) / "result.pt", weights_only=False)


def _worker(rank: int, fn: Callable[..., Any], world: int, threads: int, tmp: str, args: tuple) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=f"file://{tmp}/store", rank=rank, world_size=world)
    try:
        result = fn(Shard(rank, world), *args)
        if rank == 0:
            torch.save(result, Path(tmp) / "result.pt")
    finally:
        dist.destroy_process_group()
