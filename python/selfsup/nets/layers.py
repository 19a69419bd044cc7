"""Building blocks of the encoders and heads: keras-like layers, keras' initial weights, shapes.

Layers that fuse an activation into a weight layer (Conv2dReLU, LinearReLU) keep weights named
like keras' (`conv1.weight`), so weights, freezing and transfer read as in the seminar.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .. import distributed


class Conv2dReLU(nn.Conv2d):
    """keras' Conv2D(padding="same", activation="relu") as one layer, so weights stay `conv1.weight`.

    Like keras, an even kernel pads one more pixel at the right and bottom than at the left and top.
    """

    def forward(self, x):
        kh, kw = self.kernel_size
        x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
        return F.relu(super().forward(x))


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

    The mask is made as F.dropout makes it on the CPU: bernoulli(1 - p), scaled by 1 / (1 - p).
    Data-parallel, each rank takes its rows of the mask of the whole global batch
    (`distributed.dropout_mask`), so a sample's mask does not depend on the number of ranks.
    """

    generator: torch.Generator | None = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = 1.0 - self.p
        mask = distributed.dropout_mask(x, keep, self.generator)
        if mask is None:
            mask = torch.empty_like(x).bernoulli_(keep, generator=self.generator)
        return x * mask.div_(keep)


class ConvBNReLU(nn.Sequential):
    """3x3 convolution (padding 1, no bias: the norm has one), batch norm, ReLU: (N, C, H, W) -> (N, out, H, W)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(OrderedDict(conv=nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                                     bn=nn.BatchNorm2d(c_out), relu=nn.ReLU()))


class GlobalAvgPool(nn.Module):
    """(N, C, H, W) -> (N, C): the mean of each feature map."""

    def forward(self, x):
        return x.mean((2, 3))


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
