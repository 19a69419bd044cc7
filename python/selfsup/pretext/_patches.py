"""Patch grids shared by the multi-patch tasks (relative_position, jigsaw).

An image is divided into a g x g grid of cells; from each cell a square patch smaller than the
cell is cut at a random offset (the gap and jitter keep the network from solving the task by
continuing edges and lines across patch borders, as Doersch et al. and Noroozi & Favaro do).
The encoder sees patches, so its input_shape is the patch's; the head concatenates the k patch
features of one sample (the "concat" head of `nets`).
"""
from __future__ import annotations

import torch

from ..train import as_float
from .base import image_data

MIN_PATCH = 4  # the seminar CNN halves its input twice


class Grid:
    """Geometry of a g x g patch grid on h x w images (inputs already validated)."""

    def __init__(self, height: int, width: int, grid: int, patch_size: int):
        self.grid, self.patch = grid, patch_size
        self.cell_h, self.cell_w = height // grid, width // grid

    @staticmethod
    def default_patch(height: int, width: int, grid: int) -> int:
        cell = min(height, width) // grid
        return max(MIN_PATCH, cell - max(1, cell // 4))  # a gap of a quarter cell, at least 1 pixel

    def origins(self, cells: torch.Tensor, gen, jitter: bool):
        """Top-left corners (B, k) of patches in cells (B, k) (row-major cell index)."""
        top = (cells // self.grid) * self.cell_h
        left = (cells % self.grid) * self.cell_w
        room_h, room_w = self.cell_h - self.patch, self.cell_w - self.patch
        if jitter:
            top = top + torch.randint(0, room_h + 1, cells.shape, generator=gen, device=cells.device)
            left = left + torch.randint(0, room_w + 1, cells.shape, generator=gen, device=cells.device)
        else:
            top, left = top + room_h // 2, left + room_w // 2
        return top, left

    def cut(self, x: torch.Tensor, cells: torch.Tensor, gen=None, jitter: bool = True) -> torch.Tensor:
        """Patches (B, k, C, p, p) of images x (B, C, H, W) at cells (B, k)."""
        top, left = self.origins(cells, gen, jitter)
        steps = torch.arange(self.patch, device=x.device)
        rows = (top[..., None] + steps)[..., :, None]      # (B, k, p, 1)
        cols = (left[..., None] + steps)[..., None, :]     # (B, k, 1, p)
        b = torch.arange(len(x), device=x.device)[:, None, None, None]
        return x[b, :, rows, cols].permute(0, 1, 4, 2, 3)  # (B, k, p, p, C) -> (B, k, C, p, p)

    def all_cells(self, n: int, device) -> torch.Tensor:
        return torch.arange(self.grid * self.grid, device=device).expand(n, -1)


def grid_data(x, task: str, grid: int, patch_size) -> tuple:
    """Images checked for a g x g grid of patches; returns (x, patch size)."""
    patch = MIN_PATCH if patch_size is None else patch_size   # checked by the task's schema
    side = grid * (patch + 1)
    what = "tiles" if task == "jigsaw" else "patches"
    x = image_data(x, task, side, side, f"it cuts a {grid}x{grid} grid of {patch}x{patch}-pixel {what} "
                                        "with gaps of at least 1 pixel")
    if patch_size is None:
        patch = Grid.default_patch(x.shape[1], x.shape[2], grid)
    return x, patch


def grid_embed(grid: Grid, encoder, x) -> torch.Tensor:
    """Features of whole images: the encoder on every (centred) grid patch, concatenated (B, k * F)."""
    patches = grid.cut(as_float(x), grid.all_cells(len(x), x.device), jitter=False)
    return encoder(patches.flatten(0, 1)).flatten(1).reshape(len(x), -1)
