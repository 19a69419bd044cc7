"""Inpainting, a context encoder (Pathak et al. 2016): predict the missing centre of an image.

The centre square (`region` of the height and width, 1/2 by default, as in the paper) is filled
with the batch's mean colour; the encoder sees the rest, the decoder paints the whole image and
the L2 loss counts only the hidden centre. With `where="random"` the square sits at a random
place in each image instead (the paper's "random block" variant, which it found gives better
features: a fixed centre teaches the encoder to ignore the middle, where the object usually is). With `adversarial` = w > 0 the loss is the paper's
joint one, (1 - w) x L2 + w x adversarial (the paper uses w = 0.001): a small discriminator
(two strided convolutions, then a linear score), trained by its own Adam step inside `loss()`,
judges the image with the painted centre against the real one, and the painter is also scored on
fooling it. The discriminator is a training aid: it is not part of the saved model.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import distributed
from ..device import torch_seeded
from ..train import as_float
from ._reconstruct import ImageReconstruction, fill_value, masked_mse
from .base import register
from .options import Option


def discriminator(channels: int) -> nn.Sequential:
    """(N, C, H, W) images -> (N, 1) real-vs-painted scores (logits)."""
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 1))


@register
class Inpainting(ImageReconstruction):
    name = "inpainting"
    input = "(n, height, width[, channels]), at least 4x4"
    predicts = "the missing centre (or a random) region of the image: context encoder, L2 loss, optionally + adversarial"
    reference = "Pathak, Krahenbuhl, Donahue, Darrell & Efros 2016, Context encoders: feature learning by inpainting"
    schema = {"region": Option(0.5, "number", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False),
              "where": Option("centre", "choice", choices=("centre", "random")),
              "adversarial": Option(0.0, "number", low=0.0, high=1.0, high_inclusive=False)}
    masked = True

    def __init__(self, **options):
        super().__init__(**options)
        self._disc = None

    def mask(self, x, gen):
        """(B, 1, H, W) float, 1 on the hidden square: the centre, or a random place per image."""
        b, h, w = len(x), x.shape[-2], x.shape[-1]
        mh, mw = max(1, round(h * self.options["region"])), max(1, round(w * self.options["region"]))
        if self.options["where"] == "centre":
            top = torch.full((b, 1), (h - mh) // 2, device=x.device)
            left = torch.full((b, 1), (w - mw) // 2, device=x.device)
        else:
            top = torch.randint(0, h - mh + 1, (b, 1), generator=gen, device=x.device)
            left = torch.randint(0, w - mw + 1, (b, 1), generator=gen, device=x.device)
        rows, cols = torch.arange(h, device=x.device), torch.arange(w, device=x.device)
        in_rows = (rows >= top) & (rows < top + mh)                   # (B, H)
        in_cols = (cols >= left) & (cols < left + mw)                 # (B, W)
        return (in_rows[:, :, None] & in_cols[:, None, :]).float().unsqueeze(1)

    def batch(self, x, y, gen):
        x = as_float(x)                              # (B, C, H, W)
        if self.options["adversarial"] > 0 and self._disc is None:
            self._build_discriminator(x, gen)
        m = self.mask(x, gen)
        inputs = x * (1 - m) + fill_value(x) * m
        return inputs, torch.cat([x, m], 1)          # targets: image + mask channel

    def _build_discriminator(self, x, gen):
        # its initial weights come from `gen` too: same seed, same run
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen, device=x.device))
        with torch_seeded(seed):
            self._disc = discriminator(x.shape[1]).to(x.device)
        self._disc_opt = torch.optim.Adam(self._disc.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def loss(self, outputs, targets):
        l2 = masked_mse(outputs, targets)
        w = self.options["adversarial"]
        if w == 0 or self._disc is None:
            return l2
        real, m = targets[:, :-1], targets[:, -1:]
        painted = real * (1 - m) + outputs.float() * m
        ones, zeros = torch.ones(len(real), 1, device=real.device), torch.zeros(len(real), 1, device=real.device)
        if torch.is_grad_enabled():  # training: one step of the discriminator first
            d_loss = (F.binary_cross_entropy_with_logits(self._disc(real), ones)
                      + F.binary_cross_entropy_with_logits(self._disc(painted.detach()), zeros))
            self._disc_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            distributed.average_gradients(self._disc.parameters())   # data-parallel: one discriminator
            self._disc_opt.step()
        adversarial = F.binary_cross_entropy_with_logits(self._disc(painted), ones)  # fool it
        return (1 - w) * l2 + w * adversarial

    def metrics(self, outputs, targets):
        out = super().metrics(outputs, targets)
        if self.options["adversarial"] > 0:
            out["mse_region"] = masked_mse(outputs, targets)
        return out
