"""THE training loop. Every learner in selfsup trains through `fit()`.

What varies between learners lives in a small *task* object:

- ``task.batch(x, y, gen) -> (inputs, targets)`` turns a raw device-resident batch into what
  the network sees and what it must predict (for supervised learning: scaled images and labels;
  for a pretext task: e.g. rotated images and their rotation). `gen` is the random stream.
- ``task.loss(outputs, targets) -> scalar`` and ``task.metrics(outputs, targets) -> {name: scalar}``.

The data set lives on the device for the whole fit (uint8 images stay uint8: 4x less memory);
batches are gathered by index from a device-side permutation, so no epoch decodes anything on
the CPU. Data larger than `FitSettings.device_budget` stream through the device in chunks
instead, giving the same batches (`feed.py`). Under torchrun the same loop trains data-parallel
with DDP: each rank runs the network on its share of every global batch (`distributed.py`).
"""
from __future__ import annotations

import contextlib
import copy
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import cpu, distributed, progress
from .device import autocast, generator, resolve_device, resolve_seed, torch_seeded
from .distributed import World
from .epoch import Epoch
from .feed import Feed, to_device
from .lanes import Lanes, lane_count
from .loss_guard import LossGuard
from .memory import explains_out_of_memory
from .nets import eval_mode
from .nets.layers import Dropout, MaskPrefetch
from .settings import FitSettings, split_validation


# ------------------------------------------------------------------------------ data on device
def as_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> floats in [0, 1]; float inputs are used as given."""
    return x.float().div_(255) if x.dtype == torch.uint8 else x


# ----------------------------------------------------------------------------- the supervised task
class ClassificationLoss:
    """Loss and metrics of a task whose targets are classes (supervised classification and the
    classification pretext tasks): cross-entropy, accuracy. outputs (B, k) logits, targets (B,)."""

    def loss(self, outputs, targets):
        return F.cross_entropy(outputs.float(), targets)

    def metrics(self, outputs, targets):
        return {"accuracy": (outputs.argmax(1) == targets).float().mean()}


class Classification(ClassificationLoss):
    """Supervised classification: inputs are the images, targets the labels."""

    per_sample = True     # each sample scored alone: evaluation may run it in chunks of any size

    def batch(self, x, y, gen):
        return as_float(x), y


# ------------------------------------------------------------------------------------ the loop
def fit(net: nn.Module, task, x: np.ndarray, y: np.ndarray | None, settings: FitSettings,
        history: list[dict], world: World | None = None) -> list[dict]:
    """Train `net` in place on (x, y) for `settings.epochs`; appends one row per epoch to `history`.

    Inputs already validated. `world`: None finds it (data-parallel under torchrun). Returns `history`.
    """
    fit_side_by_side([net], task, [x], [y], [settings.seed], settings, [history], world)
    return history


@dataclass
class _Run:
    """One model in training: its network, its data (on the device, or streamed) and its random stream."""
    net: nn.Module
    data: Feed
    seed: int
    gen: torch.Generator          # batch order, pseudo-labels and dropout masks, in that order
    history: list[dict]
    forward: nn.Module            # `net`, or its DDP wrapper (data-parallel)
    sums: dict = field(default_factory=dict)
    ema: "WeightAverage | None" = None


@explains_out_of_memory
def fit_side_by_side(nets: list[nn.Module], task, xs: list[np.ndarray], ys: list[np.ndarray | None],
                     seeds: list[int | None], settings: FitSettings, histories: list[list[dict]],
                     world: World | None = None) -> None:
    """Train independent models in lockstep: every step runs each model on its own batch, then one
    backward pass and one optimizer step update them all (on the CPU, when one model's step runs on one
    thread, each of torch's threads steps its own group of the models: `lanes.py`).

    Model i gets exactly what it would get trained alone with seed `seeds[i]`: its batches, dropout
    masks and pseudo-labels come from its own stream in the same order, its layers run the same
    kernels on the same shapes, and Adam updates each weight tensor on its own. So side by side and
    one after another give identical weights and histories (tests/test_replicates.py), as long as
    nothing draws from torch's global generator (seeded with the first seed for the fit, and restored
    afterwards). All models need
    the same number of samples. Inputs already validated.

    Data-parallel (`world.parallel`, under torchrun): each rank makes every global batch and runs
    its models, wrapped in DDP, on its share of it; see `distributed.py` for what that keeps equal.
    """
    if len({len(x) for x in xs}) != 1:
        raise ValueError("models trained side by side need the same number of samples each.")
    world = distributed.world() if world is None else world
    device = resolve_device(settings.device)
    n_train = split_validation(len(xs[0]), settings.validation_split)
    plan = distributed.plan(n_train, settings.batch_size, world)       # checked before any data moves
    seeds = distributed.agree([resolve_seed(seed) for seed in seeds], world)
    runs = [_Run(net.to(device), Feed(x, y, device, settings.device_budget), seed, generator(seed, device), history,
                 distributed.wrap(net, device, world))
            for net, x, y, seed, history in zip(nets, xs, ys, seeds, histories, strict=True)]
    params = [_trainable(run.net) for run in runs]
    for run in runs:
        run.ema = WeightAverage(run.net, settings.ema) if settings.ema > 0 else None
    mixed = autocast(device)
    first_epoch = len(runs[0].history) + 1
    last_epoch = first_epoch + settings.epochs - 1
    n_batches = plan.steps
    step, n_steps = 0, settings.epochs * n_batches
    guard = LossGuard([run.net for run in runs], settings.lr, world)   # one verdict on every rank

    with contextlib.ExitStack() as stack:
        # torch's global generator is seeded for the fit and restored after it (MultiheadAttention's
        # dropout draws from it); everything else draws from each model's own stream.
        stack.enter_context(torch_seeded(seeds[0], device))
        # threads for the work of one model's step (the same alone or side by side, so the same numbers);
        # models whose steps run on one thread are shared among the threads torch has (`lanes.py`)
        available = torch.get_num_threads()
        step_threads = stack.enter_context(cpu.threads(device, runs[0].net, min(settings.batch_size, n_train)))
        lanes = stack.enter_context(Lanes(lane_count(device, [run.net for run in runs], world.parallel, step_threads,
                                                     available), len(runs)))
        opts = [make_optimizer([p for ps in params[part] for p in ps], settings) for part in lanes.parts]
        if device.type == "cpu":
            cpu.keep_freed_memory()
        for run in runs:
            stack.enter_context(_dropout_stream(run.net, run.gen, ahead=device.type == "cpu" and not world.parallel))
        rep = stack.enter_context(progress.reporter(settings.verbose and world.main))
        for epoch in range(first_epoch, last_epoch + 1):
            desc = f"Epoch {epoch}/{last_epoch}" + _models(runs) + _ranks(world)
            ep = Epoch(rep, guard, desc, n_batches, [run.history for run in runs])
            batches = []
            for run in runs:
                run.net.train()
                run.sums = {}
                perm = torch.randperm(n_train, generator=run.gen, device=device)
                batches.append(run.data.batches(perm, plan.offsets))
            try:
                for b, xys in enumerate(zip(*batches)):
                    for opt in opts:
                        set_lr(opt, settings, step, n_steps)
                    with distributed.lost_contact(world, f"training (epoch {epoch}, step {b + 1} of {n_batches})"):
                        losses = torch.cat(lanes.run(lambda k: _advance(
                            runs[lanes.parts[k]], opts[k], xys[lanes.parts[k]], task, plan.shares[b], plan.weights[b],
                            mixed, world)))
                    step += 1
                    ep.step(losses)
                ep.check(epoch)  # stops at a NaN/Inf loss, back to the weights from before the epoch
                rows = [_end_epoch(run, task, n_train, device, world) for run in runs]
            except KeyboardInterrupt:  # Ctrl-C: keep what the epoch did, say so, and stop
                ep.interrupted([run.sums for run in runs], min(ep.done * settings.batch_size, n_train))
                _copy_averages(runs)
                raise
            ep.finish(rows)
    _copy_averages(runs)


def _copy_averages(runs: list) -> None:
    for run in runs:
        if run.ema is not None:  # the fit returns the averaged weights, as the papers evaluate them
            run.ema.copy_to(run.net)


def make_optimizer(params: list[nn.Parameter], settings: FitSettings,
                   decayed: list[bool] | None = None) -> torch.optim.Optimizer:
    """The optimizer of `settings` over `params`; weight decay only where `decayed` (one flag per
    parameter) says, by default on the kernels (2+ dims): a network whose biases have 2+ dims (the
    grouped network's (R, out)) must say which are its kernels.

    fused: one kernel per weight tensor for the whole update; elementwise, so a tensor's update does
    not depend on which other tensors share the call (3x faster than the loop on the CPU).
    """
    groups: list = params
    if decayed is None:
        decayed = [p.ndim > 1 for p in params]
    if settings.weight_decay > 0:  # as FixMatch's and SimCLR's code: biases and norms are not decayed
        groups = [{"params": [p for p, d in zip(params, decayed, strict=True) if d],
                   "weight_decay": settings.weight_decay},
                  {"params": [p for p, d in zip(params, decayed, strict=True) if not d], "weight_decay": 0.0}]
    if settings.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=settings.lr, momentum=0.9, nesterov=True, fused=True)
    return torch.optim.Adam(groups, lr=settings.lr, fused=True)


def set_lr(opt: torch.optim.Optimizer, settings: FitSettings, step: int, n_steps: int) -> None:
    """Learning rate of step `step` (0-based) of `n_steps`; "constant" leaves it untouched."""
    if settings.schedule == "cosine":
        lr = settings.lr * 0.5 * (1 + math.cos(math.pi * step / n_steps))
        for group in opt.param_groups:
            group["lr"] = lr


class WeightAverage:
    """An exponential moving average of a network's weights (Polyak averaging, as FixMatch and
    Mean Teacher use it): after update t (0, 1, ...) avg <- d * avg + (1 - d) * weights with
    d = min(decay, (1 + t) / (10 + t)), for the parameters and the float buffers (batch-norm
    statistics); integer buffers are copied. The warm-up of d is TensorFlow's ExponentialMovingAverage
    with num_updates: without it a short fit ends with weights still half the random start (measured:
    0.115 test accuracy after 90 steps with decay 0.99, vs 0.67 without averaging).

    `net` is the averaged network, in eval mode and without gradients: a teacher a task can ask for
    pseudo-labels (`task.uses_teacher` == "ema"), and the weights the fit ends with.
    """

    def __init__(self, net: nn.Module, decay: float):
        self.decay, self.updates = decay, 0
        self.net = copy.deepcopy(net).eval()
        for p in self.net.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        for avg, new in zip(self.net.state_dict().values(), net.state_dict().values(), strict=True):
            if avg.dtype.is_floating_point:
                avg.lerp_(new, 1 - d)
            else:
                avg.copy_(new)

    @torch.no_grad()
    def copy_to(self, net: nn.Module) -> None:
        for avg, new in zip(self.net.state_dict().values(), net.state_dict().values(), strict=True):
            new.copy_(avg)


def _trainable(net: nn.Module) -> list[nn.Parameter]:
    params = [p for p in net.parameters() if p.requires_grad]
    if not params:
        raise ValueError("`model` has no trainable weights: every layer is frozen; call unfreeze_weights() first.")
    return params


@contextlib.contextmanager
def _dropout_stream(net: nn.Module, gen: torch.Generator, ahead: bool):
    """Dropout layers of `net` draw their masks from `gen` while training; with `ahead` (one process on
    the CPU) a worker thread draws them while each pass runs (`MaskPrefetch`: the same masks)."""
    layers = [m for m in net.modules() if isinstance(m, Dropout)]
    prefetch = MaskPrefetch(gen) if ahead and layers else None
    hook = net.register_forward_pre_hook(prefetch.start) if prefetch else None
    for layer in layers:
        layer.generator, layer.prefetch = gen, prefetch
    try:
        yield
    finally:
        if hook is not None:
            hook.remove()
        for layer in layers:
            layer.generator = layer.prefetch = None


def _advance(runs: list[_Run], opt: torch.optim.Optimizer, xys, task, share, weight: float, mixed,
             world: World) -> torch.Tensor:
    """One step of `runs`' models, each on its batch in `xys`: one backward pass, one update of `opt`
    (theirs); (len(runs),) losses."""
    losses = torch.stack([_step_forward(run, task, xb, yb, share, weight, mixed, world)
                          for run, (xb, yb) in zip(runs, xys, strict=True)])
    losses.sum().backward()  # each model's gradient is its own loss's
    opt.step()
    opt.zero_grad(set_to_none=True)
    for run in runs:
        if run.ema is not None:
            run.ema.update(run.net)
    return losses


def _step_forward(run: _Run, task, xb, yb, share, weight: float, mixed, world: World) -> torch.Tensor:
    """Loss of one model on its next batch (xb, yb); running sums stay on the device (no sync per batch).

    Data-parallel, (xb, yb) is the global batch: this rank runs the network on its samples `share`
    of it and scales the loss by `weight` (`distributed.share`); one process: share None, weight 1.
    """
    with distributed.step(world, share, len(xb), weight):
        teacher = getattr(task, "uses_teacher", None)   # FixMatch's pseudo-labels: from "ema" or "model" weights
        if teacher:
            made = task.batch(xb, yb, run.gen, teacher=run.ema.net if teacher == "ema" else run.net)
        else:
            made = task.batch(xb, yb, run.gen)
        inputs, targets = distributed.select(task, *made)
        with mixed:
            outputs = run.forward(inputs)
        loss = task.loss(outputs, targets)
        n = len(xb) if share is None else len(share) * (weight > 0)
        _accumulate(run.sums, loss.detach(), task.metrics(outputs.detach(), targets), n)
    return loss if weight == 1 else loss * weight


def _end_epoch(run: _Run, task, n_train: int, device: torch.device, world: World) -> dict:
    """The epoch's history row: training means, then validation on the held-out last samples."""
    sums = distributed.sum_over_ranks(run.sums, world)
    row = {"epoch": len(run.history) + 1, **{k: float(v) / n_train for k, v in sums.items()}}
    if n_train < len(run.data):
        x_val, y_val = run.data.part(n_train)
        net = run.ema.net if run.ema is not None else run.net   # the weights the fit will end with
        val = evaluate_task(net, task, x_val, y_val, seed=run.seed, device=device, world=world)
        row.update({f"val_{k}": v for k, v in val.items()})
    run.history.append(row)
    return row


def _models(runs: list) -> str:
    return f" ({len(runs)} models side by side)" if len(runs) > 1 else ""


def _ranks(world: World) -> str:
    return f" [{world.size} ranks]" if world.parallel else ""


def _accumulate(sums: dict, loss: torch.Tensor, metrics: dict, n: int) -> None:
    for name, value in {"loss": loss, **metrics}.items():
        sums[name] = sums.get(name, 0) + value.float() * n


# ------------------------------------------------------------------------------ inference
def evaluate_task(net: nn.Module, task, x, y, seed: int, device: torch.device,
                  batch_size: int = 1024, world: World = distributed.SINGLE) -> dict[str, float]:
    """Mean loss and metrics of `task` over (x, y), in eval mode; restores train mode after.

    `x`, `y` are device tensors (from `to_device`), a `feed.HostView`, or validated numpy arrays.
    `seed` fixes the random pseudo-labels of pretext tasks so repeated evaluations compare.
    Data-parallel (`world`): each rank runs the network on its share of every batch, as in training.
    """
    x = to_device(x, device) if isinstance(x, np.ndarray) else x
    y = torch.from_numpy(y).to(device) if isinstance(y, np.ndarray) else y
    gen = generator(seed, device)
    sums: dict[str, torch.Tensor] = {}
    if getattr(task, "per_sample", False):  # pretext tasks draw labels per chunk; SimCLR scores a chunk together
        batch_size = cpu.eval_chunk(device, net, batch_size)
    with eval_mode(net), cpu.threads(device, net, min(batch_size, len(x))):
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size]
            yb = None if y is None else y[start:start + batch_size]
            share, weight = distributed.share(len(xb), world)
            with distributed.step(world, share, len(xb), weight):
                inputs, targets = distributed.select(task, *task.batch(xb, yb, gen))
                with autocast(device):
                    outputs = net(inputs)
                n = len(xb) if share is None else len(share) * (weight > 0)
                _accumulate(sums, task.loss(outputs, targets), task.metrics(outputs, targets), n)
    sums = distributed.sum_over_ranks(sums, world)
    return {k: float(v) / len(x) for k, v in sums.items()}


def _scaled(module: nn.Module, xb: torch.Tensor) -> torch.Tensor:
    return module(as_float(xb))


@explains_out_of_memory
def forward_all(module: nn.Module, x: np.ndarray, device: torch.device, batch_size: int = 1024,
                apply: Callable[[nn.Module, torch.Tensor], torch.Tensor] = _scaled) -> torch.Tensor:
    """`apply(module, batch)` over every sample of `x`, in eval mode, as float32 on the CPU.

    `x` is validated numpy data; each batch reaches `apply` as on the device in training (images
    (B, C, H, W), uint8 or float). The default applies `module` to the batch scaled as in training.
    """
    xs = to_device(x, device)
    outs = []
    batch_size = cpu.eval_chunk(device, module, batch_size)
    with eval_mode(module.to(device)), cpu.threads(device, module, min(batch_size, len(xs))):
        for start in range(0, len(xs), batch_size):
            with autocast(device):
                outs.append(apply(module, xs[start:start + batch_size]).float().cpu())
    return torch.cat(outs)
