"""Models trained side by side, shared among CPU threads ("lanes") when one model's step is too small to split.

At batch 1 a step of the seminar CNN runs on one thread (`cpu.threads`: waking a second thread for
one 28x28 image costs more than it saves), so the seminar's 20 replicates side by side left the
other cores idle. Here the models are cut into contiguous groups, one per thread torch may use. At
every step each group runs its models' forward passes, one backward pass and its own optimizer's
update on its own thread (the calling thread runs the first group); torch releases Python's lock
inside its kernels, so the groups compute at once. A model's numbers do not depend on the thread
that runs its kernels (each op runs on one thread) nor on which other weights share its optimizer's
fused, elementwise update: the models are bit for bit those of one lane (tests/test_replicates.py).
Measured (/work/logs/s16/lanes_proto.py on the project's 2-core machine: 20 seminar replicates,
150 labels, batch 1, 2 epochs): 1.40-1.58x faster than one lane.

One lane (the loop as before) on a GPU, under torchrun, with a thread count the user fixed
(`set_threads`, SELFSUP_THREADS), for a single model, and for networks that draw from torch's
global generator (MultiheadAttention's dropout), whose numbers threads would take in no fixed order.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

import torch
from torch import nn

from . import cpu

T = TypeVar("T")


def lane_count(device: torch.device, nets: Sequence[nn.Module], parallel: bool, step_threads: int,
               available: int) -> int:
    """Lanes for `nets` side by side, when each step runs on `step_threads` threads (`cpu.threads`) of the
    `available` ones torch has."""
    if device.type != "cpu" or parallel or step_threads != 1 or cpu.fixed_threads() is not None:
        return 1
    if any(isinstance(m, nn.MultiheadAttention) for net in nets for m in net.modules()):
        return 1
    return max(1, min(available, len(nets)))


class Lanes:
    """`n_models` models in `n_lanes` contiguous groups (`parts`: one slice each), and the threads
    that step them. Use as a context manager: the threads end with the block."""

    def __init__(self, n_lanes: int, n_models: int):
        bounds = [round(k * n_models / n_lanes) for k in range(n_lanes + 1)]
        self.parts = [slice(lo, hi) for lo, hi in zip(bounds, bounds[1:])]
        # one torch thread on each worker: a thread started outside torch takes the machine's count
        self.pool = ThreadPoolExecutor(n_lanes - 1, thread_name_prefix="selfsup-lane", initializer=torch.set_num_threads,
                                       initargs=(1,)) if n_lanes > 1 else None

    def __enter__(self) -> "Lanes":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def run(self, step: Callable[[int], T]) -> list[T]:
        """`step(k)` for every lane k at once, lane 0 on this thread; the results in lane order. Returns
        (or raises, Ctrl-C included) only when every lane's step has ended, so nothing trains after."""
        if self.pool is None:
            return [step(0)]
        futures = [self.pool.submit(step, k) for k in range(1, len(self.parts))]
        try:
            first = step(0)
            return [first] + [f.result() for f in futures]
        finally:
            wait(futures)
