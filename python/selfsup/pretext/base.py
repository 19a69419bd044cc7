"""The contract every pretext task follows (one subclass per module in this package).

Besides the required methods, a task may set or override:
- `schema`: option name -> `options.Option` (type, range, default). Unknown options are rejected
  with a message listing the valid ones; each value is checked once and `self.options` holds the
  CHECKED values (defaults merged with what the user gave; plain Python, JSON-able).
  `ssl_pretrain` stores ``spec["pretext"] = {"name", "options", "data_shape"}`` with the model.
  Checks between options (e.g. `dim` a multiple of `heads`) go in the task's `__init__`.
- `encoders`: the `encoder=` names users may give -> the registered encoder (`nets.ENCODERS`) each
  stands for with this task; `check_encoder()` rejects the others, listing the valid ones.
- `embed(encoder, x)`: features of a raw device batch for `ssl_embed()`/`ssl_evaluate()`; the
  default runs the encoder on the scaled images and flattens.
- `check_like(x, data_shape)`: validate new data for a pretrained model (`ssl_embed`).
- `show(x, gen, net=None)`: what `ssl_show()` displays; the default is one `batch()`, with the
  net's outputs through `decode(outputs, targets)` (argmax for class pseudo-labels, raw otherwise).
- `display(shown)`: `show()`'s tensors as numpy for users (default: images channel-last).
- `target_names`: names of class pseudo-labels (e.g. "90 degrees"), for plots.
`ClassificationPretext` gives cross-entropy + accuracy for tasks whose pseudo-labels are classes;
`image_data(x, task, min_height, min_width, why)` is the shared image check.

A task is also a *task* of the training loop (`train.fit`): `batch`, `loss` and `metrics`.
`batch(x, y, gen)` receives a device-resident batch of the raw data as `check()` returned it
(images as (B, C, H, W) uint8/float, sequences/signals/token ids as stored), `y` is None, and
`gen` is the loop's random stream on the device: every random choice (rotation, mask, crop,
permutation) draws from it, so the same seed gives the same pseudo-labels from R and Python.
Tasks that show the encoder several pieces of one sample (patches, views) stack them along the
batch dimension, sample-major: (B * k, C, h, w); their head reshapes features to (B, k * F).
"""
from __future__ import annotations

import numpy as np
import torch

from .. import _validate as v
from ..train import ClassificationLoss, as_float
from .options import Option, check_options

TASKS: dict[str, type["Pretext"]] = {}


def register(cls: type["Pretext"]) -> type["Pretext"]:
    TASKS[cls.name] = cls
    return cls


class Pretext:
    # what `ssl_tasks()` lists
    name: str = ""
    modality: str = ""        # "images", "RGB images", "general", "text", "video", "audio"
    input: str = ""           # the input shape it takes, e.g. "(n, height, width[, channels]), at least 8x8"
    predicts: str = ""        # what the network learns to predict
    reference: str = ""       # e.g. "Gidaris et al. 2018"
    schema: dict[str, Option] = {}    # option name -> type, range, default
    encoders: dict[str, str] = {"cnn": "cnn", "mlp": "mlp", "convnet": "convnet"}   # encoder= name -> registered
    target_names: list[str] | None = None
    targets_are_positions: bool = False  # targets index samples of the batch (simclr's partner views)

    def __init__(self, **options):
        self.options = check_options(self.name, self.schema, options)

    def check_encoder(self, encoder) -> str:
        """The registered encoder that `encoder` (as users name it) stands for with this task."""
        if not isinstance(encoder, str) or encoder not in self.encoders:
            valid = ", ".join(f'"{e}"' for e in self.encoders)
            aliases = "; ".join(f'"{k}" means "{e}" here' for k, e in self.encoders.items() if k != e)
            raise ValueError(f"`encoder` must be one of {valid} for task \"{self.name}\""
                             + (f" ({aliases})" if aliases else "") + f"; got {encoder!r}.")
        return self.encoders[encoder]

    def check(self, x) -> np.ndarray:
        """Validate the user's data for this task; errors name `x` and say what the task needs."""
        raise NotImplementedError

    def check_like(self, x, data_shape) -> np.ndarray:
        """Validate new data for a model pretrained on samples of shape `data_shape`."""
        x = self.check(x)
        if data_shape is not None and tuple(x.shape[1:]) != tuple(data_shape):
            raise ValueError(f"`x` has samples of shape {tuple(x.shape[1:])}, but the model was pretrained "
                             f"on {tuple(data_shape)}.")
        return x

    def spec(self, x: np.ndarray, encoder: str) -> dict:
        """The network spec {"encoder": {...}, "head": {...}} (see nets.build_net) for data `x`."""
        raise NotImplementedError

    def batch(self, x, y, gen):
        """(inputs, targets) for one batch, made on the device from `gen`."""
        raise NotImplementedError

    def loss(self, outputs, targets):
        raise NotImplementedError

    def metrics(self, outputs, targets) -> dict:
        return {}

    def embed(self, encoder, x):
        """(B, features) for a raw device batch `x` (encoder in eval mode, no grad)."""
        return encoder(as_float(x)).flatten(1)

    def show(self, x, gen, net=None) -> dict:
        """Tensors for `ssl_show()`: inputs (n, [k,] ...), targets, and the net's outputs when given.

        Inputs stacked sample-major (B * k, ...) come back as (B, k, ...).
        """
        inputs, targets = self.batch(x, None, gen)
        n = len(x)
        shown = {"inputs": _per_sample(inputs, n), "targets": _per_sample(targets, n)}
        if net is not None:
            shown["outputs"] = _per_sample(self.decode(net(inputs).float(), targets), n)
        return shown

    def decode(self, outputs, targets):
        """The net's outputs as `show()` displays them: class pseudo-labels become the predicted class."""
        if not targets.dtype.is_floating_point and outputs.ndim == 2:
            return outputs.argmax(1)
        return outputs


    def display(self, shown: dict) -> dict:
        """`show()`'s tensors as numpy for users: images channel-last (a single channel dropped).

        Adds "pieces": how many encoder inputs each sample has (1, or patches/tiles/views).
        Tasks whose arrays are not images (B, [k,] C, h, w) override this.
        """
        out = {}
        for key, t in shown.items():
            arr = t.detach().cpu().float().numpy() if t.dtype.is_floating_point else t.detach().cpu().numpy()
            if arr.dtype.kind == "f" and arr.ndim >= 4:
                arr = np.moveaxis(arr, -3, -1)
                if arr.shape[-1] == 1:
                    arr = arr[..., 0]
            out[key] = arr
        inputs = shown["inputs"]
        out["pieces"] = int(inputs.shape[1]) if inputs.ndim >= 5 else 1
        return out


def _per_sample(t: torch.Tensor, n: int) -> torch.Tensor:
    return t if len(t) == n else t.reshape(n, -1, *t.shape[1:])


class ClassificationPretext(ClassificationLoss, Pretext):
    """A pretext task whose pseudo-labels are classes: cross-entropy loss, accuracy metric."""


def image_data(x, task: str, min_height: int = 1, min_width: int = 1, why: str = "") -> np.ndarray:
    """`x` checked as images (n, height, width[, channels]) of at least min_height x min_width."""
    arr = v.as_numeric_array(x, "x")
    if arr.ndim not in (3, 4):
        raise ValueError(f"task \"{task}\" needs images: `x` must have 3 or 4 dimensions "
                         f"(n, height, width[, channels]); got shape {v.shape_text(arr)}.")
    arr = v.check_images(arr, "x")
    v.check_image_size(arr, min_height, min_width, f"task \"{task}\"" + (f" ({why})" if why else ""))
    return arr
