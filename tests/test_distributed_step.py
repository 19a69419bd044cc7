"""The state of a data-parallel step (distributed.step) lives in a context variable: checked in one
process, without a process group (select() only reads the step's rows)."""
from __future__ import annotations

import threading

import torch

from selfsup import distributed

TWO = distributed.World(rank=0, size=2, parallel=True)
INPUTS = torch.arange(4.0).view(4, 1)   # (m = 4 samples, 1 row each)


def rows() -> list[float]:
    return distributed.select(object(), INPUTS, None)[0].flatten().tolist()


def test_a_nested_step_hands_the_outer_one_its_rows_back():
    """When a step inside a step ends, the outer step's rows are back (a module dict was cleared)."""
    assert rows() == [0.0, 1.0, 2.0, 3.0]                    # no step: every row
    with distributed.step(TWO, torch.tensor([0, 2]), 4, 1.0):
        assert rows() == [0.0, 2.0]
        with distributed.step(TWO, torch.tensor([1]), 4, 1.0):
            assert rows() == [1.0]
        assert rows() == [0.0, 2.0]
    assert rows() == [0.0, 1.0, 2.0, 3.0]


def test_a_thread_started_during_a_step_runs_outside_it():
    """Another thread sees no step (a module dict was shared by every thread)."""
    with distributed.step(TWO, torch.tensor([0, 2]), 4, 1.0):
        seen = []
        thread = threading.Thread(target=lambda: seen.append(rows()))
        thread.start()
        thread.join()
        assert seen == [[0.0, 1.0, 2.0, 3.0]]
        assert rows() == [0.0, 2.0]
