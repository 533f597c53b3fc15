"""Fixture for modules of small tensor operations: one torch intra-op thread.

On two cores a second thread gains nothing for them, and on a shared machine its spin-waiting
slows them by an order of magnitude (the finite-difference test took 32 s instead of 2 s).
"""

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
