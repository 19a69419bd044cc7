"""Heads: encoder features (N, n_features) -> outputs. Each takes `n_features` and its options.

- "linear": one dense layer (classifiers, most pretext tasks).
- "dense_decoder", "conv_decoder": back to a sample's shape (autoencoders, reconstruction tasks).
- "concat": the k patch features of a sample concatenated (relative_position, jigsaw).
- "projection": SimCLR's projection head.

They are registered by name in `nets.HEADS` (nets/__init__.py), the one table. An autoencoder is a
Net like any other: the encoder maps a sample to its code and the "head" is the decoder.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from .layers import BatchNorm1d, ConvStrideReLU, Dropout, LinearReLU, channels_first, n_inputs


def linear_head(n_features: int, n_outputs: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict(output=nn.Linear(n_features, n_outputs)))


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
    layers["output"] = nn.Linear(n_in, n_inputs(shape))
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


class ConcatHead(nn.Module):
    """(B * k, F) patch features -> (B, k * F) -> dense ReLU -> dropout -> (B, n_outputs)."""

    def __init__(self, n_features: int, n_outputs: int, k: int, hidden: int = 256):
        super().__init__()
        self.k = k
        self.fc1 = LinearReLU(k * n_features, hidden)
        self.fc_drop = Dropout(0.5)
        self.output = nn.Linear(hidden, n_outputs)

    def forward(self, x):
        return self.output(self.fc_drop(self.fc1(x.reshape(-1, self.k * x.shape[-1]))))


def projection_head(n_features: int, n_outputs: int = 128, hidden: int | None = None) -> nn.Sequential:
    """SimCLR's projection g(h) = W2 ReLU(BN(W1 h)): (N, n_features) -> (N, n_outputs); the loss sees its
    output. `hidden` defaults to `n_features`, as in the paper (and lightly's SimCLRProjectionHead)."""
    hidden = n_features if hidden is None else hidden
    return nn.Sequential(OrderedDict(proj1=nn.Linear(n_features, hidden, bias=False), bn1=BatchNorm1d(hidden),
                                     relu1=nn.ReLU(), output=nn.Linear(hidden, n_outputs)))
