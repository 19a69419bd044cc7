"""The `Model` handle (network + classes + history) and what users do with weights and files.

Weights are addressed by keras-style layer names ("conv1.weight", "dense1.bias", "output.weight").
Models are saved as one safetensors file whose header carries the JSON metadata: no pickle, so
loading a file never runs code.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save as save_tensors

from ._validate import check_choice, check_images, check_int, check_position
from .device import resolve_seed
from .model_file import FORMAT, decode, read_bytes, write_atomic
from .nets import FLAT_ENCODERS, IMAGE_ENCODERS, Net, build_net
from .nets.layers import channels_first


class Model:
    """A trained (or untrained) network with its class names and training history.

    Attributes
    ----------
    net : torch.nn.Module with `.encoder` and `.head`
    classes : list of str or None (None for models that do not classify)
    history : list of dict, one row per epoch ({"epoch", "loss", ..., "val_loss", ...})
    task : str, what the head was trained for ("supervised", or a pretext task's name)
    """

    def __init__(self, net: Net, classes=None, history=None, task: str = "supervised"):
        self.net = net
        self.classes = list(classes) if classes is not None else None
        self.history = list(history or [])
        self.task = task

    @property
    def spec(self) -> dict:
        return self.net.spec

    @property
    def seed(self) -> int | None:
        """The seed the model was built and first trained with, drawn when the call had none: the
        same call with ``seed=model.seed`` gives the same model. (Training it further with
        ``fit_supervised(model=...)`` or ``fit_replicates()`` uses that call's own seed.)"""
        return self.spec.get("seed")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.spec["encoder"]["input_shape"])

    def layers(self) -> list[dict]:
        """One row per layer: name, type, number of weights, trainable."""
        rows = []
        for name, layer in self.net.layers():
            params = list(layer.parameters())
            rows.append({
                "name": name,
                "type": type(layer).__name__.replace("ReLU", "") if params else type(layer).__name__,
                "params": int(sum(p.numel() for p in params)),
                "trainable": bool(params) and all(p.requires_grad for p in params),
            })
        return rows

    @property
    def device(self) -> torch.device:
        """Where the weights are: the device of the last fit (training leaves them there)."""
        return next(self.net.parameters()).device

    def __repr__(self) -> str:
        enc = self.spec["encoder"]["name"]
        out = f"{len(self.classes)} classes" if self.classes else f"{self.task} head"
        n_params = sum(p.numel() for p in self.net.parameters())
        return (f"<selfsup Model: {enc} encoder {self.input_shape} -> {out}; {n_params:,} weights; "
                f"{len(self.history)} epochs trained{_partial(self.history)}; on {self.device}>")


def _partial(history: list[dict]) -> str:
    """What an interrupted last epoch (Ctrl-C; train.py marks its row `partial`) adds to the description."""
    if history and isinstance(history[-1], dict) and "partial" in history[-1]:
        return f" (the last one interrupted after {history[-1]['partial']:.0%} of its batches)"
    return ""


def check_model(model, name: str = "model", *, classifier: bool = False) -> Model:
    """`model` checked to be a selfsup Model, with a classifier head when `classifier`."""
    if not isinstance(model, Model):
        raise TypeError(f"`{name}` must be a selfsup Model; got {type(model).__name__}.")
    if classifier and not model.classes:
        raise ValueError(f"`{name}` has a {model.task} head, not a classifier; use ssl_finetune() to add one.")
    return model


def check_inputs_for(model: Model, x, name: str = "x") -> np.ndarray:
    """`x` validated as data for `model` and checked against the sample shape it was built for."""
    flat = model.spec["encoder"]["name"] in FLAT_ENCODERS
    x = check_images(x, name, ndims=(2, 3, 4) if flat else (3, 4))
    if channels_first(x.shape[1:]) != channels_first(model.input_shape):
        raise ValueError(f"`{name}` has samples of shape {tuple(x.shape[1:])}, but the model was built for "
                         f"{tuple(model.input_shape)}.")
    return x


def build_model(input_shape, classes=10, *, encoder: str = "cnn", seed: int | None = None) -> Model:
    """An untrained classifier: the seminar CNN (default) or an MLP, with keras-style initial weights.

    Parameters
    ----------
    input_shape : tuple of int
        (height, width) or (height, width, channels) for images; (features,) for the MLP.
    classes : int or list of str, default=10
        Number of classes or their names.
    encoder : {"cnn", "mlp"}, default="cnn"
    seed : int, optional
        Seeds the initial weights; drawn when None, and kept as `model.seed`.
    """
    check_choice(encoder, "encoder", IMAGE_ENCODERS)
    shape = _check_input_shape(input_shape, encoder)
    names = _class_names(classes)
    spec = {"encoder": {"name": encoder, "input_shape": list(shape)},
            "head": {"name": "linear", "n_outputs": len(names)}}
    return Model(build_net(spec, seed=resolve_seed(seed)), classes=names)


def _check_input_shape(input_shape, encoder: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in np.atleast_1d(np.asarray(input_shape)))
    except (TypeError, ValueError):
        raise TypeError(f"`input_shape` must be a tuple of whole numbers; got {input_shape!r}.") from None
    allowed = (1, 2, 3) if encoder == "mlp" else (2, 3)
    if len(shape) not in allowed or min(shape) < 1:
        want = "(height, width[, channels])" + (" or (features,)" if encoder == "mlp" else "")
        raise ValueError(f"`input_shape` must be {want} with positive sizes; got {shape}.")
    return shape


def _class_names(classes) -> list[str]:
    if isinstance(classes, (int, np.integer)) and not isinstance(classes, bool):
        return [str(i) for i in range(check_int(classes, "classes", minimum=2))]
    names = [str(c) for c in classes]
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"`classes` must be at least 2 distinct class names; got {names}.")
    return names


def clone_model(model: Model) -> Model:
    """An independent copy (weights, frozen layers, history)."""
    return copy.deepcopy(model)


# --------------------------------------------------------------------------------- weights
def _named_params(model: Model) -> dict[str, torch.nn.Parameter]:
    return {f"{layer}.{p}": param for layer, module in model.net.layers()
            for p, param in module.named_parameters()}


def get_weights(model: Model) -> dict[str, np.ndarray]:
    """The weights as {"conv1.weight": array, ...}, in layer order (torch layout: out, in, kh, kw)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in _named_params(model).items()}


def set_weights(model: Model, weights: dict) -> Model:
    """Set some or all weights by name. Everything is checked before anything is changed."""
    params = _named_params(model)
    if not isinstance(weights, dict):
        raise TypeError("`weights` must be a dict of arrays named like get_weights() returns.")
    staged = {}
    for name, value in weights.items():
        if name not in params:
            raise ValueError(f"`weights` has {name!r}, which the model does not have; its weights are: "
                             f"{', '.join(params)}.")
        with np.errstate(over="ignore"):
            arr = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
        if tuple(arr.shape) != tuple(params[name].shape):
            raise ValueError(f"`weights`[{name!r}] has shape {tuple(arr.shape)}; the model needs "
                             f"{tuple(params[name].shape)}.")
        if not np.isfinite(arr).all():
            if np.isfinite(np.asarray(value, dtype=np.float64)).all():  # 1e300 becomes Inf in float32
                raise ValueError(f"`weights`[{name!r}] holds values too large for float32 (over 3.4e38).")
            raise ValueError(f"`weights`[{name!r}] contains NA/NaN/Inf.")
        staged[name] = arr
    with torch.no_grad():
        for name, arr in staged.items():
            params[name].copy_(torch.from_numpy(arr))
    return model


def _layer_range(model: Model, from_layer, to_layer) -> list[torch.nn.Module]:
    names = [name for name, _ in model.net.layers()]

    def position(value, arg, default):
        if value is None:
            return default
        if isinstance(value, str):
            if value not in names:
                raise ValueError(f"`{arg}` {value!r} is not a layer; layers are: {', '.join(names)}.")
            return names.index(value)
        return check_position(value, arg, len(names), "layers")

    first = position(from_layer, "from_layer", 0)
    last = position(to_layer, "to_layer", len(names) - 1)
    if first > last:
        raise ValueError(f"`from_layer` ({names[first]}) comes after `to_layer` ({names[last]}).")
    return [module for _, module in model.net.layers()[first:last + 1]]


def freeze_weights(model: Model, from_layer=None, to_layer=None) -> Model:
    """Stop training the layers from `from_layer` to `to_layer` (names or 0-based indices, inclusive)."""
    for layer in _layer_range(model, from_layer, to_layer):
        layer.requires_grad_(False)
    return model


def unfreeze_weights(model: Model, from_layer=None, to_layer=None) -> Model:
    """Train the layers from `from_layer` to `to_layer` again (default: all)."""
    for layer in _layer_range(model, from_layer, to_layer):
        layer.requires_grad_(True)
    return model


# ------------------------------------------------------------------------------------ files
def save_model(model: Model, path: str | os.PathLike) -> str:
    """Save to one safetensors file (weights + JSON metadata), atomically. Returns the path.

    Readers see the old file or the new one, never a mix; an interrupted save leaves no temp
    file behind (or the next save sweeps it). The file gets the umask's mode, or keeps the mode
    of the file it replaces; saving to a symlink replaces the link's target. See `model_file`.
    """
    check_model(model)
    path = _check_path(path)
    if path.is_dir():
        raise ValueError(f"`path` {str(path)!r} is a folder; give a file name such as model.safetensors.")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"`path`'s folder {str(path.parent)!r} does not exist.")
    write_atomic(path, model_bytes(model))
    return str(path)


def model_bytes(model: Model) -> bytes:
    """The bytes of the file `save_model()` writes (the R package keeps them for saveRDS())."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.net.state_dict().items()}
    meta = {"spec": model.spec, "classes": model.classes, "history": model.history, "task": model.task,
            "frozen": [name for name, layer in model.net.layers()
                       if any(not p.requires_grad for p in layer.parameters())]}
    return save_tensors(tensors, metadata={"format": FORMAT, "selfsup": json.dumps(meta)})


def load_model(path: str | os.PathLike) -> Model:
    """Load a model written by `save_model()`.

    The file is read once (a save running meanwhile cannot mix two files) and checked whole
    before anything is built: errors say "`path` ... is not a valid selfsup model: <why>".
    """
    path = _check_path(path)
    return model_from_bytes(read_bytes(path), path)


def model_from_bytes(data: bytes, path="the bytes") -> Model:
    """The model `model_bytes()` gave `data` of, checked whole first (`path` names it in errors)."""
    meta, net = decode(bytes(data), path)
    model = Model(net, classes=meta["classes"], history=meta["history"], task=meta["task"])
    for name, layer in net.layers():
        if name in meta["frozen"]:
            layer.requires_grad_(False)
    return model


def _check_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise TypeError(f"`path` must be a file name (a string); got {path!r}.")
    return Path(path)
