"""SimCLR (Chen, Kornblith, Norouzi & Hinton 2020): two augmented views of the same image should agree.

Each image of a batch is augmented twice on the device; the views go through the encoder and a
projection head, and the NT-Xent loss asks each view to pick its partner out of the 2B - 1 other
views of the batch by cosine similarity / temperature. Views are stacked sample-major: rows 2b and
2b + 1 are the two views of image b, so the partner of row i is row i XOR 1.

Checked against the paper (appendix B.9, CIFAR-10) and its reference code (google-research/simclr),
and lightly's SimCLRTransform / SimCLRProjectionHead / NTXentLoss:
- random resized crop: area scale U(`min_scale` = 0.08, 1), aspect ratio log-uniform in (3/4, 4/3),
  resized back to the image size (bilinear); horizontal flip with probability 0.5 (`flip`).
- colour jitter applied with probability `jitter_prob` = 0.8: brightness and contrast factors
  U(1 - `jitter`, 1 + `jitter`), `jitter` = 0.4 = 0.8 * s with the paper's CIFAR strength s = 0.5.
  Saturation, hue and random grayscale change nothing on grayscale images; on RGB images we jitter
  brightness and contrast only (differs). No Gaussian blur (the paper leaves it out for CIFAR).
  Brightness before contrast, not in random order (differs; torchvision shuffles the order).
- projection head g(h) = W2 ReLU(BN(W1 h)), hidden width = the encoder's (`hidden` = None), output
  128 (`projection_dim`), as SimCLR v1 and lightly (`nets.heads.projection_head`); the encoder's
  features h are what transfer.
- NT-Xent with temperature 0.5 (the paper's CIFAR value; lightly's default).
- no dropout while pretraining: `ssl_pretrain` switches the encoder's dropout off for this task.
- optimiser: the paper uses LARS at batch 4096 with warm-up; for batches of 256-512 SGD with
  Nesterov momentum, weight decay and a cosine schedule (``optimizer="sgd", schedule="cosine"``, as
  lightly's examples) works; the batch size is the caller's (bigger is better: more negatives).
Trained data-parallel, each rank compares its views with every rank's (`distributed.gather_rows`):
the loss is the one of the whole global batch, as in the paper (which gathers across TPU cores).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import distributed
from ..augment import uniform
from ..train import as_float
from .base import Pretext, image_data, register
from .options import Option


def resized_crop(x: torch.Tensor, gen, min_scale: float, flip: bool) -> torch.Tensor:
    """Random resized crop (+ horizontal flip) of every image of x (B, C, H, W), back at full size."""
    b, dev = len(x), x.device
    area = uniform(b, min_scale, 1.0, gen, dev)
    ratio = torch.exp(uniform(b, math.log(3 / 4), math.log(4 / 3), gen, dev))
    # crop width and height as fractions of the image's; a crop that does not fit is clipped to it
    w, h = (area * ratio).sqrt().clamp(max=1.0), (area / ratio).sqrt().clamp(max=1.0)
    cx, cy = uniform(b, -1, 1, gen, dev) * (1 - w), uniform(b, -1, 1, gen, dev) * (1 - h)
    mirror = torch.where(torch.rand(b, generator=gen, device=dev) < 0.5, -1.0, 1.0) if flip else torch.ones(b, device=dev)
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 2] = w * mirror, cx
    theta[:, 1, 1], theta[:, 1, 2] = h, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def augment(x: torch.Tensor, gen, min_scale: float, flip: bool, jitter: float, jitter_prob: float = 0.8) -> torch.Tensor:
    """A random SimCLR view of every image of x (B, C, H, W) in [0, 1], drawn from `gen`."""
    out = resized_crop(x, gen, min_scale, flip)
    b, dev, shape = len(x), x.device, (len(x), 1, 1, 1)
    apply = (torch.rand(b, generator=gen, device=dev) < jitter_prob).view(shape)
    bright = uniform(b, 1 - jitter, 1 + jitter, gen, dev).view(shape)
    contrast = uniform(b, 1 - jitter, 1 + jitter, gen, dev).view(shape)
    jittered = (out * bright).clamp(0, 1)
    mean = jittered.mean(dim=(1, 2, 3), keepdim=True)        # contrast blends with the mean grey
    jittered = ((jittered - mean) * contrast + mean).clamp(0, 1)
    return torch.where(apply, jittered, out)


@register
class SimCLR(Pretext):
    name = "simclr"
    targets_are_positions = True
    modality = "images"
    input = "(n, height, width[, channels]), at least 4x4"
    predicts = "which other view in the batch comes from the same image (contrastive, NT-Xent loss)"
    reference = "Chen, Kornblith, Norouzi & Hinton 2020, A simple framework for contrastive learning (SimCLR)"
    schema = {"temperature": Option(0.5, "number", low=0.0, low_inclusive=False),
              "projection_dim": Option(128, "int", low=1),
              "hidden": Option(None, "int", low=1, none=True),            # None: the encoder's width
              "min_scale": Option(0.08, "number", low=0.0, high=1.0, low_inclusive=False),  # crop area share
              "flip": Option(True, "bool"),
              "jitter": Option(0.4, "number", low=0.0, high=1.0, high_inclusive=False),
              "jitter_prob": Option(0.8, "number", low=0.0, high=1.0)}
    dropout = False   # ssl_pretrain switches the encoder's dropout off

    def check(self, x):
        return image_data(x, self.name, 4, 4, "the CNN halves them twice")

    def spec(self, x, encoder):
        return {"encoder": {"name": encoder, "input_shape": list(x.shape[1:])},
                "head": {"name": "projection", "n_outputs": self.options["projection_dim"],
                         "hidden": self.options["hidden"]}}

    def batch(self, x, y, gen):
        x, o = as_float(x), self.options
        views = torch.stack([augment(x, gen, o["min_scale"], o["flip"], o["jitter"], o["jitter_prob"])
                             for _ in range(2)], 1)
        partner = torch.arange(2 * len(x), device=x.device) ^ 1
        return views.flatten(0, 1), partner                # (2B, C, H, W), (2B,)

    def _similarity(self, outputs):
        """(views, every view of the batch) cosine similarity / temperature, and each view's partner's
        column. Data-parallel, the columns are all ranks' views, this rank's from `offset` on."""
        z = F.normalize(outputs.float(), dim=1)
        z_all, offset = distributed.gather_rows(z)
        rows = torch.arange(len(z), device=z.device)
        sim = z @ z_all.T / self.options["temperature"]
        sim[rows, rows + offset] = float("-inf")          # a view is not its own partner
        return sim, (rows ^ 1) + offset                   # offset is even: two views per image

    def loss(self, outputs, targets):
        sim, partner = self._similarity(outputs)
        # the loop asks metrics() of the same outputs next: keep the matrix (and, data-parallel,
        # the gather) for it rather than build it twice; `outputs` is kept so its memory is not reused
        self._kept = (outputs.detach(), outputs._version, sim.detach(), partner)
        return F.cross_entropy(sim, partner)

    def metrics(self, outputs, targets):
        kept, self._kept = getattr(self, "_kept", None), None
        if kept is not None and _same_tensor(kept[0], kept[1], outputs):
            sim, partner = kept[2:]
        else:
            sim, partner = self._similarity(outputs)
        return {"accuracy": (sim.argmax(1) == partner).float().mean()}

    def decode(self, outputs, targets):
        return self._similarity(outputs)[0].argmax(1)     # the partner each view picks


def _same_tensor(a: torch.Tensor, version: int, b: torch.Tensor) -> bool:
    """b is a (or a.detach()) still holding the values a had at `version`: same memory, shape and
    strides, and no in-place change since (a and a.detach() share one version counter)."""
    return (a.data_ptr() == b.data_ptr() and a.shape == b.shape and a.stride() == b.stride()
            and a.dtype == b.dtype and a.device == b.device and b._version == version)
