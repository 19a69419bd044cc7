"""selfsup: the five types of learning of a self-supervised-learning seminar, on one PyTorch core.

The public API is flat: ``import selfsup as ss; ss.fit_supervised(x, y)``.
"""
from .data import load_dataset, sample_indices
from .device import resolve_device
from .model import (Model, build_model, clone_model, freeze_weights, get_weights, load_model,
                    save_model, set_weights, unfreeze_weights)
from .supervised import evaluate, fit_supervised, predict

__version__ = "0.1.0"

__all__ = [
    "Model", "build_model", "clone_model", "evaluate", "fit_supervised", "freeze_weights",
    "get_weights", "load_dataset", "load_model", "predict", "resolve_device", "sample_indices", "save_model",
    "set_weights", "unfreeze_weights",
]
