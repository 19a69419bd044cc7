"""Relative position (Doersch, Gupta & Efros 2015): where does a second patch sit around a first?

The image is cut into a 3x3 grid; the centre patch and one of its 8 neighbours (chosen at
random, with random jitter inside their cells) go through the same encoder; the head concatenates
the two feature vectors and predicts which neighbour it was (8 classes).
"""
from __future__ import annotations

import torch

from ._patches import MIN_PATCH, Grid, grid_data, grid_embed
from .base import ClassificationPretext, register
from .options import Option
from ..train import as_float

NEIGHBOURS = (0, 1, 2, 3, 5, 6, 7, 8)   # row-major cells of the 3x3 grid around the centre (4)
CENTRE = 4


@register
class RelativePosition(ClassificationPretext):
    name = "relative_position"
    modality = "images"
    input = "(n, height, width[, channels]), at least 15x15 (a 3x3 grid of patches of at least 4x4)"
    predicts = "which of the 8 neighbours of a centre patch a second patch is (8 classes)"
    reference = "Doersch, Gupta & Efros 2015, Unsupervised visual representation learning by context prediction"
    schema = {"patch_size": Option(None, "int", low=MIN_PATCH, none=True),   # None: the largest that fits
              "hidden": Option(256, "int", low=1)}
    target_names = ["top left", "top", "top right", "left", "right", "bottom left", "bottom", "bottom right"]

    def check(self, x):
        x, patch = grid_data(x, self.name, 3, self.options["patch_size"])
        self.options["patch_size"] = patch
        return x

    def _grid(self, height, width) -> Grid:
        return Grid(height, width, 3, self.options["patch_size"])

    def spec(self, x, encoder):
        p = self.options["patch_size"]
        return {"encoder": {"name": encoder, "input_shape": [p, p, *x.shape[3:]]},
                "head": {"name": "concat", "n_outputs": 8, "k": 2, "hidden": self.options["hidden"]}}

    def batch(self, x, y, gen):
        x = as_float(x)                                                   # (B, C, H, W)
        targets = torch.randint(0, 8, (len(x),), generator=gen, device=x.device)
        neighbour = torch.tensor(NEIGHBOURS, device=x.device)[targets]
        cells = torch.stack([torch.full_like(neighbour, CENTRE), neighbour], 1)   # (B, 2)
        patches = self._grid(x.shape[2], x.shape[3]).cut(x, cells, gen)          # (B, 2, C, p, p)
        return patches.flatten(0, 1), targets

    def embed(self, encoder, x):
        return grid_embed(self._grid(x.shape[2], x.shape[3]), encoder, x)
