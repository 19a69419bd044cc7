"""Encoders: input -> feature vector (or per-token features). Each takes `input_shape` (one
sample's shape as users give it: (h, w[, c]), (features,), (samples,) or (seq_len,)) and its options.

- "cnn": the seminar CNN (default); "mlp": dense layers;          -> classifiers, image pretext tasks
  "convnet": a small conv net with batch norm (few-label learning, contrastive pretraining).
- "dense_ae", "conv_ae": autoencoder encoders with a linear latent layer.    -> fit_autoencoder
- "cnn1d": the seminar CNN for 1-D signals.                                 -> restoration (audio)
- "transformer": a small BERT for token ids.                                -> masked_token (text)

They are registered by name in `nets.ENCODERS` (nets/__init__.py), the one table.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .layers import (AddChannel, Conv2dReLU, ConvBNReLU, ConvStrideReLU, Dropout, GlobalAvgPool, LinearReLU,
                     Sequential, channels_first, n_inputs)


# ------------------------------------------------------------------------------ images, rows
def cnn_encoder(input_shape, filters=(64, 32), dense=256) -> nn.Sequential:
    """The seminar's CNN up to its last hidden layer: (N, C, H, W) -> (N, dense).

    A `layers.Sequential`: each conv -> ReLU -> pool runs as conv -> pool -> ReLU (same numbers, faster).
    """
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
    return Sequential(layers)


def convnet_encoder(input_shape, filters=(32, 64, 128)) -> nn.Sequential:
    """A small VGG-style net with batch norm for small images: (N, C, H, W) -> (N, filters[-1]).

    Each block is a 3x3 convolution + batch norm + ReLU ("block1", ...); 2x2 max pooling follows every
    block but the last, then a global average ("gap"). No dropout: batch norm regularises, and
    contrastive pretraining wants none. At 28x28 with (32, 64, 128): 28 -> 14 -> 7, 128 features,
    ~93k weights, about the seminar CNN's cost per image on the CPU (a 512-image training step: 1.5 s
    vs 1.8 s on one core of this machine's EPYC).
    """
    c, h, w = channels_first(input_shape)
    layers = OrderedDict()
    for i, out in enumerate(filters, start=1):
        layers[f"block{i}"] = ConvBNReLU(c, out)
        c = out
        if i < len(filters):
            if h < 2 or w < 2:
                raise ValueError(f"`x` images are too small for the convnet: each pooling halves them; need at "
                                 f"least {2 ** (len(filters) - 1)}x{2 ** (len(filters) - 1)} pixels.")
            layers[f"pool{i}"] = nn.MaxPool2d(2)
            h, w = h // 2, w // 2
    layers["gap"] = GlobalAvgPool()
    return nn.Sequential(layers)


def mlp_encoder(input_shape, hidden=(256,), dropout=0.5) -> nn.Sequential:
    """Flatten, then dense ReLU layers with dropout: (N, ...) -> (N, hidden[-1])."""
    n_in = n_inputs(input_shape)
    layers = OrderedDict(flatten=nn.Flatten())
    for i, out in enumerate(hidden, start=1):
        layers[f"dense{i}"] = LinearReLU(n_in, out)
        layers[f"drop{i}"] = Dropout(dropout)
        n_in = out
    return nn.Sequential(layers)


# ---------------------------------------------------------------------------- autoencoders
def dense_ae_encoder(input_shape, latent_dim=2, hidden=(256, 64)) -> nn.Sequential:
    """Flatten, dense ReLU layers, then a linear latent layer: (N, ...) -> (N, latent_dim)."""
    n_in = n_inputs(input_shape)
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


# --------------------------------------------------------------------------- 1-D signals
def cnn1d_encoder(input_shape, filters=(64, 32), kernel_size: int = 5, dense: int = 256,
                  dropout: float = 0.1) -> nn.Sequential:
    """The seminar CNN for signals: (N, samples) -> (N, dense), conv/pool/dropout blocks, then dense.

    A longer kernel than the image CNN's 2x2 because one audio sample carries little on its own;
    lighter dropout because the tasks on signals are regressions.
    """
    (length,) = (int(d) for d in input_shape)
    layers = OrderedDict(reshape=AddChannel())
    c = 1
    for i, out in enumerate(filters, start=1):
        layers[f"conv{i}"] = nn.Conv1d(c, out, kernel_size, padding=kernel_size // 2)
        layers[f"relu{i}"] = nn.ReLU()
        layers[f"pool{i}"] = nn.MaxPool1d(2)
        layers[f"drop{i}"] = Dropout(dropout)
        c, length = out, length // 2
    if length < 1:
        raise ValueError(f"`x` signals are too short for the 1-D CNN: each pooling halves them; need at "
                         f"least {2 ** len(filters)} samples.")
    layers["flatten"] = nn.Flatten()
    layers["dense1"] = LinearReLU(c * length, dense)
    layers[f"drop{len(filters) + 1}"] = Dropout(dropout)
    return nn.Sequential(layers)


# --------------------------------------------------------------------------------- text
class TokenEmbedding(nn.Module):
    """Token ids (N, L) -> word + position embeddings (N, L, dim)."""

    def __init__(self, vocab_size: int, seq_len: int, dim: int):
        super().__init__()
        self.words = nn.Embedding(vocab_size, dim)
        self.positions = nn.Parameter(torch.randn(seq_len, dim) * 0.02)

    def forward(self, ids):
        ids = ids.long()  # feature_dim() probes with float zeros
        return self.words(ids) + self.positions[: ids.shape[1]]


class Block(nn.Module):
    """A pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x)). (N, L, dim)."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), Dropout(dropout))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


def transformer_encoder(input_shape, vocab_size: int, dim: int = 64, depth: int = 2, heads: int = 4,
                        dropout: float = 0.1) -> nn.Sequential:
    """A small BERT: token ids (N, seq_len) -> per-token features (N, seq_len, dim).

    Padding is a token like any other (id 0) rather than masked out of attention: simpler, and
    the loss ignores padded positions. The word list itself is kept by the task (masked_token).
    The attention's own dropout draws from torch's global generator, which the training loop
    seeds for the fit (and restores afterwards).
    """
    (seq_len,) = (int(d) for d in input_shape)
    layers = OrderedDict(embedding=TokenEmbedding(int(vocab_size), seq_len, dim))
    for i in range(1, depth + 1):
        layers[f"block{i}"] = Block(dim, heads, dropout)
    layers["norm"] = nn.LayerNorm(dim)
    return nn.Sequential(layers)
