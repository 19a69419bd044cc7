"""Shared parts of the tasks that reconstruct pixels: the image check, the encoder + decoder spec,
and the (optionally masked) L2 loss.

The encoder is the seminar CNN ("cnn", or "mlp"), built for the full image, so its weights
transfer with `ssl_finetune()`; the decoder is the head ("conv_decoder" of `nets`: a dense layer
to a small feature map, then upsampling convolutions back to full size). Targets of masked tasks
carry the mask as one extra, last channel: (B, C + 1, H, W); the loss then counts masked pixels only.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import _validate as v
from .base import Pretext, image_data


def masked_mse(outputs, targets):
    """L2 over the masked pixels only; `targets` is (B, C + 1, ...) with the 0/1 mask last."""
    target, mask = targets[:, :-1], targets[:, -1:]
    return ((outputs.float() - target) ** 2 * mask).sum() / (mask.sum() * target.shape[1]).clamp_min(1)


def fill_value(x: torch.Tensor) -> torch.Tensor:
    """What hidden pixels are set to: the batch's mean colour (Pathak et al. use the data set mean)."""
    return x.mean(dim=(0, 2, 3), keepdim=True)


class ImageReconstruction(Pretext):
    """An image in, an image out, L2 loss. Subclasses say how the input is damaged in `batch()`."""

    modality = "images"
    min_size = 4                     # the CNN halves images twice
    why = "the CNN halves them twice"
    masked = False                   # True: targets carry a mask channel, the loss counts masked pixels
    baseline: str | None = None      # a metric's name: targets then also carry the damaged input
                                     # (B, 2C, H, W), and the metric is its error: the bar to beat
    sigmoid_ok = True                # False: targets may be negative (colorization's chrominance)
    tabular = False                  # True: also takes (n, features) rows, with an MLP encoder

    def check(self, x):
        if self.tabular and np.ndim(x) == 2:
            return v.check_images(x, "x", ndims=(2,))
        return image_data(x, self.name, self.min_size, self.min_size, self.why)

    def channels(self, x: np.ndarray) -> tuple[int, int]:
        """(encoder input channels, decoder output channels) for data `x`."""
        c = x.shape[3] if x.ndim == 4 else 1
        return c, c

    def spec(self, x, encoder):
        if x.ndim == 2:  # (n, features): an MLP (the CNN's default "cnn" means it here), a dense decoder
            return {"encoder": {"name": "mlp", "input_shape": [int(x.shape[1])]},
                    "head": {"name": "linear", "n_outputs": int(x.shape[1])}}
        h, w = x.shape[1], x.shape[2]
        c_in, c_out = self.channels(x)
        return {"encoder": {"name": encoder, "input_shape": [h, w, c_in]},
                # pixels 0..255 are scaled to [0, 1]: a sigmoid keeps reconstructions there
                "head": {"name": "conv_decoder", "output_shape": [h, w, c_out],
                         "sigmoid": bool(x.dtype == np.uint8 and self.sigmoid_ok)}}

    def split(self, targets):
        """(clean target, damaged input or None) from the targets of a task with a baseline."""
        if self.baseline is None:
            return targets, None
        c = targets.shape[1] // 2
        return targets[:, :c], targets[:, c:]

    def loss(self, outputs, targets):
        if self.masked:
            return masked_mse(outputs, targets)
        return F.mse_loss(outputs.float(), self.split(targets)[0])

    def metrics(self, outputs, targets):
        if self.baseline is not None:
            target, damaged = self.split(targets)
            return {self.baseline: F.mse_loss(damaged, target)}
        if not self.masked:
            return {}
        # baseline: the error of the fill itself (the batch's mean colour) on the hidden pixels
        target = targets[:, :-1]
        return {"mse_fill": masked_mse(fill_value(target).expand_as(target), targets)}

    def show(self, x, gen, net=None) -> dict:
        """Inputs, the clean targets, and the net's reconstruction (for masked tasks: pasted into the
        hidden part of the image, the visible part left as it was)."""
        inputs, targets = self.batch(x, None, gen)
        if not self.masked:
            shown = {"inputs": inputs, "targets": self.split(targets)[0]}
            if net is not None:
                shown["outputs"] = net(inputs).float()
            return shown
        target, mask = targets[:, :-1], targets[:, -1:]
        shown = {"inputs": inputs, "targets": target}
        if net is not None:
            shown["outputs"] = target * (1 - mask) + net(inputs).float() * mask
        return shown
