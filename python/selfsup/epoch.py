"""What a training loop does around the steps of each epoch, the same for every loop.

`train.fit_side_by_side` (every learner) and `grouped.fit_grouped` (fit_replicates(exact=False))
both go through `Epoch`, so both show progress through `progress.reporter` (R's `message()` when
called from R), stop at the first non-finite loss (`LossGuard`) and keep the rows of an
interrupted epoch (Ctrl-C). A loop uses it like this::

    ep = Epoch(rep, guard, desc, n_batches, histories)
    try:
        for ...:                      # the epoch's batches
            ...                       # forward, backward, optimizer step
            ep.step(losses)           # (n_models,) this step's losses
        ep.check(epoch)               # raises TrainingDiverged (weights put back) at a NaN/Inf
        rows = ...                    # one history row per model (validation included)
    except KeyboardInterrupt:
        ep.interrupted(sums, n_seen)  # the partial rows, and their summary line
        raise
    ep.finish(rows)                   # the epoch's summary line
"""
from __future__ import annotations

import time

import torch

from .loss_guard import LossGuard
from .progress import Silent


class Epoch:
    """One epoch of a loop that trains `len(histories)` models at once (see the module docstring)."""

    def __init__(self, rep: Silent, guard: LossGuard, desc: str, n_batches: int, histories: list[list[dict]]):
        self.rep, self.guard, self.desc, self.n_batches, self.histories = rep, guard, desc, n_batches, histories
        self.before = [len(h) for h in histories]   # a model that logged the epoch already keeps its row
        self.done = 0                               # batches done
        self.start = time.perf_counter()
        rep.start(n_batches, desc, "batch")
        guard.start_epoch()

    def step(self, losses: torch.Tensor) -> None:
        """A batch is done (after the optimizer step); `losses`: (n_models,) its losses."""
        self.guard.record(losses)
        self.done += 1
        self.rep.update()

    def check(self, epoch: int) -> None:
        """At the end of the batches: stop at a non-finite loss or weight (`LossGuard.end_epoch`)."""
        self.guard.end_epoch(epoch)

    def finish(self, rows: list[dict]) -> None:
        """The epoch's summary line: the mean of the models' `rows`."""
        self.rep.epoch_end(self.desc, mean_row(rows), time.perf_counter() - self.start)

    def interrupted(self, sums: list[dict], n_seen: int) -> list[dict]:
        """Ctrl-C: history rows of training means over the batches done (`sums`: per model, {metric:
        sum over the `n_seen` samples seen}) and `partial` = the share of the batches done; their
        summary line. Returns the rows added (none before the first batch)."""
        rows = []
        for history, n_rows, model_sums in zip(self.histories, self.before, sums, strict=True):
            if len(history) == n_rows and self.done > 0:
                row = {"epoch": n_rows + 1, **{k: float(v) / n_seen for k, v in model_sums.items()},
                       "partial": self.done / self.n_batches}
                history.append(row)
                rows.append(row)
        if rows:
            self.rep.epoch_end(f"{self.desc} interrupted after {self.done}/{self.n_batches} batches", mean_row(rows),
                               time.perf_counter() - self.start)
        return rows


def mean_row(rows: list[dict]) -> dict:
    """The models' rows averaged, entry by entry (what a summary line of several models shows)."""
    return {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}
