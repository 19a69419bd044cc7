"""Autoencoder and denoising autoencoder: reconstruct the input through a bottleneck.

`autoencoder`: the input itself, through the encoder's feature vector (the bottleneck: 256
features for 784 pixels with the seminar CNN on 28x28 images) and a decoder head.
`denoising` (Vincent et al. 2008): the clean input from a corrupted copy, Gaussian noise of sd
`level` (on pixels scaled to [0, 1]), or "masking" noise that zeroes a `level` fraction of the
pixels / features.
Both are "general": besides images they take rows of features (n, features), with an MLP encoder
and a linear decoder.
"""
from __future__ import annotations

import torch

from .. import _validate as v
from ..train import as_float
from ._reconstruct import ImageReconstruction
from .base import register
from .options import Option

NOISES = ("gaussian", "masking")


@register
class Autoencoder(ImageReconstruction):
    name = "autoencoder"
    modality = "general"
    input = "(n, height, width[, channels]), at least 4x4; or (n, features)"
    predicts = "the input itself, from the encoder's bottleneck features"
    reference = "Hinton & Salakhutdinov 2006, Reducing the dimensionality of data with neural networks"
    tabular = True

    def batch(self, x, y, gen):
        x = as_float(x)
        return x, x


@register
class Denoising(ImageReconstruction):
    name = "denoising"
    modality = "general"
    input = "(n, height, width[, channels]), at least 4x4; or (n, features)"
    predicts = "the clean input, from a corrupted copy (Gaussian or masking noise)"
    reference = "Vincent, Larochelle, Bengio & Manzagol 2008, Extracting and composing robust features with denoising autoencoders"
    schema = {"noise": Option("gaussian", "choice", choices=NOISES),
              "level": Option(0.3, "number", low=0.0, low_inclusive=False)}   # sd, or share of pixels masked
    baseline = "mse_noisy"
    tabular = True

    def __init__(self, **options):
        super().__init__(**options)
        if self.options["noise"] == "masking":  # a share of the pixels
            v.check_number(self.options["level"], "level", 0.0, 1.0, low_inclusive=False, high_inclusive=False)

    def batch(self, x, y, gen):
        x = as_float(x)
        level = self.options["level"]
        if self.options["noise"] == "gaussian":
            noisy = x + level * torch.randn(x.shape, generator=gen, device=x.device)
        else:  # masking noise: each pixel (all its channels) / feature zeroed with probability `level`
            shape = x.shape if x.ndim == 2 else (len(x), 1, *x.shape[2:])
            keep = torch.rand(shape, generator=gen, device=x.device) >= level
            noisy = x * keep
        return noisy, torch.cat([x, noisy], 1)            # target + the input, for the baseline metric
