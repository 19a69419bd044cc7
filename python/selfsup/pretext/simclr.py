"""SimCLR (Chen et al. 2020): two augmented views of the same image should agree.

Each image of a batch is augmented twice on the device (random resized crop, horizontal flip,
brightness and contrast jitter); the views go through the encoder and a small projection head,
and the NT-Xent loss asks each view to pick its partner out of the 2B - 1 other views of the
batch by cosine similarity. Views are stacked sample-major: rows 2b and 2b + 1 are the two views
of image b, so the partner of row i is row i XOR 1. The projection head is `nets.heads.projection_head`.
Trained data-parallel, each rank compares its views with every rank's (`distributed.gather_rows`):
the loss is the one of the whole global batch, as in the paper (which gathers across TPU cores).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import distributed
from ..train import as_float
from .base import Pretext, image_data, register
from .options import Option


def augment(x: torch.Tensor, gen, min_scale: float, flip: bool, jitter: float) -> torch.Tensor:
    """A random view of every image of x (B, C, H, W) in [0, 1], drawn from `gen`."""
    b, dev = len(x), x.device

    def uniform(lo, hi):
        return lo + (hi - lo) * torch.rand(b, generator=gen, device=dev)

    # random resized crop: keep a square of `scale` of the side, anywhere inside the image
    scale = uniform(min_scale ** 0.5, 1.0)
    shift_x, shift_y = uniform(-1, 1) * (1 - scale), uniform(-1, 1) * (1 - scale)
    mirror = torch.where(torch.rand(b, generator=gen, device=dev) < 0.5, -1.0, 1.0) if flip else torch.ones(b, device=dev)
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 2] = scale * mirror, shift_x
    theta[:, 1, 1], theta[:, 1, 2] = scale, shift_y
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # brightness and contrast jitter (the colour jitter of grayscale images)
    shape = (b, 1, 1, 1)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean) * uniform(1 - jitter, 1 + jitter).view(shape) + mean
    out = out * uniform(1 - jitter, 1 + jitter).view(shape)
    return out.clamp(0, 1)


@register
class SimCLR(Pretext):
    name = "simclr"
    targets_are_positions = True
    modality = "images"
    input = "(n, height, width[, channels]), at least 4x4"
    predicts = "which other view in the batch comes from the same image (contrastive, NT-Xent loss)"
    reference = "Chen, Kornblith, Norouzi & Hinton 2020, A simple framework for contrastive learning (SimCLR)"
    schema = {"temperature": Option(0.5, "number", low=0.0, low_inclusive=False),
              "projection_dim": Option(64, "int", low=1),
              "hidden": Option(128, "int", low=1),
              "min_scale": Option(0.5, "number", low=0.0, high=1.0, low_inclusive=False),  # crop area share
              "flip": Option(True, "bool"),
              "jitter": Option(0.4, "number", low=0.0, high=1.0, high_inclusive=False)}

    def check(self, x):
        return image_data(x, self.name, 4, 4, "the CNN halves them twice")

    def spec(self, x, encoder):
        return {"encoder": {"name": encoder, "input_shape": list(x.shape[1:])},
                "head": {"name": "projection", "n_outputs": self.options["projection_dim"],
                         "hidden": self.options["hidden"]}}

    def batch(self, x, y, gen):
        x, o = as_float(x), self.options
        views = torch.stack([augment(x, gen, o["min_scale"], o["flip"], o["jitter"]) for _ in range(2)], 1)
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
        return F.cross_entropy(sim, partner)

    def metrics(self, outputs, targets):
        sim, partner = self._similarity(outputs)
        return {"accuracy": (sim.argmax(1) == partner).float().mean()}

    def decode(self, outputs, targets):
        return self._similarity(outputs)[0].argmax(1)     # the partner each view picks
