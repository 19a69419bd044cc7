"""Out of memory: say which argument to lower, and to what, instead of torch's allocator text.

torch says "DefaultCPUAllocator: can't allocate memory: you tried to allocate 40140800000 bytes"
(CPU) or "CUDA out of memory. Tried to allocate 37.38 GiB ..." (GPU). `explains_out_of_memory`
wraps a function that moves data to the device and runs it in batches (the training loop,
`forward_all`) and turns that into "`batch_size` = 512 needs about 37 GB more than the 11 GB free:
lower `batch_size`; about 128 should fit" or, when the data themselves do not fit on the device,
names the data and how many samples would fit.

The estimate assumes memory grows in proportion to the batch (activations do) and that only the
free memory can be had: a batch of `batch_size * free / needed`, halved for everything else a
step allocates, rounded down to a power of two. It errs on the small side.
"""
from __future__ import annotations

import functools
import inspect
import re
import traceback

import numpy as np
import torch

from .device import resolve_device

_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
_PATTERNS = (re.compile(r"tried to allocate (\d+) bytes"),                        # torch, CPU
             re.compile(r"[Tt]ried to allocate ([\d.]+) (B|KiB|MiB|GiB|TiB)"),    # torch, CUDA
             re.compile(r"Unable to allocate ([\d.]+) (B|KiB|MiB|GiB|TiB)"))      # numpy


class OutOfMemory(MemoryError):
    """Out of memory, with the argument to lower and a value that should fit."""


def requested_bytes(err: BaseException) -> int | None:
    """The size of the allocation that failed, from torch's (or numpy's) message; None when `err`
    is not an out-of-memory error; 0 when it is one that does not say the size."""
    text = str(err)
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            unit = _UNITS[match.group(2)] if match.lastindex == 2 else 1
            return int(float(match.group(1)) * unit)
    if isinstance(err, (torch.OutOfMemoryError, MemoryError)) or "out of memory" in text.lower():
        return 0
    return None


def free_bytes(device: torch.device) -> int:
    """Memory that could still be had on `device` (GPU: free plus torch's cached free blocks)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device))
    try:
        with open("/proc/meminfo") as fh:
            info = dict(line.split(":", 1) for line in fh)
        return int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0


def explains_out_of_memory(fn):
    """Decorate a function with arguments (`xs` or `x`) and (`settings` or `batch_size`, `device`)."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (RuntimeError, MemoryError) as err:
            need = requested_bytes(err)
            if need is None or isinstance(err, OutOfMemory):
                raise
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            message = _message(err, need, bound.arguments)
            # The traceback's frames hold the failed step's tensors (activations, batches) as locals;
            # clear them so the memory is back while the user still holds our error (whose cause,
            # torch's text and line numbers, stays).
            traceback.clear_frames(err.__traceback__)
            raise OutOfMemory(message) from err
    return wrapper


def _message(err: BaseException, need: int, arguments: dict) -> str:
    settings = arguments.get("settings")
    batch_size = settings.batch_size if settings is not None else arguments["batch_size"]
    device = resolve_device(settings.device) if settings is not None else torch.device(arguments["device"])
    xs = arguments.get("xs") or [arguments["x"]]
    free = free_bytes(device)
    where = f"Out of memory on the {'GPU' if device.type == 'cuda' else 'CPU'}"
    other = ' or device="cpu"' if device.type == "cuda" else ""
    if _during(err, "to_device"):
        n, size = len(xs[0]), sum(np.asarray(x).nbytes for x in xs)
        fit = int(n * free * 0.8 / max(size, 1))
        return (f"{where} while moving the data there: `x` ({n:,} samples, {_gb(size)}{_times(xs)}) needs more "
                f"than the {_gb(free)} free. Use fewer samples (about {fit:,} should fit){other}, or let them "
                f"stream through in chunks (ssl_pretrain's `device_budget`, e.g. {int(free * 0.5):,} bytes).")
    if need == 0:
        return (f"{where} while running a batch of `batch_size` = {batch_size} ({_gb(free)} free). Lower "
                f"`batch_size`; half, {max(batch_size // 2, 1)}, may fit{other}.")
    fit = _pow2_floor(batch_size * free * 0.5 / need)
    head = f"{where}: a batch of `batch_size` = {batch_size} needs {_gb(need)} more than the {_gb(free)} free."
    if fit < 1:
        return (f"{head} Even `batch_size` = 1 needs about {_gb(need / batch_size)}: use smaller inputs or a "
                f"smaller network{other}.")
    return f"{head} Lower `batch_size`: about {min(fit, max(batch_size // 2, 1))} should fit{other}."


def _during(err: BaseException, function: str) -> bool:
    return any(frame.f_code.co_name == function for frame, _ in traceback.walk_tb(err.__traceback__))


def _pow2_floor(x: float) -> int:
    return 0 if x < 1 else 2 ** int(np.floor(np.log2(x)))


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB" if n >= 1e8 else f"{n / 1e6:.3g} MB"


def _times(xs: list) -> str:
    return f", for {len(xs)} models side by side" if len(xs) > 1 else ""
