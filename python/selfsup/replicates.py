"""Replicates: several classifiers, each trained on its own draw of the data, side by side.

The seminar trains 20 small models on 20 draws of 150 labels. `fit_replicates` is the same as
calling `fit_supervised(x[subsets[i]], y[subsets[i]], model=models[i], seed=seeds[i], ...)` for
each i, and gives identical models; side by side (`train.fit_side_by_side`) every step advances all
models with one backward pass and one Adam update, which saves per-step work, and on a CPU with
several cores each of torch's threads steps its own group of the models (`lanes.py`: the seminar's
20 models at batch 1 on 2 cores, 1.3-1.6x faster than on one). `exact=False` trades bit-identity for speed: the
models train as one grouped network (`grouped.py`), equal in distribution to the exact path.

Under torchrun the replicates are spread over the ranks (`distributed.owners`: contiguous blocks);
each rank trains its share as above and the models come back to every rank, bit for bit the ones
one process trains.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import time

import numpy as np

from . import _validate as v
from . import distributed, progress
from .device import resolve_seed
from .model import Model, check_inputs_for, check_model
from .settings import check_validation_split, fit_settings
from .grouped import check_groupable, fit_grouped
from .train import Classification, fit, fit_side_by_side


def fit_replicates(models: Sequence[Model], x, y, subsets: Sequence, *, seeds: Sequence[int] | None = None,
                   epochs: int = 10, batch_size: int = 64, validation_split: float = 0.0, lr: float = 1e-3,
                   side_by_side: bool | None = None, exact: bool = True, device: str = "auto",
                   verbose: bool = True) -> list[Model]:
    """Train each of `models` (in place) on its own subset of (x, y).

    Parameters
    ----------
    models : list of Model
        Classifiers, one per replicate (distinct objects; `clone_model` or `build_model` them).
    x, y : images and labels, as for `fit_supervised`.
    subsets : list of index arrays
        ``subsets[i]`` holds the 0-based positions of the samples model i trains on, in that order
        (its last `validation_split` share is held out, as in `fit_supervised`).
    seeds : list of int, optional
        Seed of each replicate (batch order and dropout); drawn at random when None.
    epochs, batch_size, validation_split, lr : as for `fit_supervised`.
    side_by_side : bool, optional
        True: train all models at once; False: one after another. Both give identical models. None
        (default): side by side when the subsets have equal size (it needs that).
    exact : bool, default=True
        True: each model bit-identical to training it alone with `fit_supervised`. False: the models
        train as one grouped network (grouped convolutions, batched matrix products): faster where
        per-step overhead dominates (GPUs; on 2 CPU cores at batch 1 the exact path, which shares the
        cores among the models, is 1.13x faster), results equal in distribution but not bit for bit (other summation
        orders; dropout masks from one stream). Needs equal-size subsets and "cnn"/"mlp" classifiers
        of one architecture.
    device, verbose : as for `fit_supervised`.
        Under torchrun each rank trains a share of the replicates (on its own GPU), and every
        rank returns all of them.

    Returns
    -------
    list of Model, the trained `models`.
    """
    settings = fit_settings(epochs, batch_size, validation_split, lr, None, device, verbose)
    models = _check_models(models)
    x = check_inputs_for(models[0], x)
    for model in models[1:]:
        check_inputs_for(model, x)
    subsets = _check_subsets(subsets, len(models), len(x))
    for i, s in enumerate(subsets):
        check_validation_split(settings.validation_split, len(s), f"samples of `subsets[{i}]`")
    seeds = _check_seeds(seeds, len(models))
    y = v.check_labels(y, len(x), "y", n_classes=min(len(m.classes) for m in models))

    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"`exact` must be True or False; got {exact!r}.")
    if not exact:
        if side_by_side is False:
            raise ValueError("`exact = False` trains the models together as one grouped network; it cannot go "
                             "with `side_by_side = False`.")
        _side_by_side(True, subsets)             # equal sizes, or the message that says so
        check_groupable([m.net for m in models])
        if distributed.world().parallel:
            raise ValueError("`exact = False` runs in one process; under torchrun use exact = True (the "
                             "replicates are then spread over the ranks).")
        fit_grouped([m.net for m in models], [x[s] for s in subsets], [y[s] for s in subsets], seeds, settings,
                    [m.history for m in models])
        return list(models)
    together = _side_by_side(side_by_side, subsets)
    world = distributed.world()
    if world.parallel:  # every rank must use the same seeds, then trains its own share
        seeds = distributed.agree([resolve_seed(seed) for seed in seeds], world)
    owner = distributed.owners(len(models), world)
    mine = [i for i in range(len(models)) if owner[i] == world.rank]
    _train([models[i] for i in mine], x, y, [subsets[i] for i in mine], [seeds[i] for i in mine], settings,
           together, verbose=settings.verbose and world.main)
    distributed.share_models([m.net for m in models], [m.history for m in models], owner, world)
    return list(models)


def _train(models, x, y, subsets, seeds, settings, together: bool, verbose: bool) -> None:
    """Train `models` in this process alone: side by side (`together`) or one after another."""
    task, alone = Classification(), distributed.SINGLE
    if not models:
        return
    if together:
        fit_side_by_side([m.net for m in models], task, [x[s] for s in subsets], [y[s] for s in subsets],
                         seeds, replace(settings, verbose=verbose), [m.history for m in models], alone)
        return
    # one summary line per model, not one per model and epoch
    with progress.reporter(verbose) as rep:
        for i, (model, s, seed) in enumerate(zip(models, subsets, seeds), start=1):
            start = time.perf_counter()
            fit(model.net, task, x[s], y[s], replace(settings, seed=seed, verbose=False), model.history, alone)
            rep.epoch_end(f"Replicate {i}/{len(models)}", model.history[-1], time.perf_counter() - start)


def _side_by_side(side_by_side, subsets: list[np.ndarray]) -> bool:
    """The user's choice, checked; by default side by side whenever the subsets allow it."""
    sizes = sorted({len(s) for s in subsets})
    if side_by_side is None:
        return len(sizes) == 1
    if not isinstance(side_by_side, (bool, np.bool_)):
        raise TypeError(f"`side_by_side` must be True, False or None; got {side_by_side!r}.")
    if side_by_side and len(sizes) > 1:
        raise ValueError(f"`side_by_side` needs `subsets` of equal size; got sizes {sizes}.")
    return bool(side_by_side)


def _check_models(models) -> list[Model]:
    if isinstance(models, Model) or not isinstance(models, Sequence) or not len(models):
        raise TypeError(f"`models` must be a non-empty list of selfsup Models; got {type(models).__name__}.")
    models = list(models)
    seen: dict[int, int] = {}
    for i, model in enumerate(models):
        check_model(model, v.element("models", i), classifier=True)
        if id(model.net) in seen:
            raise ValueError(f"`{v.element('models', seen[id(model.net)])}` and `{v.element('models', i)}` are the "
                             "same model; each replicate needs its own (use clone_model()).")
        seen[id(model.net)] = i
    return models


def _check_subsets(subsets, n_models: int, n: int) -> list[np.ndarray]:
    if isinstance(subsets, np.ndarray) or not isinstance(subsets, Sequence):
        raise TypeError(f"`subsets` must be a list of index vectors, one per model; got {type(subsets).__name__}.")
    if len(subsets) != n_models:
        raise ValueError(f"`subsets` has {len(subsets)} index vectors but there are {n_models} models; they must match.")
    return [v.check_indices(s, n, v.element("subsets", i)) for i, s in enumerate(subsets)]


def _check_seeds(seeds, n_models: int) -> list[int | None]:
    if seeds is None:
        return [None] * n_models
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, np.ndarray)):
        raise TypeError(f"`seeds` must be a list of {n_models} whole numbers; got {type(seeds).__name__}.")
    if len(seeds) != n_models:
        raise ValueError(f"`seeds` has {len(seeds)} values but there are {n_models} models; they must match.")
    return [v.check_seed(s, v.element("seeds", i)) for i, s in enumerate(seeds)]
