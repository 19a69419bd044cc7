"""Colorization (Zhang, Isola & Efros 2016): predict an image's colour from its gray version.

RGB images are split into luminance Y and chrominance U, V (BT.601 YUV, a linear transform): the
encoder sees Y (one channel) and the decoder predicts U and V, L2 loss. (The paper classifies
over quantised colours to avoid greyish averages; this is the simpler regression version.) The
encoder is a grayscale-image encoder, so after pretraining on colour photos it embeds and
transfers to grayscale images of the same size (e.g. 28x28 photo crops -> Fashion-MNIST).
"""
from __future__ import annotations

import torch

from .. import _validate as v
from ..train import as_float
from ._reconstruct import ImageReconstruction
from .base import image_data, register

# rows: Y, U, V from R, G, B (BT.601); and back
RGB_TO_YUV = torch.tensor([[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]])
YUV_TO_RGB = torch.linalg.inv(RGB_TO_YUV)


def to_yuv(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> (B, 3, H, W) YUV."""
    return torch.einsum("ij,bjhw->bihw", RGB_TO_YUV.to(x.device, x.dtype), x)


def to_rgb(yuv: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", YUV_TO_RGB.to(yuv.device, yuv.dtype), yuv)


@register
class Colorization(ImageReconstruction):
    name = "colorization"
    modality = "RGB images"
    input = "(n, height, width, 3) RGB, at least 4x4; e.g. photo_crops()"
    predicts = "the colour (U, V chrominance) of each pixel from the gray image (Y)"
    reference = "Zhang, Isola & Efros 2016, Colorful image colorization"
    sigmoid_ok = False   # chrominance is signed

    def check(self, x):
        x = image_data(x, self.name, self.min_size, self.min_size, self.why)
        if x.ndim != 4 or x.shape[3] != 3:
            got = "grayscale images" if x.ndim == 3 or x.shape[3] == 1 else f"{x.shape[3]}-channel images"
            raise ValueError(f"task \"colorization\" needs RGB images: `x` must have shape (n, height, width, 3); "
                             f"got {got} of shape {v.shape_text(x)}. It learns colour from the gray version of "
                             f"colour images; for colour photos see selfsup.demo_data.photo_crops().")
        return x

    def check_like(self, x, data_shape):
        """New data for a pretrained colorization model: RGB, or grayscale (what the encoder sees)."""
        x = image_data(x, self.name, self.min_size, self.min_size, self.why)
        if x.ndim == 4 and x.shape[3] not in (1, 3):
            raise ValueError(f"`x` must be grayscale (n, height, width) or RGB (n, height, width, 3) images; "
                             f"got shape {v.shape_text(x)}.")
        if data_shape is not None and tuple(x.shape[1:3]) != tuple(data_shape[:2]):
            raise ValueError(f"`x` images are {x.shape[1]}x{x.shape[2]}, but the model was pretrained on "
                             f"{data_shape[0]}x{data_shape[1]}.")
        return x

    def channels(self, x):
        return 1, 2                                  # Y in, U and V out

    def batch(self, x, y, gen):
        yuv = to_yuv(as_float(x))                    # (B, 3, H, W)
        return yuv[:, :1], yuv[:, 1:]                # gray in, colour out

    def metrics(self, outputs, targets):
        # baseline: leaving the image gray (U = V = 0)
        return {"mse_gray": (targets ** 2).mean()}

    def embed(self, encoder, x):
        x = as_float(x)
        gray = to_yuv(x)[:, :1] if x.shape[1] == 3 else x
        return encoder(gray).flatten(1)

    def show(self, x, gen, net=None):
        """Gray input, the original colours, and the colours the net painted (as RGB in [0, 1])."""
        gray, uv = self.batch(x, None, gen)
        shown = {"inputs": gray, "targets": to_rgb(torch.cat([gray, uv], 1)).clamp(0, 1)}
        if net is not None:
            shown["outputs"] = to_rgb(torch.cat([gray, net(gray).float()], 1)).clamp(0, 1)
        return shown
