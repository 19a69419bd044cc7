"""The training loop's settings (`FitSettings`) and their one check (`fit_settings`), shared by every
public function that trains through `train.fit`. Defaults live in the dataclass, the checks here,
with how `validation_split` splits the samples (`split_validation`, `check_validation_split`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import _validate as v
from . import distributed
from .device import resolve_device, resolve_seed


@dataclass
class FitSettings:
    """Settings of one call of `train.fit()`, validated by `fit_settings()`."""
    epochs: int = 10
    batch_size: int = 64
    validation_split: float = 0.0
    lr: float = 1e-3            # Adam's step size, keras' default
    seed: int | None = None     # None: drawn by the loop (fit_settings() always draws it first)
    device: str = "auto"
    verbose: bool = True
    # The defaults are keras' (the seminar's recipe); the others serve recipes such as FixMatch's.
    optimizer: str = "adam"     # "adam", or "sgd": SGD with Nesterov momentum 0.9
    weight_decay: float = 0.0   # L2 penalty on kernels (weights of 2+ dims), not on biases or norms
    schedule: str = "constant"  # "cosine": lr * (1 + cos(pi * step / steps)) / 2 over the fit's steps
    ema: float = 0.0            # decay of a moving average of the weights (0: none); see train.WeightAverage
    device_budget: int | None = None    # bytes of data kept on the device at once; more streams in chunks


OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "cosine")


def fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose, optimizer="adam",
                 weight_decay=0.0, schedule="constant", ema=0.0) -> FitSettings:
    """Validated settings of the training loop, shared by every public fit function.

    A `seed` of None is drawn here, once, so that the caller can build the model from the same seed
    the loop trains with, and record it (`Model.seed`): a fit with seed=None can be repeated.
    """
    resolve_device(device)  # fail now, not after the data moved
    return FitSettings(
        epochs=v.check_int(epochs, "epochs"),
        batch_size=v.check_int(batch_size, "batch_size"),
        validation_split=v.check_fraction(validation_split, "validation_split"),
        lr=v.check_number(lr, "lr", 0.0, None, low_inclusive=False),
        seed=_shared_seed(seed),
        device=device,
        verbose=bool(verbose),
        optimizer=v.check_choice(optimizer, "optimizer", OPTIMIZERS),
        weight_decay=v.check_number(weight_decay, "weight_decay", 0.0, None),
        schedule=v.check_choice(schedule, "schedule", SCHEDULES),
        ema=v.check_number(ema, "ema", 0.0, 1.0, high_inclusive=False),
    )


def _shared_seed(seed) -> int:
    """`seed` checked, or drawn now; under torchrun rank 0's draw, so that all ranks build the same model."""
    drawn = resolve_seed(seed)
    return drawn if seed is not None else distributed.agree([drawn], distributed.world())[0]


def split_validation(n: int, validation_split: float) -> int:
    """Number of training samples; like keras, the *last* int(n * validation_split) are held out,
    before shuffling. Always at least 1, as validation_split < 1."""
    return n - int(n * validation_split) if validation_split > 0 else n


def check_validation_split(validation_split: float, n: int, what: str = "samples") -> None:
    """A `validation_split` above 0 must hold out at least one of the `n` samples (keras refuses the
    same); otherwise the fit would run without the validation the user asked for, silently."""
    if validation_split == 0 or split_validation(n, validation_split) < n:
        return
    if n < 2:
        raise ValueError(f"`validation_split` {validation_split} holds out none of the {n} {what}: a single sample "
                         "cannot be split; use validation_split=0.")
    least = math.ceil(100 / n) / 100
    while split_validation(n, least) == n:  # guard against float rounding
        least += 0.01
    raise ValueError(f"`validation_split` {validation_split} holds out none of the {n} {what} (the last "
                     f"int({n} * {validation_split}) = 0 are held out); use at least {least:.2f}, or 0 for no "
                     "validation.")
