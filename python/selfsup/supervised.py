"""Supervised learning: fit a classifier on labelled images, evaluate it, predict with it."""
from __future__ import annotations

import numpy as np
import torch

from . import _validate as v
from .device import resolve_device
from .model import Model, build_model
from .nets import IMAGE_ENCODERS, channels_first
from .train import Classification, FitSettings, evaluate_task, fit, forward_all


def fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose) -> FitSettings:
    """Validated settings of the training loop, shared by every public fit function."""
    resolve_device(device)  # fail now, not after the data moved
    return FitSettings(
        epochs=v.check_int(epochs, "epochs"),
        batch_size=v.check_int(batch_size, "batch_size"),
        validation_split=v.check_fraction(validation_split, "validation_split"),
        lr=v.check_number(lr, "lr", 0.0, None, low_inclusive=False),
        seed=v.check_seed(seed),
        device=device,
        verbose=bool(verbose),
    )


def check_inputs_for(model: Model, x, name: str = "x") -> np.ndarray:
    """`x` validated and checked against the shape the model was built for."""
    x = v.check_images(x, name, ndims=(2, 3, 4) if model.spec["encoder"]["name"] == "mlp" else (3, 4))
    if channels_first(x.shape[1:]) != channels_first(model.input_shape):
        raise ValueError(f"`{name}` has samples of shape {tuple(x.shape[1:])}, but the model was built for "
                         f"{tuple(model.input_shape)}.")
    return x


def fit_supervised(x, y, *, model: Model | None = None, classes=None, encoder: str = "cnn",
                   epochs: int = 10, batch_size: int = 64, validation_split: float = 0.0,
                   lr: float = 1e-3, seed: int | None = None, device: str = "auto",
                   verbose: bool = True) -> Model:
    """Train a classifier (new, or `model` further) on images `x` with labels `y`.

    Parameters
    ----------
    x : array of shape (n, height, width[, channels])
        uint8/integer pixels 0..255 (scaled to [0, 1]) or floats (used as given);
        (n, features) with ``encoder="mlp"``.
    y : array of shape (n,)
        Class indices 0..k-1.
    model : Model, optional
        Train this model further (in place) instead of building a new one.
    classes : int or list of str, optional
        Number or names of the classes of a new model; default 0..max(y).
    encoder : {"cnn", "mlp"}, default="cnn"
        The seminar CNN, or an MLP.
    epochs, batch_size, validation_split, lr : training settings (keras' meaning; Adam optimiser).
    seed : int, optional
        Seeds the initial weights, batch order and dropout: same seed, same model.
    device : {"auto", "cpu", "cuda"}, default="auto"
    verbose : bool, default=True
        Show a progress bar per epoch.

    Returns
    -------
    Model, with one row of history per epoch.
    """
    settings = fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose)
    if model is None:
        v.check_choice(encoder, "encoder", IMAGE_ENCODERS)
        x = v.check_images(x, "x", ndims=(2, 3, 4) if encoder == "mlp" else (3, 4))
        y = v.check_labels(y, len(x), "y")
        names = v.check_classes(classes, y)
        model = build_model(x.shape[1:], names, encoder=encoder, seed=settings.seed)
    else:
        _check_model(model)
        x = check_inputs_for(model, x)
        y = v.check_labels(y, len(x), "y", n_classes=len(model.classes))
    if int(len(x) * settings.validation_split) == len(x):
        raise ValueError(f"`validation_split` {settings.validation_split} leaves no training samples of {len(x)}.")
    fit(model.net, Classification(), x, y, settings, model.history)
    return model


def _check_model(model) -> None:
    if not isinstance(model, Model):
        raise TypeError(f"`model` must be a selfsup Model; got {type(model).__name__}.")
    if not model.classes:
        raise ValueError(f"`model` has a {model.task} head, not a classifier; use ssl_finetune() to add one.")


def evaluate(model: Model, x, y, *, batch_size: int = 1024, device: str = "auto") -> dict[str, float]:
    """Loss (cross-entropy) and accuracy of a classifier on (x, y)."""
    _check_model(model)
    x = check_inputs_for(model, x)
    y = v.check_labels(y, len(x), "y", n_classes=len(model.classes))
    dev = resolve_device(device)
    model.net.to(dev)
    return evaluate_task(model.net, Classification(), x, y, seed=0, device=dev,
                         batch_size=v.check_int(batch_size, "batch_size"))


def predict(model: Model, x, *, type: str = "class", batch_size: int = 1024,
            device: str = "auto") -> np.ndarray:
    """Predicted class indices (n,) or class probabilities (n, k) for `x`."""
    _check_model(model)
    v.check_choice(type, "type", ("class", "prob"))
    x = check_inputs_for(model, x)
    logits = forward_all(model.net, x, resolve_device(device), v.check_int(batch_size, "batch_size"))
    if type == "class":
        return logits.argmax(1).numpy().astype(np.int64)
    return torch.softmax(logits, 1).numpy()
