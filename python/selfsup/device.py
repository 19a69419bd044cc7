"""Device choice, seeding and determinism."""
from __future__ import annotations

import contextlib
import random

import numpy as np
import torch

from ._validate import check_choice, check_seed

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto") -> torch.device:
    """"auto" takes the GPU when there is one; "cuda" without a GPU is an error, not a fallback."""
    check_choice(device, "device", DEVICES)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError('`device` is "cuda" but no CUDA GPU is available here; use device="cpu" or "auto".')
    return torch.device(device)


def seed_everything(seed: int | None) -> int:
    """Seed torch, numpy and random; returns the seed used (drawn when `seed` is None).

    Everything random in selfsup derives from this one number, so the same seed gives the
    same weights, batches and dropout masks on the CPU, from Python or from R.
    """
    seed = resolve_seed(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return seed


def resolve_seed(seed: int | None) -> int:
    """`seed` checked, or a fresh one drawn from the OS when it is None."""
    seed = check_seed(seed)
    return int(np.random.SeedSequence().entropy % (2**31)) if seed is None else seed


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
