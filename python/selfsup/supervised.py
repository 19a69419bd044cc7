"""Supervised learning: fit a classifier on labelled images, evaluate it, predict with it."""
from __future__ import annotations

import numpy as np
import torch

from . import _validate as v
from .device import resolve_device
from .augment import strong_augment, weak_augment
from .model import Model, build_model, check_inputs_for, check_model
from .nets import IMAGE_ENCODERS
from .settings import check_validation_split, fit_settings
from .train import Classification, as_float, evaluate_task, fit, forward_all


def fit_supervised(x, y, *, model: Model | None = None, classes=None, encoder: str = "cnn",
                   epochs: int = 10, batch_size: int = 64, validation_split: float = 0.0,
                   lr: float = 1e-3, augment: str | None = None, flip: bool = False, optimizer: str = "adam",
                   weight_decay: float = 0.0, schedule: str = "constant", ema: float = 0.0,
                   seed: int | None = None, device: str = "auto", verbose: bool = True) -> Model:
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
    encoder : {"cnn", "mlp", "convnet"}, default="cnn"
        The seminar CNN, an MLP, or "convnet": a small conv net with batch norm (better at few labels).
    epochs, batch_size, validation_split, lr : training settings (keras' meaning).
    augment : {None, "weak", "strong"}, default=None
        "weak": each training batch is shifted by up to 12.5% (and flipped with `flip`), FixMatch's
        weak augmentation; "strong": FixMatch's strong one, the weak view then two RandAugment
        operations and Cutout (`selfsup.augment`). Made on the device; validation batches are not
        augmented.
    flip : bool, default=False
        With `augment`: also mirror images left-right (clothes, photos; not digits).
    optimizer : {"adam", "sgd"}, default="adam"
        Adam (keras' default), or SGD with Nesterov momentum 0.9.
    weight_decay : float, default=0
        L2 penalty on the kernels (weights with 2+ dimensions), not on biases or norms.
    schedule : {"constant", "cosine"}, default="constant"
        "cosine": the rate decays as lr * (1 + cos(pi * step / steps)) / 2 over this fit's steps.
    ema : float in [0, 1), default=0
        Decay of a moving average of the weights, updated every step; the fit ends with (and
        validates) the averaged weights. 0: none.
    seed : int, optional
        Seeds the initial weights, batch order and dropout: same seed, same model. Drawn when
        None; a new model keeps it as `model.seed`.
    device : {"auto", "cpu", "cuda"}, default="auto"
    verbose : bool, default=True
        Show a progress bar per epoch.

    Returns
    -------
    Model, with one row of history per epoch.
    """
    settings = fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose, optimizer,
                            weight_decay, schedule, ema)
    if augment is not None:
        v.check_choice(augment, "augment", AUGMENTS)
    if model is None:
        v.check_choice(encoder, "encoder", IMAGE_ENCODERS)
        x = v.check_images(x, "x", ndims=(2, 3, 4) if encoder == "mlp" else (3, 4))
        y = v.check_labels(y, len(x), "y")
        names = v.check_classes(classes, y)
        model = build_model(x.shape[1:], names, encoder=encoder, seed=settings.seed)
    else:
        check_model(model, classifier=True)
        x = check_inputs_for(model, x)
        y = v.check_labels(y, len(x), "y", n_classes=len(model.classes))
    check_validation_split(settings.validation_split, len(x))
    if augment is not None and x.ndim == 2:
        raise ValueError(f"`augment` \"{augment}\" shifts images, but `x` is a table of features; use augment=None.")
    task = Classification() if augment is None else AugmentedClassification(bool(flip), augment == "strong")
    fit(model.net, task, x, y, settings, model.history)
    return model


AUGMENTS = ("weak", "strong")


class AugmentedClassification(Classification):
    """Classification on augmented training batches: FixMatch's weak view (shift, optional flip) or
    its strong view (the weak one, then two RandAugment operations and Cutout)."""

    def __init__(self, flip: bool, strong: bool = False):
        self.flip, self.strong = flip, strong

    def batch(self, x, y, gen):
        x = as_float(x)
        if torch.is_grad_enabled():          # training batches only; validation sees the images as they are
            x = strong_augment(x, gen, self.flip) if self.strong else weak_augment(x, gen, self.flip)
        return x, y


def evaluate(model: Model, x, y, *, batch_size: int = 1024, device: str = "auto") -> dict[str, float]:
    """Loss (cross-entropy) and accuracy of a classifier on (x, y)."""
    check_model(model, classifier=True)
    x = check_inputs_for(model, x)
    y = v.check_labels(y, len(x), "y", n_classes=len(model.classes))
    dev = resolve_device(device)
    model.net.to(dev)
    return evaluate_task(model.net, Classification(), x, y, seed=0, device=dev,
                         batch_size=v.check_int(batch_size, "batch_size"))


def predict(model: Model, x, *, type: str = "class", batch_size: int = 1024,
            device: str = "auto") -> np.ndarray:
    """Predicted class indices (n,) or class probabilities (n, k) for `x`."""
    check_model(model, classifier=True)
    v.check_choice(type, "type", ("class", "prob"))
    x = check_inputs_for(model, x)
    logits = forward_all(model.net, x, resolve_device(device), v.check_int(batch_size, "batch_size"))
    if type == "class":
        return logits.argmax(1).numpy().astype(np.int64)
    return torch.softmax(logits, 1).numpy()
