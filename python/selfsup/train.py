"""THE training loop. Every learner in selfsup trains through `fit()`.

What varies between learners lives in a small *task* object:

- ``task.batch(x, y, gen) -> (inputs, targets)`` turns a raw device-resident batch into what
  the network sees and what it must predict (for supervised learning: scaled images and labels;
  for a pretext task: e.g. rotated images and their rotation). `gen` is the random stream.
- ``task.loss(outputs, targets) -> scalar`` and ``task.metrics(outputs, targets) -> {name: scalar}``.

The data set lives on the device for the whole fit (uint8 images stay uint8: 4x less memory);
batches are gathered by index from a device-side permutation, so no epoch decodes anything on
the CPU.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .device import generator, resolve_device, seed_everything, use_bf16


@dataclass
class FitSettings:
    """Settings of one call of `fit()`, validated by the public function that builds them."""
    epochs: int = 10
    batch_size: int = 64
    validation_split: float = 0.0
    lr: float = 1e-3            # Adam's step size, keras' default
    seed: int | None = None
    device: str = "auto"
    verbose: bool = True


# ------------------------------------------------------------------------------ data on device
def to_device(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """(n, h, w[, c]) channel-last numpy -> (n, c, h, w) tensor on `device`; (n, f) stays."""
    t = torch.from_numpy(x).to(device)
    if t.ndim == 3:
        return t.unsqueeze(1)
    if t.ndim == 4:
        return t.permute(0, 3, 1, 2).contiguous()
    return t


def as_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> floats in [0, 1]; float inputs are used as given."""
    return x.float().div_(255) if x.dtype == torch.uint8 else x


def split_validation(n: int, validation_split: float) -> int:
    """Number of training samples; like keras, the *last* fraction is held out, before shuffling."""
    return n - int(n * validation_split) if validation_split > 0 else n


# ----------------------------------------------------------------------------- the supervised task
class Classification:
    """Supervised classification: inputs are the images, targets the labels."""

    def batch(self, x, y, gen):
        return as_float(x), y

    def loss(self, outputs, targets):
        return F.cross_entropy(outputs.float(), targets)

    def metrics(self, outputs, targets):
        return {"accuracy": (outputs.argmax(1) == targets).float().mean()}


# ------------------------------------------------------------------------------------ the loop
def fit(net: nn.Module, task, x: np.ndarray, y: np.ndarray | None, settings: FitSettings,
        history: list[dict]) -> list[dict]:
    """Train `net` in place on (x, y) for `settings.epochs`; appends one row per epoch to `history`.

    Inputs already validated. Returns `history`.
    """
    device = resolve_device(settings.device)
    seed = seed_everything(settings.seed)
    gen = generator(seed, device)
    net.to(device)
    params = [p for p in net.parameters() if p.requires_grad]
    if not params:
        raise ValueError("`model` has no trainable weights: every layer is frozen; call unfreeze_weights() first.")
    opt = torch.optim.Adam(params, lr=settings.lr)
    autocast = _autocast(device)

    xs = to_device(x, device)
    ys = None if y is None else torch.from_numpy(y).to(device)
    n_train = split_validation(len(xs), settings.validation_split)
    x_val = xs[n_train:]
    y_val = None if ys is None else ys[n_train:]
    first_epoch = len(history) + 1

    for epoch in range(first_epoch, first_epoch + settings.epochs):
        start = time.perf_counter()
        net.train()
        perm = torch.randperm(n_train, generator=gen, device=device)
        n_batches = -(-n_train // settings.batch_size)
        bar = tqdm(total=n_batches, desc=f"Epoch {epoch}/{first_epoch + settings.epochs - 1}",
                   unit="batch", disable=not settings.verbose, leave=True, dynamic_ncols=True,
                   mininterval=1.0)  # a log file gets one line a second, not one per batch
        sums: dict[str, torch.Tensor] = {}
        for b in range(n_batches):
            idx = perm[b * settings.batch_size:(b + 1) * settings.batch_size]
            inputs, targets = task.batch(xs[idx], None if ys is None else ys[idx], gen)
            # forward / backward / step
            with autocast:
                outputs = net(inputs)
            loss = task.loss(outputs, targets)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            # running sums stay on the device: no sync per batch
            _accumulate(sums, loss.detach(), task.metrics(outputs.detach(), targets), len(idx))
            bar.update()
        row = {"epoch": epoch, **{k: float(v) / n_train for k, v in sums.items()}}
        if len(x_val):
            val = evaluate_task(net, task, x_val, y_val, seed=seed, device=device)
            row.update({f"val_{k}": v for k, v in val.items()})
        history.append(row)
        bar.set_postfix_str(_format_row(row, time.perf_counter() - start))
        bar.close()
    return history


def _accumulate(sums: dict, loss: torch.Tensor, metrics: dict, n: int) -> None:
    for name, value in {"loss": loss, **metrics}.items():
        sums[name] = sums.get(name, 0) + value.float() * n


def _format_row(row: dict, seconds: float) -> str:
    parts = [f"{k}={v:.4f}" for k, v in row.items() if k != "epoch"]
    return f"{seconds:.1f}s " + " ".join(parts)


def _autocast(device: torch.device):
    if use_bf16(device):
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


# ------------------------------------------------------------------------------ inference
@torch.no_grad()
def evaluate_task(net: nn.Module, task, x, y, seed: int, device: torch.device,
                  batch_size: int = 1024) -> dict[str, float]:
    """Mean loss and metrics of `task` over (x, y), in eval mode; restores train mode after.

    `x`, `y` are device tensors (from `to_device`) or validated numpy arrays. `seed` fixes the
    random pseudo-labels of pretext tasks so repeated evaluations compare.
    """
    x = to_device(x, device) if isinstance(x, np.ndarray) else x
    y = torch.from_numpy(y).to(device) if isinstance(y, np.ndarray) else y
    was_training = net.training
    net.eval()
    gen = generator(seed, device)
    sums: dict[str, torch.Tensor] = {}
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size]
        inputs, targets = task.batch(xb, None if y is None else y[start:start + batch_size], gen)
        with _autocast(device):
            outputs = net(inputs)
        _accumulate(sums, task.loss(outputs, targets), task.metrics(outputs, targets), len(xb))
    net.train(was_training)
    return {k: float(v) / len(x) for k, v in sums.items()}


@torch.no_grad()
def forward_all(module: nn.Module, x: np.ndarray, device: torch.device, batch_size: int = 1024) -> torch.Tensor:
    """`module` applied to every sample of `x` (floats scaled as in training), in eval mode, on the CPU."""
    xs = to_device(x, device)
    was_training = module.training
    module.eval()
    module.to(device)
    outs = []
    for start in range(0, len(xs), batch_size):
        with _autocast(device):
            outs.append(module(as_float(xs[start:start + batch_size])).float().cpu())
    module.train(was_training)
    return torch.cat(outs)
