"""Encoders and heads, built from a JSON-able spec so that saved models can be rebuilt.

A network is an encoder (input -> feature vector) followed by a head (features -> outputs).
Layers carry keras-style names (conv1, pool1, drop1, ..., output) so that weights, freezing and
transfer can be addressed the way the seminar does it with keras.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


class Conv2dReLU(nn.Conv2d):
    """keras' Conv2D(padding="same", activation="relu") as one layer, so weights stay `conv1.weight`.

    Like keras, an even kernel pads one more pixel at the right and bottom than at the left and top.
    """

    def forward(self, x):
        kh, kw = self.kernel_size
        x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
        return F.relu(super().forward(x))


class LinearReLU(nn.Linear):
    def forward(self, x):
        return F.relu(super().forward(x))


def _keras_init(module: nn.Module) -> None:
    """Glorot-uniform kernels and zero biases, keras' defaults, so the seminar's recipe transfers."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
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


# ----------------------------------------------------------------------------------- encoders
def cnn_encoder(input_shape, filters=(64, 32), dense=256) -> nn.Sequential:
    """The seminar's CNN up to its last hidden layer: (N, C, H, W) -> (N, dense)."""
    c, h, w = channels_first(input_shape)
    layers = OrderedDict()
    for i, out in enumerate(filters, start=1):
        layers[f"conv{i}"] = Conv2dReLU(c, out, kernel_size=2)
        layers[f"pool{i}"] = nn.MaxPool2d(2)
        layers[f"drop{i}"] = nn.Dropout(0.3)
        c, h, w = out, h // 2, w // 2
    if h < 1 or w < 1:
        raise ValueError(f"`x` images are too small for the CNN: each pooling halves them; need at least "
                         f"{2 ** len(filters)}x{2 ** len(filters)} pixels.")
    layers["flatten"] = nn.Flatten()
    layers["dense1"] = LinearReLU(c * h * w, dense)
    layers[f"drop{len(filters) + 1}"] = nn.Dropout(0.5)
    return nn.Sequential(layers)


def mlp_encoder(input_shape, hidden=(256,), dropout=0.5) -> nn.Sequential:
    """Flatten, then dense ReLU layers with dropout: (N, ...) -> (N, hidden[-1])."""
    n_in = 1
    for d in input_shape:
        n_in *= int(d)
    layers = OrderedDict(flatten=nn.Flatten())
    for i, out in enumerate(hidden, start=1):
        layers[f"dense{i}"] = LinearReLU(n_in, out)
        layers[f"drop{i}"] = nn.Dropout(dropout)
        n_in = out
    return nn.Sequential(layers)


ENCODERS: dict[str, Callable[..., nn.Sequential]] = {"cnn": cnn_encoder, "mlp": mlp_encoder}


# -------------------------------------------------------------------------------------- heads
def linear_head(n_features: int, n_outputs: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict(output=nn.Linear(n_features, n_outputs)))


HEADS: dict[str, Callable[..., nn.Module]] = {"linear": linear_head}


# -------------------------------------------------------------------------------------- model
class Net(nn.Module):
    """encoder -> head. `spec` holds everything needed to build it again."""

    def __init__(self, spec: dict):
        super().__init__()
        enc, head = spec["encoder"], spec["head"]
        self.spec = spec
        self.encoder = ENCODERS[enc["name"]](**{k: v for k, v in enc.items() if k != "name"})
        n_features = feature_dim(self.encoder, enc["input_shape"])
        self.head = HEADS[head["name"]](n_features, **{k: v for k, v in head.items() if k != "name"})

    def forward(self, x):
        return self.head(self.encoder(x))

    def layers(self) -> list[tuple[str, nn.Module]]:
        """All layers in order, encoder first, with their keras-style names."""
        return list(self.encoder.named_children()) + list(self.head.named_children())


@torch.no_grad()
def feature_dim(encoder: nn.Module, input_shape) -> int:
    """Width of the encoder's output, found by running one dummy sample."""
    was_training = encoder.training
    encoder.eval()
    out = encoder(torch.zeros(1, *channels_first(input_shape)))
    encoder.train(was_training)
    return int(out.shape[-1])


def build_net(spec: dict, seed: int | None = None) -> Net:
    """Build a network from its spec with keras-style initial weights (seeded when given)."""
    if seed is not None:
        torch.manual_seed(seed)
    net = Net(spec)
    _keras_init(net)
    return net
