"""Device choice, seeding and determinism.

selfsup never reseeds the caller's global random generators (Python's `random`, numpy's, torch's):
every random draw comes from a generator of its own made from the call's seed (`generator`), and
the few draws torch makes from its global generator (weight init inside torch.nn layers, the
dropout of nn.MultiheadAttention) happen inside `torch_seeded`, which restores it afterwards.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import check_choice, check_seed

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto") -> torch.device:
    """"auto" takes the GPU when there is one; "cuda" without a GPU is an error, not a fallback.

    A GPU is the current CUDA device, by index (torchrun's ranks set theirs from LOCAL_RANK with
    torch.cuda.set_device; `distributed.init`), never an assumed cuda:0.
    """
    check_choice(device, "device", DEVICES)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise ValueError('`device` is "cuda" but no CUDA GPU is available here; use device="cpu" or "auto".')
    return torch.device("cuda", torch.cuda.current_device()) if device == "cuda" else torch.device(device)


def resolve_seed(seed: int | None) -> int:
    """`seed` checked, or a fresh one drawn from the OS when it is None.

    Everything random in a call derives from this one number, so the same seed gives the same
    weights, batches and dropout masks on the CPU, from Python or from R.
    """
    seed = check_seed(seed)
    return int(np.random.SeedSequence().entropy % (2**31)) if seed is None else seed


@contextlib.contextmanager
def torch_seeded(seed: int, device: torch.device | None = None):
    """Inside the block torch's global generator -- the CPU's, and `device`'s when it is a GPU -- is
    seeded with `seed`; afterwards it is back in the state the caller left it in."""
    gpus = []
    if device is not None and device.type == "cuda":
        gpus = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=gpus):
        torch.default_generator.manual_seed(seed)   # what torch.manual_seed does for the CPU
        for index in gpus:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def generator(seed: int, device: torch.device) -> torch.Generator:
    """A private random stream on `device` (batch order, augmentations, pseudo-labels)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def use_bf16(device: torch.device) -> bool:
    """bf16 autocast pays on recent GPUs; the CPU path stays in float32 so results are exact."""
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def autocast(device: torch.device):
    """The mixed-precision context of forward passes on `device`: bf16 on GPUs that have it, else none."""
    if use_bf16(device):
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass(frozen=True)
class DeviceInfo:
    """Which device training will use, and why (from `selfsup_device()`).

    device : str, "cpu" or "cuda:<index>" (the current CUDA device); reason : str, one sentence; torch : str, torch's version;
    cuda : str or None, the CUDA version torch was built for (None: a CPU-only build);
    gpus : list of str, the GPUs torch sees; threads : int, torch's CPU threads; bf16 : bool,
    whether training autocasts to bfloat16 (recent GPUs only; the CPU stays float32, exact).
    """
    device: str
    reason: str
    torch: str
    cuda: str | None
    gpus: list
    threads: int
    bf16: bool

    def __repr__(self) -> str:
        return f"<selfsup device: {self.device}; {self.reason}>"


def selfsup_device(device: str = "auto") -> DeviceInfo:
    """The device that ``device=`` (default "auto") resolves to for training, and why.

    Examples
    --------
    >>> selfsup_device("cpu").device
    'cpu'
    """
    chosen = resolve_device(device)   # checks `device`; "cuda" without a GPU raises here
    gpus = ([torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            if torch.cuda.is_available() else [])
    if chosen.type == "cuda":
        why = (f'device="{device}" takes the GPU: torch sees {len(gpus)} CUDA GPU(s) and trains on '
               f"{gpus[chosen.index]}" + (" with bfloat16 autocast" if use_bf16(chosen) else ""))
    elif device == "cpu":
        why = 'device="cpu" was asked for' + (f" (a GPU is available: {gpus[0]})" if gpus else "")
    elif torch.version.cuda is None:
        why = ('device="auto" found no GPU: this torch is a CPU-only build (install a CUDA build of torch '
               "to train on an NVIDIA GPU)")
    else:
        why = (f'device="auto" found no GPU: torch is built for CUDA {torch.version.cuda} but sees no device '
               "(no NVIDIA driver or GPU visible, or CUDA_VISIBLE_DEVICES hides it)")
    if chosen.type == "cpu":
        why += f"; training runs on the CPU with {torch.get_num_threads()} thread(s), in float32"
    return DeviceInfo(str(chosen), why, torch.__version__.split("+")[0], torch.version.cuda, gpus,
                      torch.get_num_threads(), use_bf16(chosen))
