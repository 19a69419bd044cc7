"""Batches for the training loop: gathered by index from data on the device, or streamed through it.

`Feed(x, y, device, budget)` holds one fit's data. When `x` fits the device budget (or there is
none) it is copied to the device once, uint8 staying uint8, and each batch is ``x[idx]``. When it
does not (e.g. a memory-mapped ``.npy`` file larger than the GPU), `x` stays where it is (host
memory or the memory map) and each *chunk* of consecutive steps is fetched with one vectorised
host gather of the rows in sorted order (sequential reads), one copy to the device and one
on-device reorder; the steps then index into the chunk. No sample is decoded on the CPU, and both
ways give the same batches for the same permutation, hence the same model for the same seed.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import torch



def to_device(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """(n, h, w[, c]) channel-last numpy -> (n, c, h, w) tensor on `device`; (n, f) stays."""
    with warnings.catch_warnings():   # a read-only memory map: torch only reads it
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        t = torch.from_numpy(x).to(device)
    if t.ndim == 3:
        return t.unsqueeze(1)
    if t.ndim == 4:
        return t.permute(0, 3, 1, 2).contiguous()
    return t


class Feed:
    """One fit's data (x: validated numpy array, possibly memory-mapped; y: labels or None)."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None, device: torch.device, budget: int | None = None):
        self.device = device
        self.n = len(x)
        self.row_bytes = int(np.prod(x.shape[1:], dtype=np.int64)) * x.dtype.itemsize
        self.resident = budget is None or self.row_bytes * self.n <= budget
        self.budget = budget
        self.host = None if self.resident else x
        self.x = to_device(x, device) if self.resident else None
        self.y = None if y is None else torch.from_numpy(np.ascontiguousarray(y)).to(device)

    def __len__(self) -> int:
        return self.n

    def batches(self, perm: torch.Tensor, offsets: list[int]) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """(x, y) of each step: step b takes rows perm[offsets[b]:offsets[b+1]]."""
        if self.resident:
            for b in range(len(offsets) - 1):
                idx = perm[offsets[b]:offsets[b + 1]]
                yield self.x[idx], None if self.y is None else self.y[idx]
            return
        for first, last in self._chunks(offsets):
            block = self._fetch(perm[offsets[first]:offsets[last]])
            for b in range(first, last):
                rows = slice(offsets[b] - offsets[first], offsets[b + 1] - offsets[first])
                yield block[rows], None if self.y is None else self.y[perm[offsets[b]:offsets[b + 1]]]

    def chunk_rows(self) -> int:
        """Rows one chunk may hold on the device (at least one step's worth is always fetched)."""
        return max(1, self.budget // self.row_bytes)

    def _chunks(self, offsets: list[int]) -> Iterator[tuple[int, int]]:
        """Runs of consecutive steps [first, last) whose rows fit `chunk_rows` (one step at least)."""
        limit, first = self.chunk_rows(), 0
        while first < len(offsets) - 1:
            last = first + 1
            while last < len(offsets) - 1 and offsets[last + 1] - offsets[first] <= limit:
                last += 1
            yield first, last
            first = last

    def _fetch(self, idx: torch.Tensor) -> torch.Tensor:
        """Rows `idx` of the host array on the device, in the order of `idx`."""
        idx = idx.cpu().numpy()
        order = np.argsort(idx, kind="stable")
        rows = to_device(np.ascontiguousarray(self.host[idx[order]]), self.device)   # sorted: sequential reads
        back = torch.empty_like(torch.from_numpy(order))
        back[torch.from_numpy(order)] = torch.arange(len(order))                     # inverse permutation
        return rows[back.to(self.device)]

    def part(self, start: int, stop: int | None = None):
        """Samples start:stop as `evaluate_task` takes them: device tensors, or a `HostView`."""
        rows = slice(start, stop)
        y = None if self.y is None else self.y[rows]
        return (self.x[rows] if self.resident else HostView(self.host[rows], self.device)), y


class HostView:
    """Host rows that move to the device a slice at a time (validation of streamed data)."""

    def __init__(self, x: np.ndarray, device: torch.device):
        self.x, self.device = x, device

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, rows: slice) -> torch.Tensor:
        return to_device(np.ascontiguousarray(self.x[rows]), self.device)
