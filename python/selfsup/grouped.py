"""fit_replicates(exact=False): R replicate classifiers trained as ONE grouped network.

Side by side (`train.fit_side_by_side`) keeps every model bit-identical to training it alone, so each
step still runs R small forward and backward passes: at the seminar's batch of one image that is
mostly per-operation overhead. Here the R models become one network whose layers hold all R models'
weights: convolutions with groups=R (model r's channels are group r), dense layers as batched matrix
products over R, one loss (the sum of each model's mean loss, so each model gets its own gradient)
and one optimizer step over R-stacked weights (Adam is elementwise, so each model's update is its own).
Model r still trains on its own subset in its own batch order (from its own seed); dropout masks come
from one stream for all. The kernels sum in other orders than the per-model ones, so the models are
equal in distribution to the exact path's, not bit for bit (tests/test_replicates_fast.py).

Supports the classifiers fit_replicates trains: "cnn" or "mlp" encoder with a "linear" head, the same
architecture and the same frozen layers in every model.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import cpu, progress
from .device import resolve_device, resolve_seed
from .epoch import Epoch
from .feed import to_device
from .loss_guard import LossGuard
from .memory import explains_out_of_memory
from .nets.layers import Conv2dReLU, Dropout, LinearReLU, channels_last
from .settings import FitSettings
from .train import as_float, make_optimizer, set_lr, split_validation


def check_groupable(nets: list[nn.Module]) -> None:
    """Raise unless the grouped network can represent `nets` (same spec, cnn/mlp + linear head)."""
    spec = getattr(nets[0], "spec", None)
    if spec is None or spec["encoder"]["name"] not in ("cnn", "mlp") or spec["head"]["name"] != "linear":
        raise ValueError("`exact = False` (one grouped network) supports classifiers with the \"cnn\" or \"mlp\" "
                         "encoder and a linear head; use exact = True for these models.")
    frozen = [name for name, p in nets[0].named_parameters() if not p.requires_grad]
    for i, net in enumerate(nets[1:], start=1):
        if net.spec != spec:
            raise ValueError(f"`exact = False` needs models of the same architecture; `models[{i}]` differs from "
                             "`models[0]`.")
        if [name for name, p in net.named_parameters() if not p.requires_grad] != frozen:
            raise ValueError(f"`exact = False` needs the same frozen layers in every model; `models[{i}]` differs "
                             "from `models[0]`.")


class Grouped(nn.Module):
    """The layers of R networks with the same spec as one network: (R, B, *sample) -> (R, B, k)."""

    def __init__(self, nets: list[nn.Module]):
        super().__init__()
        self.r = len(nets)
        self.layers = [(name, layer) for name, layer in nets[0].layers()]
        self.weights = nn.ParameterDict()
        for name, p in nets[0].named_parameters():   # "encoder.conv1.weight" -> (R, *shape)
            stacked = torch.stack([self._layout(dict(net.named_parameters())[name].detach()) for net in nets])
            self.weights[name.replace(".", "__")] = nn.Parameter(stacked.contiguous(), requires_grad=p.requires_grad)
        self.generator: torch.Generator | None = None

    @staticmethod
    def _layout(p: torch.Tensor) -> torch.Tensor:
        """Dense kernels are kept as (in, out), the layout batched products read and write without copies."""
        return p.t() if p.ndim == 2 else p

    def w(self, layer: str, kind: str) -> torch.Tensor:
        prefix = "head" if layer == "output" else "encoder"
        return self.weights[f"{prefix}__{layer}__{kind}"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r, b = x.shape[:2]
        if x.ndim == 5:                                              # images: (R, B, C, H, W) -> (B, R*C, H, W)
            h = x.transpose(0, 1).reshape(b, r * x.shape[2], *x.shape[3:])
        else:
            h = x.reshape(r, b, -1)                                  # rows: (R, B, F)
        for name, layer in self.layers:
            if isinstance(layer, Conv2dReLU):
                kh, kw = layer.kernel_size
                wt = self.w(name, "weight")                          # (R, out, C, kh, kw)
                h = F.pad(channels_last(h), ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
                h = F.conv2d(h, wt.flatten(0, 1), self.w(name, "bias").flatten(), groups=r)
                h = F.relu(h) if not self._pool_next(name) else h   # the pool applies the ReLU (see below)
            elif isinstance(layer, nn.MaxPool2d):
                h = F.relu(F.max_pool2d(h, 2))                       # conv -> pool -> ReLU, as nets.layers.Sequential
            elif isinstance(layer, Dropout):
                h = self._dropout(h, layer.p)
            elif isinstance(layer, nn.Flatten):
                h = h.reshape(b, r, -1).transpose(0, 1) if h.ndim == 4 else h    # (R, B, C*H*W)
            elif isinstance(layer, nn.Linear):
                wt, bias = self.w(name, "weight"), self.w(name, "bias")          # (R, in, out), (R, out)
                h = torch.baddbmm(bias.unsqueeze(1), h, wt)                       # (R, B, out)
                h = F.relu(h) if isinstance(layer, LinearReLU) else h
            else:
                raise ValueError(f"the grouped network has no rule for layer {name} ({type(layer).__name__})")
        return h

    def _pool_next(self, name: str) -> bool:
        names = [n for n, _ in self.layers]
        i = names.index(name)
        return i + 1 < len(names) and isinstance(self.layers[i + 1][1], nn.MaxPool2d)

    def _dropout(self, h: torch.Tensor, p: float) -> torch.Tensor:
        if not self.training or p == 0:
            return h
        keep = 1.0 - p
        mask = torch.rand(h.shape, generator=self.generator, device=h.device) < keep
        return h * mask.to(h.dtype).div_(keep)

    @torch.no_grad()
    def copy_to(self, nets: list[nn.Module]) -> None:
        for i, net in enumerate(nets):
            for name, p in net.named_parameters():
                p.copy_(self._layout(self.weights[name.replace(".", "__")][i]))


@explains_out_of_memory
def fit_grouped(nets: list[nn.Module], xs: list[np.ndarray], ys: list[np.ndarray], seeds: list[int | None],
                settings: FitSettings, histories: list[list[dict]]) -> None:
    """Train `nets` (same spec, equal-size data) as one grouped network; histories as fit() writes them.
    Inputs already validated (`check_groupable`). The epochs go as in `train.fit_side_by_side`
    (`epoch.Epoch`: progress, the stop at a NaN/Inf loss, Ctrl-C's partial rows); `nets` end with the
    grouped network's weights whichever way it stops."""
    device = resolve_device(settings.device)
    seeds = [resolve_seed(s) for s in seeds]
    gens = [torch.Generator(device=device).manual_seed(s) for s in seeds]
    x = torch.stack([to_device(xi, device) for xi in xs])             # (R, n, C, H, W) or (R, n, F)
    y = torch.stack([torch.from_numpy(yi).to(device) for yi in ys])   # (R, n)
    r, n = y.shape
    n_train = split_validation(n, settings.validation_split)
    net = Grouped([m.to(device) for m in nets]).to(device)
    net.generator = torch.Generator(device=device).manual_seed(seeds[0])
    opt = optimizer(net, settings)
    guard = LossGuard([net], settings.lr)
    n_batches = -(-n_train // settings.batch_size)
    rows_r = torch.arange(r, device=device)[:, None]
    step, n_steps = 0, settings.epochs * n_batches
    first_epoch = len(histories[0]) + 1
    last_epoch = first_epoch + settings.epochs - 1
    with contextlib.ExitStack() as stack:
        stack.callback(net.copy_to, nets)   # also after a NaN stop (the last good weights) or Ctrl-C
        stack.enter_context(cpu.threads(device, nets[0], r * min(settings.batch_size, n_train)))
        if device.type == "cpu":
            cpu.keep_freed_memory()
        rep = stack.enter_context(progress.reporter(settings.verbose))
        for epoch in range(first_epoch, last_epoch + 1):
            ep = Epoch(rep, guard, f"Epoch {epoch}/{last_epoch} ({r} models as one grouped network)", n_batches,
                       histories)
            net.train()
            perms = torch.stack([torch.randperm(n_train, generator=g, device=device) for g in gens])  # (R, n_train)
            sums = torch.zeros(2, r, device=device)                   # loss and correct, per model
            try:
                for b in range(n_batches):
                    idx = perms[:, b * settings.batch_size:(b + 1) * settings.batch_size]   # (R, B)
                    xb, yb = as_float(x[rows_r, idx]), y[rows_r, idx]
                    set_lr(opt, settings, step, n_steps)
                    out = net(xb)                                                         # (R, B, k)
                    losses = F.cross_entropy(out.flatten(0, 1), yb.flatten(), reduction="none").view(yb.shape)
                    losses.mean(1).sum().backward()                   # each model's gradient is its own mean loss's
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                    with torch.no_grad():
                        sums += torch.stack([losses.detach().sum(1), (out.argmax(2) == yb).sum(1).float()])
                    step += 1
                    ep.step(losses.detach().mean(1))
                ep.check(epoch)
                rows = _end_epoch(net, x, y, n_train, sums, histories)
            except KeyboardInterrupt:
                ep.interrupted([{"loss": loss, "accuracy": correct} for loss, correct in sums.T],
                               min(ep.done * settings.batch_size, n_train))
                raise
            ep.finish(rows)


def optimizer(net: Grouped, settings: FitSettings) -> torch.optim.Optimizer:
    """`make_optimizer` over the trainable stacked weights, weight decay on the kernels only: the
    stacked biases are (R, out), 2 dimensions like a kernel, so they are named here."""
    named = [(name, p) for name, p in net.weights.items() if p.requires_grad]
    return make_optimizer([p for _, p in named], settings, decayed=[not name.endswith("__bias") for name, _ in named])


@torch.no_grad()
def _end_epoch(net: Grouped, x, y, n_train: int, sums: torch.Tensor, histories: list[list[dict]]) -> list[dict]:
    """One history row per model (returned too): training means, then the held-out last samples (eval mode)."""
    loss, correct = (sums / n_train).tolist()
    val = None
    if n_train < y.shape[1]:
        net.eval()
        out = net(as_float(x[:, n_train:]))                                          # (R, n_val, k)
        yv = y[:, n_train:]
        val_loss = F.cross_entropy(out.flatten(0, 1), yv.flatten(), reduction="none").view(yv.shape).mean(1)
        val = (val_loss.tolist(), (out.argmax(2) == yv).float().mean(1).tolist())
    rows = []
    for i, history in enumerate(histories):
        row = {"epoch": len(history) + 1, "loss": loss[i], "accuracy": correct[i]}
        if val is not None:
            row.update(val_loss=val[0][i], val_accuracy=val[1][i])
        history.append(row)
        rows.append(row)
    return rows
