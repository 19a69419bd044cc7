"""CPU settings of a call that trains or predicts: how many threads, and the reuse of freed memory.

Threads. torch splits each operation across its threads. Work too small to split (the seminar's
batch of one 28x28 image) runs slower on two threads than on one: waking the second thread costs
more than it saves, and far more on a busy machine. `threads()` picks the count for a call from the
work of one step (floating-point operations of one batch through the network, forward), never more
than torch's own setting (`torch.set_num_threads`), and restores torch's setting afterwards. The rule
(`ONE_THREAD_BELOW`) was measured with `bench/threads.py`. Override it with `set_threads(n)` or the
environment variable SELFSUP_THREADS (a whole number; "auto" or unset: the rule). On one thread the
numbers are the same as before the rule: the golden files and the tests use one thread.

Memory. glibc hands large blocks (> 128 KiB) back to the system when they are freed and asks for
fresh pages when they are allocated again, so every training step paid page faults for its
activations and gradients (a third of the time of a seminar-CNN step at batch 64). Freed memory is
kept for reuse instead (`keep_freed_memory`), once per process.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import weakref

import torch
from torch import nn

from . import _validate as v

ENV = "SELFSUP_THREADS"
# One step of fewer floating-point operations than this (forward, one batch) runs on one thread;
# more, on torch's threads. Measured with bench/threads.py on the project's 2-core machine (shared,
# busy): a second thread never paid, from 0.4 MFLOP (MLP, batch 1: 0.04x) through the seminar CNN at
# batch 64 (283 MFLOP: 0.16x) to batch 1024 (4.5 GFLOP: 0.67x, range 0.51-0.91). So the threshold
# sits above the largest work measured; rerun bench/threads.py on an idle many-core machine to lower it.
ONE_THREAD_BELOW = 5e9

_fixed: int | None = None       # set_threads(); None: the environment variable, else the rule


def set_threads(n: int | None = None) -> int | None:
    """Fix the number of CPU threads selfsup trains and predicts with, or (None) choose it per call.

    Parameters
    ----------
    n : int or None, default=None
        Threads for every call from now on; None: per call, one thread for work too small to split
        and torch's setting (`torch.get_num_threads()`) otherwise, unless SELFSUP_THREADS is set.

    Returns
    -------
    The previous setting (int or None), to restore it later.

    Examples
    --------
    >>> before = set_threads(1)
    >>> set_threads(before)
    1
    """
    global _fixed
    previous = _fixed
    _fixed = None if n is None else v.check_int(n, "n")
    return previous


def fixed_threads() -> int | None:
    """The user's fixed thread count: `set_threads()`, else SELFSUP_THREADS, else None (the rule)."""
    if _fixed is not None:
        return _fixed
    value = os.environ.get(ENV, "").strip()
    if value in ("", "auto"):
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"The environment variable {ENV} must be a whole number >= 1 or \"auto\"; got {value!r}.")
    return int(value)


def choose_threads(flops_per_step: float) -> int:
    """Threads for steps of `flops_per_step` operations: the fixed count, else the rule."""
    fixed = fixed_threads()
    if fixed is not None:
        return fixed
    return 1 if flops_per_step < ONE_THREAD_BELOW else torch.get_num_threads()


_flops: "weakref.WeakKeyDictionary[nn.Module, float]" = weakref.WeakKeyDictionary()


def sample_flops(net: nn.Module) -> float:
    """Floating-point operations of the encoder of `net` on one sample, counted by torch on a dummy
    sample of the shape it was built for (as `nets.feature_dim` runs it); inf for a network without a
    spec (then the thread rule leaves torch's setting alone). Cached per network."""
    if net not in _flops:
        spec = getattr(net, "spec", None)
        if spec is None or not hasattr(net, "encoder"):
            return float("inf")
        from torch.utils.flop_counter import FlopCounterMode
        from .nets import eval_mode
        from .nets.layers import channels_first
        counter = FlopCounterMode(display=False)
        with eval_mode(net.encoder), counter:
            net.encoder(torch.zeros(1, *channels_first(spec["encoder"]["input_shape"]),
                                    device=next(net.parameters()).device))
        _flops[net] = float(counter.get_total_flops())
    return _flops[net]


def step_flops(net: nn.Module, batch_size: int) -> float:
    """The work of one step of `batch_size` samples, the quantity the thread rule looks at: the
    encoder's forward FLOPs (tasks with several views of a sample do more; the rule stays cautious)."""
    return sample_flops(net) * batch_size


@contextlib.contextmanager
def threads(device: torch.device, net: nn.Module, batch_size: int):
    """Inside the block torch uses the threads `choose_threads` picks for steps of `batch_size`
    samples through `net` (on the CPU; elsewhere nothing changes); torch's setting is restored after."""
    before = torch.get_num_threads()
    wanted = choose_threads(step_flops(net, batch_size)) if device.type == "cpu" else before
    if wanted != before:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


_kept = False


def keep_freed_memory() -> None:
    """Ask glibc to keep freed blocks of up to 32 MiB for reuse (and up to 256 MiB of free memory at
    the top of the heap) rather than returning them to the system; once per process, no-op elsewhere.

    The numbers do not change, only where memory comes from. The process keeps up to 256 MiB it no
    longer uses (measured, seminar CNN at batch 64: 1.4x faster steps).
    """
    global _kept
    if _kept:
        return
    _kept = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        return
    m_trim_threshold, m_mmap_threshold = -1, -3   # from glibc's malloc.h
    mallopt(m_mmap_threshold, 32 * 2**20)          # glibc's largest allowed threshold
    mallopt(m_trim_threshold, 256 * 2**20)
