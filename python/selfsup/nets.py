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


class Dropout(nn.Dropout):
    """nn.Dropout that draws its mask from `generator`: the training loop sets it to the fit's own
    random stream, so each model's masks depend on its seed alone, also when several models train
    side by side (`train.fit_side_by_side`). Unset (None), torch's global generator is used.

    The mask is made as F.dropout makes it on the CPU: bernoulli(1 - p), scaled by 1 / (1 - p).
    """

    generator: torch.Generator | None = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = 1.0 - self.p
        return x * torch.empty_like(x).bernoulli_(keep, generator=self.generator).div_(keep)


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
        layers[f"drop{i}"] = Dropout(0.3)
        c, h, w = out, h // 2, w // 2
    if h < 1 or w < 1:
        raise ValueError(f"`x` images are too small for the CNN: each pooling halves them; need at least "
                         f"{2 ** len(filters)}x{2 ** len(filters)} pixels.")
    layers["flatten"] = nn.Flatten()
    layers["dense1"] = LinearReLU(c * h * w, dense)
    layers[f"drop{len(filters) + 1}"] = Dropout(0.5)
    return nn.Sequential(layers)


def mlp_encoder(input_shape, hidden=(256,), dropout=0.5) -> nn.Sequential:
    """Flatten, then dense ReLU layers with dropout: (N, ...) -> (N, hidden[-1])."""
    n_in = 1
    for d in input_shape:
        n_in *= int(d)
    layers = OrderedDict(flatten=nn.Flatten())
    for i, out in enumerate(hidden, start=1):
        layers[f"dense{i}"] = LinearReLU(n_in, out)
        layers[f"drop{i}"] = Dropout(dropout)
        n_in = out
    return nn.Sequential(layers)


ENCODERS: dict[str, Callable[..., nn.Sequential]] = {"cnn": cnn_encoder, "mlp": mlp_encoder}
# Encoders a classifier can be built on (the others serve autoencoders and pretext tasks).
IMAGE_ENCODERS = ("cnn", "mlp")


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


# ------------------------------------------------------------------- autoencoder (unsupervised)
# An autoencoder is a Net like any other: the encoder maps a sample to its latent code and the
# "head" is the decoder that maps the code back to a sample, so build/save/load work unchanged.
class ConvStrideReLU(nn.Conv2d):
    """3x3 convolution, padding 1, then ReLU; with stride 2 it halves height and width (rounding up)."""

    def forward(self, x):
        return F.relu(super().forward(x))


def _n_inputs(input_shape) -> int:
    n = 1
    for d in input_shape:
        n *= int(d)
    return n


def dense_ae_encoder(input_shape, latent_dim=2, hidden=(256, 64)) -> nn.Sequential:
    """Flatten, dense ReLU layers, then a linear latent layer: (N, ...) -> (N, latent_dim)."""
    n_in = _n_inputs(input_shape)
    layers = OrderedDict(flatten=nn.Flatten())
    for i, out in enumerate(hidden, start=1):
        layers[f"dense{i}"] = LinearReLU(n_in, out)
        n_in = out
    layers["latent"] = nn.Linear(n_in, latent_dim)
    return nn.Sequential(layers)


def conv_ae_encoder(input_shape, latent_dim=2, filters=(32, 64)) -> nn.Sequential:
    """Strided 3x3 convolutions (each halves the image), flatten, linear latent layer."""
    c, h, w = channels_first(input_shape)
    layers = OrderedDict()
    for i, out in enumerate(filters, start=1):
        layers[f"conv{i}"] = ConvStrideReLU(c, out, kernel_size=3, stride=2, padding=1)
        c, h, w = out, (h + 1) // 2, (w + 1) // 2
    layers["flatten"] = nn.Flatten()
    layers["latent"] = nn.Linear(c * h * w, latent_dim)
    return nn.Sequential(layers)


def dense_decoder(n_features, output_shape, hidden=(64, 256), sigmoid=True) -> nn.Sequential:
    """latent -> dense ReLU layers -> one output per input value, reshaped to (N, C, H, W) or (N, F).

    `sigmoid` squashes outputs to [0, 1], the range of scaled pixels.
    """
    shape = channels_first(output_shape)
    layers = OrderedDict()
    n_in = n_features
    for i, out in enumerate(hidden, start=1):
        layers[f"dec_dense{i}"] = LinearReLU(n_in, out)
        n_in = out
    layers["output"] = nn.Linear(n_in, _n_inputs(shape))
    if sigmoid:
        layers["sigmoid"] = nn.Sigmoid()
    if len(shape) > 1:
        layers["reshape"] = nn.Unflatten(1, shape)
    return nn.Sequential(layers)


def conv_decoder(n_features, output_shape, filters=(64, 32), sigmoid=True) -> nn.Sequential:
    """The mirror of `conv_ae_encoder`: dense to a small feature map, then upsample + 3x3 conv
    back to exactly (N, C, H, W) (nearest-neighbour upsampling to explicit sizes handles odd sizes)."""
    c, h, w = channels_first(output_shape)
    sizes = [(h, w)]  # image sizes after each encoder stage, input first
    for _ in filters:
        sizes.append(((sizes[-1][0] + 1) // 2, (sizes[-1][1] + 1) // 2))
    sh, sw = sizes[-1]
    layers = OrderedDict()
    layers["dec_dense"] = LinearReLU(n_features, filters[0] * sh * sw)
    layers["reshape"] = nn.Unflatten(1, (filters[0], sh, sw))
    in_ch = filters[0]
    for i, out in enumerate(filters[1:], start=1):
        layers[f"up{i}"] = nn.Upsample(size=sizes[-1 - i], mode="nearest")
        layers[f"deconv{i}"] = ConvStrideReLU(in_ch, out, kernel_size=3, padding=1)
        in_ch = out
    layers[f"up{len(filters)}"] = nn.Upsample(size=sizes[0], mode="nearest")
    layers["output"] = nn.Conv2d(in_ch, c, kernel_size=3, padding=1)
    if sigmoid:
        layers["sigmoid"] = nn.Sigmoid()
    return nn.Sequential(layers)


ENCODERS.update({"dense_ae": dense_ae_encoder, "conv_ae": conv_ae_encoder})
HEADS.update({"dense_decoder": dense_decoder, "conv_decoder": conv_decoder})


# the 1-D signal and text encoders of the audio and text pretext tasks
from . import nets_extra  # noqa: E402,F401  (registers into ENCODERS)
