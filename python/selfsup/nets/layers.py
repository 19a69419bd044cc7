"""Building blocks of the encoders and heads: keras-like layers, keras' initial weights, shapes.

Layers that fuse an activation into a weight layer (Conv2dReLU, LinearReLU) keep weights named
like keras' (`conv1.weight`), so weights, freezing and transfer read as in the seminar.
"""
from __future__ import annotations

import os
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .. import distributed

# CPU levers of the seminar CNN, one switch each so that `make bench` (case cpu_levers) can measure
# what each gives. CHANNELS_LAST changes the last bits of a convolution's sum (golden file made with
# it); the other two give the same numbers.
CHANNELS_LAST = True       # CPU convolutions on (N, H, W, C) memory: oneDNN's fast kernels
POOL_BEFORE_RELU = True    # conv -> max-pool -> ReLU instead of conv -> ReLU -> max-pool
UNIFORM_MASKS = True       # dropout masks as float64 uniforms < keep: bernoulli_'s own masks, faster
PREFETCH_MASKS = True      # those uniforms drawn on a worker thread while the pass runs (MaskPrefetch)


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) `x` with channels-last memory on the CPU (same values, same shape), else as is.

    With one channel both layouts are "contiguous" and torch would not pick the channels-last kernel,
    so the strides are set explicitly (C stride 1).
    """
    if not CHANNELS_LAST or x.device.type != "cpu" or x.ndim != 4 or x.stride(1) == 1:
        return x
    return torch.empty_like(x, memory_format=torch.channels_last).copy_(x)


class Conv2dReLU(nn.Conv2d):
    """keras' Conv2D(padding="same", activation="relu") as one layer, so weights stay `conv1.weight`.

    Like keras, an even kernel pads one more pixel at the right and bottom than at the left and top.
    On the CPU the convolution runs on channels-last memory: 2-50x faster there for the seminar CNN's
    shapes (a 1-channel input on NCHW memory takes oneDNN's slow path); it sums in another order, so
    the last bits differ from NCHW's.
    """

    def convolve(self, x):
        """The convolution without the ReLU: (N, C, H, W) -> (N, out, H, W)."""
        kh, kw = self.kernel_size
        x = F.pad(channels_last(x), ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
        return super().forward(x)

    def forward(self, x):
        return F.relu(self.convolve(x))


class Sequential(nn.Sequential):
    """nn.Sequential that runs a Conv2dReLU followed by a MaxPool2d as convolution -> max-pool -> ReLU.

    The same numbers, forward and backward: ReLU is monotone, so max(relu(a)) = relu(max(a)); where a
    window's largest value is positive, max-pool's gradient goes to the same element (the first
    largest) either way, and where it is <= 0 ReLU's gradient is 0 either way. But ReLU and its
    backward touch 4x fewer values. Each layer called alone still computes what its name says.
    """

    def forward(self, x):
        layers = list(self._modules.values())
        i = 0
        while i < len(layers):
            layer = layers[i]
            if (POOL_BEFORE_RELU and isinstance(layer, Conv2dReLU) and i + 1 < len(layers)
                    and type(layers[i + 1]) is nn.MaxPool2d):
                x = F.relu(layers[i + 1](layer.convolve(x)))
                i += 2
            else:
                x = layer(x)
                i += 1
        return x


class ConvStrideReLU(nn.Conv2d):
    """3x3 convolution, padding 1, then ReLU; with stride 2 it halves height and width (rounding up)."""

    def forward(self, x):
        return F.relu(super().forward(x))


class LinearReLU(nn.Linear):
    def forward(self, x):
        return F.relu(super().forward(x))


class Dropout(nn.Dropout):
    """nn.Dropout that draws its mask from `generator`: the training loop sets it to the fit's own
    random stream, so each model's masks depend on its seed alone, also when several models train
    side by side (`train.fit_side_by_side`). Unset (None), torch's global generator is used.

    The mask is made as F.dropout makes it on the CPU: bernoulli(1 - p), scaled by 1 / (1 - p), drawn
    in the logical (N, C, H, W) order whatever the memory layout of `x`. On the CPU it is drawn as
    float64 uniforms < 1 - p: bernoulli_'s own recipe (one 53-bit uniform per element from the same
    stream, so the same masks and the same stream afterwards; tests/test_speed.py), 1.7x faster than
    bernoulli_'s per-element loop (on Intel CPUs bernoulli_ takes MKL's generator instead, so masks
    made this way are the same on every CPU; `bernoulli_mask`). Data-parallel, each rank takes its rows
    of the mask of the whole global batch (`distributed.dropout_mask`), so a sample's mask does not
    depend on the number of ranks.
    """

    generator: torch.Generator | None = None
    prefetch: MaskPrefetch | None = None     # set while a training loop draws this net's masks ahead

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = 1.0 - self.p
        mask = distributed.dropout_mask(x, keep, self.generator)
        if mask is None and self.prefetch is not None:
            mask = self.prefetch.take(x.shape, keep, x.dtype)
        if mask is None:
            mask = bernoulli_mask(x.shape, keep, self.generator, x.device, x.dtype)
        return x * mask.div_(keep)


class WarmRunningStats:
    """Batch norm whose running statistics are the plain mean over the first 1 / momentum training batches,
    then the usual moving average (momentum 0.1). torch's moving average starts from mean 0, variance 1:
    small activations (pixels in [0, 1], keras' initial weights) then still carry most of that start after a
    short fit, and eval mode divides by a variance ~10x too large in every block (measured: test accuracy
    0.115 after 21 steps, training accuracy in eval mode 0.087). A mix-in for the nn.BatchNorm classes."""

    warm = False     # momentum reached 0.1: no more reading the batch count (a device sync per batch on GPUs)

    def forward(self, x):
        if self.training and self.track_running_stats and not self.warm:
            self.momentum = max(0.1, 1.0 / (int(self.num_batches_tracked) + 1))
            self.warm = self.momentum == 0.1
        return super().forward(x)

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self.warm = False             # the loaded batch count decides again


class _GlobalBatchStatistics:
    """Batch norm that, trained data-parallel, normalises with the whole global batch's statistics
    (`distributed.batch_norm`), so that the model is the one a single process trains."""

    def forward(self, x):
        out = distributed.batch_norm(self, x)
        return super().forward(x) if out is None else out


class BatchNorm2d(WarmRunningStats, _GlobalBatchStatistics, nn.BatchNorm2d):
    pass


class BatchNorm1d(WarmRunningStats, _GlobalBatchStatistics, nn.BatchNorm1d):
    pass


class ConvBNReLU(nn.Sequential):
    """3x3 convolution (padding 1, no bias: the norm has one), batch norm, ReLU: (N, C, H, W) -> (N, out, H, W)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(OrderedDict(conv=nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                                     bn=BatchNorm2d(c_out), relu=nn.ReLU()))


class GlobalAvgPool(nn.Module):
    """(N, C, H, W) -> (N, C): the mean of each feature map."""

    def forward(self, x):
        return x.mean((2, 3))


def bernoulli_mask(shape, keep: float, gen: torch.Generator | None, device: torch.device,
                   dtype: torch.dtype) -> torch.Tensor:
    """1 with probability `keep`, else 0, in the logical order of `shape`, as bernoulli_ draws it on this
    CPU (see Dropout); on GPUs bernoulli_ itself."""
    if UNIFORM_MASKS and device.type == "cpu":
        return (torch.rand(shape, dtype=torch.float64, generator=gen) < keep).to(dtype)
    return torch.empty(shape, dtype=dtype, device=device).bernoulli_(keep, generator=gen)


class MaskPrefetch:
    """The dropout masks of a training pass drawn on a worker thread while the pass runs (CPU).

    A CPU mask comes from one serial random stream (`bernoulli_mask`: 21% of a seminar-CNN step at batch
    64 on two threads), while the convolutions around it leave part of the cores idle. When a pass starts
    (a forward pre-hook on the network), a worker draws the uniforms of all its masks from a copy of the
    generator's state, in the order the layers will ask; each Dropout takes its mask (`take`) and moves
    the generator to where drawing that mask in place would have left it. So the masks and the stream
    after them are the same as without the worker, bit for bit (tests/test_speed.py). The shapes of a
    pass's masks are learnt from a pass of the same input shape that drew in place; a pass that asks for
    anything else, or whose generator moved meanwhile, drops the plan and draws in place.
    """

    MIN_ELEMENTS = 2**16     # smaller masks take less time to draw than to hand over between threads

    def __init__(self, gen: torch.Generator):
        self.gen = gen
        self.plans: dict[tuple, list] = {}   # input shape -> [(mask shape, keep), ...] in the order drawn
        self.learning: tuple | None = None   # (input shape, masks drawn so far) of a pass drawing in place
        self.ahead: dict | None = None       # the pass under way: future, position, plan, generator states

    def start(self, module: nn.Module, args) -> None:
        """Forward pre-hook: draw ahead when the plan for this input shape is known, else learn it."""
        self.ahead = None
        if self.learning is not None:
            key, drawn = self.learning
            self.plans[key] = drawn
            self.learning = None
        first = args[0] if args else None
        if not (UNIFORM_MASKS and PREFETCH_MASKS and module.training and isinstance(first, torch.Tensor)):
            return
        key = tuple(first.shape)
        plan = self.plans.get(key)
        if plan is None:
            self.learning = (key, [])
        elif sum(torch.Size(shape).numel() for shape, _ in plan) >= self.MIN_ELEMENTS:
            start = self.gen.get_state()
            self.ahead = dict(future=_mask_worker().submit(_draw_uniforms, start, plan), i=0, plan=plan,
                              state=start)

    def take(self, shape, keep: float, dtype: torch.dtype) -> torch.Tensor | None:
        """The next mask of the pass (None: draw it in place, nothing drawn ahead for it)."""
        ahead = self.ahead
        if ahead is None:
            if self.learning is not None:
                self.learning[1].append((tuple(shape), keep))
            return None
        i = ahead["i"]
        if i >= len(ahead["plan"]) or ahead["plan"][i] != (tuple(shape), keep) or \
                not torch.equal(self.gen.get_state(), ahead["state"]):
            self.ahead = None            # not the pass we planned for: the generator is where it should be
            return None
        uniforms, states = ahead["future"].result()
        ahead["i"], ahead["state"] = i + 1, states[i]
        self.gen.set_state(states[i])
        return (uniforms[i] < keep).to(dtype)


def _draw_uniforms(state: torch.Tensor, plan: list) -> tuple[list, list]:
    """float64 uniforms of each mask in `plan`, from a generator at `state`; the state after each."""
    gen = torch.Generator()
    gen.set_state(state)
    uniforms, states = [], []
    for shape, _ in plan:
        uniforms.append(torch.rand(shape, dtype=torch.float64, generator=gen))
        states.append(gen.get_state())
    return uniforms, states


_worker, _worker_pid = None, None


def _mask_worker():
    """The one worker thread of this process (a forked child, e.g. R's mclapply, starts its own: the
    parent's thread does not exist there)."""
    global _worker, _worker_pid
    if _worker is None or _worker_pid != os.getpid():
        from concurrent.futures import ThreadPoolExecutor
        _worker, _worker_pid = ThreadPoolExecutor(1, thread_name_prefix="selfsup-dropout-masks"), os.getpid()
    return _worker


class AddChannel(nn.Module):
    """(N, samples) -> (N, 1, samples)."""

    def forward(self, x):
        return x.unsqueeze(1) if x.ndim == 2 else x


def keras_init(module: nn.Module) -> None:
    """Glorot-uniform kernels and zero biases, keras' defaults, so the seminar's recipe transfers."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def channels_first(input_shape) -> tuple[int, ...]:
    """(h, w[, c]) as given by users -> (c, h, w) as torch wants; (f,) stays (f,)."""
    shape = tuple(int(d) for d in input_shape)
    if len(shape) == 1:
        return shape
    if len(shape) == 2:
        return (1, *shape)
    h, w, c = shape
    return (c, h, w)


def n_inputs(input_shape) -> int:
    """Number of values in one sample of shape `input_shape`."""
    n = 1
    for d in input_shape:
        n *= int(d)
    return n
