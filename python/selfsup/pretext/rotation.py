"""Rotation (Gidaris et al. 2018): which of 0/90/180/270 degrees was the image turned by?

The seminar's pretext task. Each image of a batch is turned by a random multiple of 90 degrees
(torch.rot90 on the device batch); the network predicts which of the 4. With
``all_rotations=True`` every image appears in all four orientations in the same batch, as the paper
trains (it reports that feeding all four rotated copies of an image together works better than one
random rotation each; checked in tests/test_pretext_images.py: rows 4b..4b+3 are image b at
0/90/180/270 degrees with targets 0..3). A batch of B images then holds 4B inputs, so an epoch costs four times as
much. Differs: the paper's network is a NIN/AlexNet trained with SGD; here any image encoder.
"""
from __future__ import annotations

import torch

from .base import ClassificationPretext, image_data, register
from .options import Option
from ..train import as_float


@register
class Rotation(ClassificationPretext):
    name = "rotation"
    modality = "images"
    input = "(n, height, width[, channels]), square, at least 4x4"
    predicts = "which of 0/90/180/270 degrees the image was turned (4 classes)"
    reference = "Gidaris, Singh & Komodakis 2018, Unsupervised representation learning by predicting image rotations"
    schema = {"all_rotations": Option(False, "bool")}
    target_names = ["0 degrees", "90 degrees", "180 degrees", "270 degrees"]

    def check(self, x):
        x = image_data(x, self.name, 4, 4, "the CNN halves them twice")
        if x.shape[1] != x.shape[2]:
            raise ValueError(f"task \"rotation\" turns images by 90 degrees, so they must be square; `x` images "
                             f"are {x.shape[1]}x{x.shape[2]}. Crop them to a square first.")
        return x

    def spec(self, x, encoder):
        return {"encoder": {"name": encoder, "input_shape": list(x.shape[1:])},
                "head": {"name": "linear", "n_outputs": 4}}

    def batch(self, x, y, gen):
        x = as_float(x)                                   # (B, C, H, W)
        if self.options["all_rotations"]:
            # sample-major: image b turned 0, 90, 180, 270 degrees at rows 4b .. 4b+3
            turned = torch.stack([torch.rot90(x, k, dims=(2, 3)) for k in range(4)], 1)
            targets = torch.arange(4, device=x.device).repeat(len(x))
            return turned.flatten(0, 1), targets
        targets = torch.randint(0, 4, (len(x),), generator=gen, device=x.device)
        # all four turns, then each image's own: gathering avoids boolean masks (a GPU sync each)
        turns = torch.stack([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])   # (4, B, C, H, W)
        return turns[targets, torch.arange(len(x), device=x.device)], targets
