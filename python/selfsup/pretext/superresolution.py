"""Super-resolution: predict the full-resolution image from a downscaled one.

Each image is shrunk by `factor` on the device (area averaging) and blown up again to full size
(bilinear), as SRCNN (Dong et al. 2014) prepares its input; the network predicts the sharp
original, L2 loss. The encoder sees full-size images, so its weights transfer. The metric
`mse_bilinear` is the error of the blown-up input itself: the baseline to beat.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..train import as_float
from ._reconstruct import ImageReconstruction
from .base import image_data, register
from .options import Option


@register
class Superresolution(ImageReconstruction):
    name = "superresolution"
    input = "(n, height, width[, channels]), at least 4x4 and 2 * factor"
    predicts = "the full-resolution image from a version downscaled by `factor` (default 2)"
    reference = "Dong, Loy, He & Tang 2014, Learning a deep convolutional network for image super-resolution"
    schema = {"factor": Option(2, "int", low=2)}
    baseline = "mse_bilinear"

    def check(self, x):
        f = self.options["factor"]
        side = max(4, 2 * f)
        return image_data(x, self.name, side, side, f"the CNN halves them twice, and downscaling by {f} "
                          f"must leave at least 2 pixels a side")

    def batch(self, x, y, gen):
        x = as_float(x)                                   # (B, C, H, W)
        h, w = x.shape[-2:]
        f = self.options["factor"]
        small = F.interpolate(x, size=(h // f, w // f), mode="area")
        blurred = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
        return blurred, torch.cat([x, blurred], 1)      # target + the input, for the baseline metric
