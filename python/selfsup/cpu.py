"""CPU settings of a call that trains or predicts: how many threads, and the reuse of freed memory.

Threads. torch splits each operation across its threads. Work too small to split (the seminar's
batch of one 28x28 image) runs slower on two threads than on one: waking the second thread costs
more than it saves, and far more on a busy machine. `threads()` picks the count for a call from the
work of one step (floating-point operations of one batch through the network, forward), never more
than torch's own setting (`torch.set_num_threads`), and restores torch's setting afterwards. The rule
(`ONE_THREAD_BELOW`) was measured with `bench/threads.py` on an idle machine. Override it with
`set_threads(n)` or the environment variable SELFSUP_THREADS (a whole number; "auto" or unset: the
rule); on a machine busy with other work, `set_threads(1)` is faster. Models trained side by side
whose steps the rule puts on one thread share torch's threads instead, a group each (`lanes.py`;
not with a fixed count). Results on several threads differ
from one thread's in the last bits (other summation orders), so they depend on the thread count; on
one thread they are the same as before the rule: the golden files and the tests use one thread.

BLAS threads. scikit-learn's fits in selfsup (the linear probe's logistic regressions) spend their time
in small matrix products through OpenBLAS, which splits each across all the cores it sees. On the
project's 2-core machine one BLAS thread was faster at every size measured (`bench/threads.py --probe
150,1000`, idle: the probe with C tuned on 3,136 pool2 features of 150 / 1,000 samples, 3.5 s vs 16.5 s
and 10.6 s vs 28.9 s; 10,000 samples, a one-off run: 153 s vs 304 s), and far faster beside other work
(two probes at once, 1,000 samples: 16 s vs 128 s each). `blas_threads()` gives those fits one BLAS
thread, or the user's fixed count (`set_threads`, SELFSUP_THREADS).

Evaluation chunks. Predicting or scoring many samples at once (`batch_size` 1024 by default) makes
tensors of hundreds of MiB, which glibc maps fresh from the system for every chunk and returns
after it: the page faults cost more than the forward pass (seminar CNN, 10,000 test images: 3.6 s
at 1024 per chunk, 2.4 s of it in the kernel, vs 1.2 s at 128). `eval_chunk` caps a chunk on the CPU
so that its largest tensor stays in reused memory.

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
from torch.overrides import TorchFunctionMode

from . import _validate as v

ENV = "SELFSUP_THREADS"
# One step of fewer floating-point operations than this (forward, one batch) runs on one thread;
# more, on torch's threads. Measured with bench/threads.py on the project's 2-core machine, idle
# (t1/t2, time on one thread over time on two): a second thread paid (>= 1.1x) from about 0.1 GFLOP
# (seminar CNN batch 32, 141 MFLOP: 1.13x; batch 64: 1.33x; batch 256: 1.58x; MLP batch 256, 103
# MFLOP: 1.11x) and lost below (seminar CNN batch 16, 71 MFLOP: 0.96x; MLP batch 1: 0.49x). On the
# same machine busy with other jobs (load 11) a second thread never paid, up to 4.5 GFLOP.
ONE_THREAD_BELOW = 1e8
# On the CPU an evaluation chunk keeps its largest tensor below this (glibc maps blocks of 32 MiB and
# more fresh from the system, `keep_freed_memory`; half of it leaves room for the kernels' scratch).
EVAL_CHUNK_BYTES = 16 * 2**20

_fixed: int | None = None       # set_threads(); None: the environment variable, else the rule


def set_threads(n: int | None = None) -> int | None:
    """Fix the number of CPU threads selfsup trains and predicts with, or (None) choose it per call.

    Parameters
    ----------
    n : int or None, default=None
        Threads for every call from now on; None: per call, one thread for work too small to split
        and torch's setting (`torch.get_num_threads()`) otherwise, unless SELFSUP_THREADS is set.
        The linear probe's BLAS threads follow it too (`blas_threads`; one when None).

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


_costs: "weakref.WeakKeyDictionary[nn.Module, tuple[float, float]]" = weakref.WeakKeyDictionary()


def sample_cost(net: nn.Module) -> tuple[float, float]:
    """(floating-point operations, bytes of the largest tensor) of the encoder of `net` on one sample,
    from one forward pass on a dummy sample of the shape it was built for (as `nets.feature_dim` runs
    it); (inf, inf) for a network without a spec (then the rules leave torch's settings alone). Cached
    per network."""
    if net not in _costs:
        spec = getattr(net, "spec", None)
        if spec is None or not hasattr(net, "encoder"):
            return float("inf"), float("inf")
        from torch.utils.flop_counter import FlopCounterMode
        from .nets import eval_mode
        from .nets.layers import channels_first
        counter, sizes = FlopCounterMode(display=False), _LargestOutput()
        with eval_mode(net.encoder), counter, sizes:
            net.encoder(torch.zeros(1, *channels_first(spec["encoder"]["input_shape"]),
                                    device=next(net.parameters()).device))
        _costs[net] = float(counter.get_total_flops()), float(sizes.largest)
    return _costs[net]


class _LargestOutput(TorchFunctionMode):
    """Bytes of the largest tensor with a leading dimension of 1 (a batch of one sample; not a weight)
    that an operation makes inside the block (`largest`)."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor) and t.dim() and t.shape[0] == 1:
                self.largest = max(self.largest, t.numel() * t.element_size())
        return out


def sample_flops(net: nn.Module) -> float:
    """Floating-point operations of the encoder of `net` on one sample (`sample_cost`)."""
    return sample_cost(net)[0]


def eval_chunk(device: torch.device, net: nn.Module, batch_size: int) -> int:
    """Samples per forward pass when evaluating `net` `batch_size` at a time: on the CPU at most as
    many as keep the largest tensor under EVAL_CHUNK_BYTES (at least one), elsewhere `batch_size`.
    Chunks of another size predict the same up to float32 rounding (a kernel may sum in another order
    at another batch size), so losses and probabilities may differ in the last bits."""
    if device.type != "cpu":
        return batch_size
    largest = sample_cost(net)[1]
    if largest == float("inf"):
        return batch_size
    return max(1, min(batch_size, int(EVAL_CHUNK_BYTES // max(largest, 1.0))))


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


@contextlib.contextmanager
def blas_threads():
    """Inside the block BLAS (numpy's, scipy's) runs on the user's fixed thread count, else on one
    thread (see the module's docstring); its settings are restored after."""
    from threadpoolctl import threadpool_limits    # a dependency of scikit-learn
    with threadpool_limits(fixed_threads() or 1, user_api="blas"):
        yield


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
