"""Training that blows up: stop at the first non-finite loss, warn about an absurd one.

Without this, `lr=1e30` trained on silently: loss NaN, every weight NaN, predictions all class 0,
and the first complaint came much later from another function. The loop (`train.fit_side_by_side`)
calls `LossGuard` at three points of each epoch:

- `start_epoch()`: a copy of every model's weights (one copy per epoch, on the device).
- `record(losses)`: keeps the step's (n_models,) loss tensor: a reference, no kernel, no sync.
- `end_epoch(epoch)`: one sync per epoch: the epoch's losses to the CPU, and whether every weight
  is finite. At the first non-finite loss (or weight) every model is put back to its weights at the
  start of the epoch, the last known to be good, which the history's last row describes, and
  `TrainingDiverged` says which epoch and batch and suggests a smaller `lr`.

Checking a loss every step would force a GPU sync every step; once per epoch costs nothing
measurable, at the price of finishing the epoch in which the loss broke.

Data-parallel (`world.parallel`), each rank records the loss of its own share of every batch: an
inf pixel in one rank's share, or a loss that breaks on one rank only, would stop that rank while
the others went on to the next collective and died waiting for it (`RankLost`). So `end_epoch`
first sums the epoch's losses and the weights' verdict over the ranks (one all-reduce of
n_batches * n_models + 1 numbers an epoch): every rank judges the global batches' losses, the ones
one process would see, and reaches the same verdict, epoch, batch and message.
"""
from __future__ import annotations

import warnings

import torch
from torch import nn

from . import distributed
from .distributed import World
from .settings import FitSettings

DEFAULT_LR = FitSettings.lr

# A loss this many times its first value (or 1, whichever is larger) is absurd: training diverges.
ABSURD = 1000.0


class TrainingDiverged(FloatingPointError):
    """The loss (or a weight) became NaN/Inf; the models were put back to their last good weights."""


class LossGuard:
    def __init__(self, nets: list[nn.Module], lr: float, world: World = distributed.SINGLE):
        self.nets, self.lr, self.world = nets, lr, world
        # float tensors of every state dict (weights and float buffers), and their copies
        self.tensors = [t for net in nets for t in net.state_dict().values() if t.is_floating_point()]
        self.saved = [torch.empty_like(t) for t in self.tensors]
        self.steps: list[torch.Tensor] = []
        self.first: list[float] | None = None   # each model's loss on its first batch of the fit
        self.warned = False

    @torch.no_grad()
    def start_epoch(self) -> None:
        torch._foreach_copy_(self.saved, self.tensors)
        self.steps = []

    def record(self, losses: torch.Tensor) -> None:
        """`losses`: (n_models,) this step's losses."""
        self.steps.append(losses.detach())

    @torch.no_grad()
    def end_epoch(self, epoch: int) -> None:
        losses = torch.stack(self.steps).float().cpu()          # (n_batches, n_models)
        weights_ok = bool(torch.stack([torch.isfinite(t).all() for t in self.tensors]).all())
        if self.world.parallel:
            losses, weights_ok = self._over_ranks(losses, weights_ok)
        bad = ~torch.isfinite(losses)
        if bad.any() or not weights_ok:
            torch._foreach_copy_(self.tensors, self.saved)
            raise TrainingDiverged(self._message(epoch, losses, bad))
        if self.first is None:
            self.first = losses[0].tolist()
        self._warn_if_absurd(epoch, losses)

    def _over_ranks(self, losses: torch.Tensor, weights_ok: bool) -> tuple[torch.Tensor, bool]:
        """The global batches' losses (n_batches, n_models) and whether every rank's weights are finite.

        A rank's loss is already scaled by n_r * W / m (`distributed.share`), so the sum over ranks / W
        is the global batch's mean loss; a NaN/Inf on any rank makes the sum NaN/Inf."""
        flat = torch.cat([losses.double().flatten(), torch.tensor([0.0 if weights_ok else 1.0], dtype=torch.float64)])
        distributed.sum_tensor_over_ranks(flat, self.world, "checking the epoch's losses")
        return (flat[:-1] / self.world.size).float().view(losses.shape), bool(flat[-1] == 0)

    def _message(self, epoch: int, losses: torch.Tensor, bad: torch.Tensor) -> str:
        n_batches, n_models = losses.shape
        if bad.any():
            step = int(bad.any(dim=1).nonzero()[0])
            model = int(bad[step].nonzero()[0])
            what = (f"the loss became {float(losses[step, model])} at epoch {epoch}, batch {step + 1} of "
                    f"{n_batches}{_which(model, n_models)}")
        else:
            what = f"the weights became NaN/Inf in epoch {epoch} (its last loss was {float(losses[-1].max()):.3g})"
        return (f"Training diverged: {what}. {self._advice()} The model is left with its weights from before "
                f"epoch {epoch}, the last finite ones.")

    def _advice(self) -> str:
        if self.lr > DEFAULT_LR:
            return f"Try a smaller `lr` (it is {self.lr:g}; the default is {DEFAULT_LR:g})."
        return f"Try a smaller `lr` (it is {self.lr:g}, e.g. {self.lr / 10:g}), or check the scale of `x`."

    def _warn_if_absurd(self, epoch: int, losses: torch.Tensor) -> None:
        if self.warned:
            return
        for model, first in enumerate(self.first):
            worst = float(losses[:, model].max())
            if worst > ABSURD * max(abs(first), 1.0):
                self.warned = True
                warnings.warn(f"The loss grew from {first:.3g} (first batch) to {worst:.3g} in epoch {epoch}"
                              f"{_which(model, losses.shape[1])}: training is diverging. {self._advice()}",
                              RuntimeWarning, stacklevel=4)
                return


def _which(model: int, n_models: int) -> str:
    return f" (model {model + 1} of {n_models} trained side by side)" if n_models > 1 else ""
