"""Encoders for the audio and text pretext tasks (the image ones decode with nets' "conv_decoder").

Registered in `nets.ENCODERS` when this module is imported (nets.py imports it), so saved models
that use them rebuild from their spec like any other.

- encoder "cnn1d": the seminar CNN for 1-D signals (N, samples) -> (N, dense).
- encoder "transformer": token ids (N, L) -> per-token features (N, L, dim), a small BERT.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .nets import ENCODERS, Dropout, LinearReLU


# ---------------------------------------------------------------------------- 1-D signal encoder
class AddChannel(nn.Module):
    """(N, samples) -> (N, 1, samples)."""

    def forward(self, x):
        return x.unsqueeze(1) if x.ndim == 2 else x


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


# ------------------------------------------------------------------------------ text encoder
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
    """
    (seq_len,) = (int(d) for d in input_shape)
    layers = OrderedDict(embedding=TokenEmbedding(int(vocab_size), seq_len, dim))
    for i in range(1, depth + 1):
        layers[f"block{i}"] = Block(dim, heads, dropout)
    layers["norm"] = nn.LayerNorm(dim)
    return nn.Sequential(layers)


ENCODERS.update({"cnn1d": cnn1d_encoder, "transformer": transformer_encoder})
