"""Networks built from a JSON-able spec, so that saved models can be rebuilt: the one registry.

A network is an encoder (input -> feature vector) followed by a head (features -> outputs):
``spec = {"encoder": {"name": ..., "input_shape": [...], **options}, "head": {"name": ..., **options}}``.
Layers carry keras-style names (conv1, pool1, drop1, ..., output) so that weights, freezing and
transfer can be addressed the way the seminar does it with keras.

`ENCODERS` and `HEADS` below are the only tables of names -> builders, filled here and nowhere else:
a new encoder is a function in `encoders.py` plus one line here. The names are stored in saved
models, so they never change. Which encoders a pretext task can use is the task's `encoders`.
"""
from __future__ import annotations

import contextlib
from typing import Callable

import torch
from torch import nn

from ..device import torch_seeded
from . import encoders, heads
from .layers import channels_first, keras_init

ENCODERS: dict[str, Callable[..., nn.Module]] = {
    "cnn": encoders.cnn_encoder,
    "mlp": encoders.mlp_encoder,
    "convnet": encoders.convnet_encoder,
    "dense_ae": encoders.dense_ae_encoder,
    "conv_ae": encoders.conv_ae_encoder,
    "cnn1d": encoders.cnn1d_encoder,
    "transformer": encoders.transformer_encoder,
}
HEADS: dict[str, Callable[..., nn.Module]] = {
    "linear": heads.linear_head,
    "dense_decoder": heads.dense_decoder,
    "conv_decoder": heads.conv_decoder,
    "concat": heads.ConcatHead,
    "projection": heads.projection_head,
}
# Encoders a classifier can be built on (the others serve autoencoders and pretext tasks).
IMAGE_ENCODERS = ("cnn", "mlp", "convnet")
# Encoders that also take samples as rows of features (n, features), not only images.
FLAT_ENCODERS = ("mlp", "dense_ae")


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


@contextlib.contextmanager
def eval_mode(module: nn.Module):
    """`module` in eval mode and without gradients inside the block; its train/eval mode restored after."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(was_training)


def feature_dim(encoder: nn.Module, input_shape) -> int:
    """Width of the encoder's output, found by running one dummy sample."""
    with eval_mode(encoder):
        out = encoder(torch.zeros(1, *channels_first(input_shape)))
    return int(out.shape[-1])


def build_net(spec: dict, seed: int | None = None) -> Net:
    """Build a network from its spec with keras-style initial weights.

    With a `seed` the weights are drawn from torch's generator seeded with it, the caller's random
    state is left as it was (`device.torch_seeded`), and the seed is recorded in the net's spec
    (``spec["seed"]``, saved with the model); without one they come from torch's global generator.
    """
    if seed is not None:
        spec = {**spec, "seed": int(seed)}   # a copy: `spec` may be another model's
    with torch_seeded(seed) if seed is not None else contextlib.nullcontext():
        net = Net(spec)
        keras_init(net)
    return net
