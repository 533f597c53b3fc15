"""Data parallelism over CPU processes (:mod:`lionlora.apps.data_parallel`)."""

from __future__ import annotations

import pytest

from lionlora.apps.data_parallel import Shard, run_data_parallel


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shards_split_a_batch_exactly(world):
    for n in range(world, 11):
        parts = [Shard(r, world).part(n) for r in range(world)]
        assert parts[0].start == 0 and parts[-1].stop == n
        assert all(a.stop == b.start for a, b in zip(parts, parts[1:]))
        sizes = [p.stop - p.start for p in parts]
        assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
        assert sum(Shard(r, world).weight(n) for r in range(world)) == pytest.approx(1.0)


def _share_gradient(shard: Shard, weight, x, y) -> dict:
    """The mean squared error of a linear model on this process's share, summed over processes."""

    w = weight.clone().requires_grad_(True)
    mine = shard.part(len(x))
    loss = ((x[mine] @ w - y[mine]) ** 2).mean() * shard.weight(len(x))
    loss.backward()
    total = shard.sum_gradients([w], loss.item())
    return {"grad": w.grad, "loss": total, "world": shard.world}


def test_summed_share_gradients_are_the_batch_gradient():
    import torch

    gen = torch.Generator().manual_seed(0)
    x, y, weight = torch.randn(5, 3, generator=gen), torch.randn(5, 2, generator=gen), torch.randn(3, 2, generator=gen)
    w = weight.clone().requires_grad_(True)
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    for world in (1, 2):  # shares of 2 and 3 samples
        got = run_data_parallel(_share_gradient, world, 1, weight, x, y)
        assert got["world"] == world
        assert got["loss"] == pytest.approx(loss.item(), rel=1e-6)
        torch.testing.assert_close(got["grad"], w.grad, rtol=1e-6, atol=1e-7)
