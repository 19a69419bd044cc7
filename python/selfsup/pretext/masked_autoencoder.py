"""Masked autoencoder (He et al. 2021), convolutional version: rebuild randomly hidden patches.

The image is cut into `patch` x `patch` squares; a random `mask_ratio` of them (75%, as in the
paper) is hidden per image and the L2 loss counts only the hidden pixels. The paper's encoder is a
ViT that never sees the hidden patches (they are dropped from the token sequence); a CNN cannot
drop pixels, so here they are filled with the batch's mean colour instead (as SimMIM, Xie et al.
2022, does for transformers). That keeps the seminar CNN as the encoder, so its weights transfer
with ssl_finetune(). The paper's per-patch normalised targets are not used.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..train import as_float
from ._reconstruct import ImageReconstruction, fill_value
from .base import image_data, register
from .options import Option


@register
class MaskedAutoencoder(ImageReconstruction):
    name = "masked_autoencoder"
    input = "(n, height, width[, channels]), at least 2 patches a side (8x8 with patch=4)"
    predicts = "the pixels of randomly masked patches of the image (75% of them by default)"
    reference = "He, Chen, Xie, Li, Dollar & Girshick 2021, Masked autoencoders are scalable vision learners"
    schema = {"patch": Option(4, "int", low=1),
              "mask_ratio": Option(0.75, "number", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)}
    masked = True

    def check(self, x):
        p = self.options["patch"]
        side = max(4, 2 * p)
        return image_data(x, self.name, side, side, f"a grid of at least 2x2 patches of {p}x{p} pixels")

    def mask(self, x, gen):
        """(B, 1, H, W) float, 1 on the hidden patches; pixels beyond the last whole patch stay visible."""
        p = self.options["patch"]
        b, _, h, w = x.shape
        gh, gw = h // p, w // p
        n_hide = min(gh * gw - 1, max(1, round(self.options["mask_ratio"] * gh * gw)))
        # a random ranking of the patches of each image; the first n_hide are hidden
        rank = torch.rand(b, gh * gw, generator=gen, device=x.device).argsort(1).argsort(1)
        grid = (rank < n_hide).float().view(b, 1, gh, gw)
        m = grid.repeat_interleave(p, 2).repeat_interleave(p, 3)
        return F.pad(m, (0, w - gw * p, 0, h - gh * p))

    def batch(self, x, y, gen):
        x = as_float(x)
        m = self.mask(x, gen)
        inputs = x * (1 - m) + fill_value(x) * m
        return inputs, torch.cat([x, m], 1)

    def metrics(self, outputs, targets):
        # the loss counts hidden pixels only; this is the error over the whole image
        return {**super().metrics(outputs, targets),
                "mse_all": ((outputs.float() - targets[:, :-1]) ** 2).mean()}
