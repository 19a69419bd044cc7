"""Jigsaw puzzles (Noroozi & Favaro 2016): which permutation shuffled the tiles?

The image is cut into a g x g grid of tiles (random jitter inside their cells); the tiles are
shuffled by one permutation from a fixed set, chosen at random per image; the same encoder
sees every tile and the head, seeing the concatenated features, predicts which permutation it
was. As in the paper, the set is chosen so that its permutations differ in as many positions as
possible (greedy maximal minimum Hamming distance), from a fixed seed, so it is the same
everywhere.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from ._patches import MIN_PATCH, Grid, grid_data, grid_embed
from .base import ClassificationPretext, register
from .options import Option
from ..train import as_float


@lru_cache(maxsize=16)
def permutation_set(n_tiles: int, n_permutations: int, candidates: int = 2000) -> np.ndarray:
    """(n_permutations, n_tiles) permutations far apart in Hamming distance; the first is identity."""
    rng = np.random.RandomState(0)
    if math.factorial(n_tiles) <= candidates:
        from itertools import permutations
        pool = np.array(list(permutations(range(n_tiles))))
    else:
        pool = np.array([rng.permutation(n_tiles) for _ in range(candidates)])
        pool = np.unique(np.vstack([np.arange(n_tiles), pool]), axis=0)
    chosen = [np.arange(n_tiles)]
    nearest = (pool != chosen[0]).sum(1)                 # distance of each candidate to the set
    for _ in range(n_permutations - 1):
        pick = int(np.argmax(nearest))
        chosen.append(pool[pick])
        nearest = np.minimum(nearest, (pool != pool[pick]).sum(1))
    return np.stack(chosen)


@register
class Jigsaw(ClassificationPretext):
    name = "jigsaw"
    modality = "images"
    input = "(n, height, width[, channels]), at least 15x15 (a 3x3 grid of tiles of at least 4x4)"
    predicts = "which of a fixed set of permutations shuffled the grid's tiles"
    reference = "Noroozi & Favaro 2016, Unsupervised learning of visual representations by solving jigsaw puzzles"
    schema = {"grid": Option(3, "int", low=2), "n_permutations": Option(30, "int", low=2),
              "patch_size": Option(None, "int", low=MIN_PATCH, none=True),   # None: the largest that fits
              "hidden": Option(256, "int", low=1)}

    def __init__(self, **options):
        super().__init__(**options)
        grid, n = self.options["grid"], self.options["n_permutations"]
        if n > math.factorial(grid * grid):
            raise ValueError(f"`n_permutations` is {n}, but a {grid}x{grid} grid has only "
                             f"{math.factorial(grid * grid)} permutations.")
        self.target_names = [f"permutation {i}" for i in range(n)]

    def check(self, x):
        x, patch = grid_data(x, self.name, self.options["grid"], self.options["patch_size"])
        self.options["patch_size"] = patch
        return x

    def _grid(self, height, width) -> Grid:
        return Grid(height, width, self.options["grid"], self.options["patch_size"])

    def permutations(self, device) -> torch.Tensor:
        g = self.options["grid"]
        return torch.from_numpy(permutation_set(g * g, self.options["n_permutations"])).to(device)

    def spec(self, x, encoder):
        p, g = self.options["patch_size"], self.options["grid"]
        return {"encoder": {"name": encoder, "input_shape": [p, p, *x.shape[3:]]},
                "head": {"name": "concat", "n_outputs": self.options["n_permutations"], "k": g * g,
                         "hidden": self.options["hidden"]}}

    def batch(self, x, y, gen):
        x = as_float(x)                                                   # (B, C, H, W)
        targets = torch.randint(0, self.options["n_permutations"], (len(x),), generator=gen, device=x.device)
        cells = self.permutations(x.device)[targets]                      # (B, k): tile i shows cell perm[i]
        tiles = self._grid(x.shape[2], x.shape[3]).cut(x, cells, gen)     # (B, k, C, p, p)
        return tiles.flatten(0, 1), targets

    def display(self, shown: dict) -> dict:
        """Adds "cells" (n, tiles): the grid cell (row-major, 0-based) each shown tile was cut from,
        so that a plot can show the permutation itself, not only its number."""
        out = super().display(shown)
        g = self.options["grid"]
        out["cells"] = permutation_set(g * g, self.options["n_permutations"])[out["targets"]]
        return out

    def embed(self, encoder, x):
        return grid_embed(self._grid(x.shape[2], x.shape[3]), encoder, x)
