"""Self-supervised learning: pretrain an encoder on a pretext task, then transfer or probe it.

- `ssl_pretrain(x, task=...)` makes pseudo-labelled batches from unlabelled data on the device
  (see `selfsup.pretext`) and trains encoder + pretext head through `train.fit`.
- `ssl_finetune(pretrained, x, y)` is the seminar's transfer recipe: copy the encoder into a new
  classifier, train the fresh head with the encoder frozen, unfreeze, train everything.
- `ssl_embed` / `ssl_evaluate` judge a representation: frozen features, then a linear
  (logistic regression) or k-nearest-neighbour classifier on top, both from scikit-learn.
- `ssl_tasks()` lists the tasks; `ssl_show()` / `plot_ssl_show()` show what a task does.
"""
from __future__ import annotations

import textwrap
import warnings

import numpy as np
import torch

from . import _validate as v
from .device import generator, resolve_device, resolve_seed
from .model import (Model, check_inputs_for, check_model, freeze_weights, get_weights, set_weights,
                    unfreeze_weights)
from .nets import IMAGE_ENCODERS, build_net, eval_mode
from .pretext import TASKS, Pretext, task_names
from .settings import check_validation_split, fit_settings
from .supervised import fit_supervised
from .train import as_float, fit, forward_all, to_device

PROTOCOLS = ("linear", "knn")


# ------------------------------------------------------------------------------------ tasks
def ssl_tasks() -> list[dict]:
    """The registered pretext tasks: one dict per task with name, modality, input, predicts, reference."""
    return [{"name": name, "modality": TASKS[name].modality, "input": TASKS[name].input,
             "predicts": TASKS[name].predicts, "reference": TASKS[name].reference} for name in task_names()]


def _make_task(task, options: dict) -> Pretext:
    v.check_choice(task, "task", task_names())
    return TASKS[task](**options)


def _task_of(model: Model) -> Pretext | None:
    """The pretext task a model was pretrained with (None for classifiers)."""
    info = model.spec.get("pretext")
    return None if info is None else TASKS[info["name"]](**info["options"])


# --------------------------------------------------------------------------------- pretrain
def ssl_pretrain(x, task: str = "rotation", *, encoder: str = "cnn", epochs: int = 10, batch_size: int = 64,
                 validation_split: float = 0.0, lr: float = 1e-3, seed: int | None = None,
                 device: str = "auto", verbose: bool = True, device_budget: int | None = None,
                 **task_options) -> Model:
    """Pretrain an encoder on unlabelled data with a pretext task.

    Parameters
    ----------
    x : array
        Unlabelled data in the form the task takes (see ``ssl_tasks()``); for the image tasks
        (n, height, width[, channels]), uint8/integer pixels 0..255 or floats.
    task : str, default="rotation"
        The pretext task: one of ``[t["name"] for t in ssl_tasks()]``.
    encoder : {"cnn", "mlp"}, default="cnn"
        The seminar CNN or an MLP. Multi-patch tasks (relative_position, jigsaw) build it for
        one patch; for signals (restoration) "cnn" is the 1-D CNN ("cnn1d"), for text
        (masked_token) the transformer ("transformer"). Each task lists what it can use: any
        other name is an error naming them.
    epochs, batch_size, validation_split, lr : training settings (keras' meaning; Adam).
    seed : int, optional
        Seeds the initial weights, batch order and every pseudo-label: same seed, same model.
        Drawn when None, and kept as `model.seed`.
    device : {"auto", "cpu", "cuda"}, default="auto"
    verbose : bool, default=True
    device_budget : int, optional
        Bytes of `x` kept on the device at once. When `x` is larger (e.g. a memory-mapped
        ``np.load(path, mmap_mode="r")`` bigger than the GPU), it streams through the device in
        chunks of that size: the same batches, so the same model as when it all fits. Default: all
        of `x` on the device.
    **task_options
        Options of the task, e.g. ``all_rotations=True`` for rotation, ``n_permutations=`` for
        jigsaw, ``temperature=`` for simclr; an unknown one is an error listing the valid ones.
        Each is checked against the task's declared type and range (``TASKS[task].schema``).

    Returns
    -------
    Model with ``task`` = the task's name, the pretext head, and one history row per epoch
    (loss and the task's metrics, e.g. pseudo-label accuracy).

    Examples
    --------
    >>> import selfsup as ss
    >>> digits = ss.load_dataset("digits")
    >>> model = ss.ssl_pretrain(digits["train"]["x"], "rotation", epochs=1, seed=1, device="cpu", verbose=False)
    >>> model.task
    'rotation'
    """
    settings = fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose)
    settings.device_budget = None if device_budget is None else v.check_int(device_budget, "device_budget")
    pretext = _make_task(task, task_options)
    encoder = pretext.check_encoder(encoder)
    x = pretext.check(x)
    check_validation_split(settings.validation_split, len(x))
    spec = pretext.spec(x, encoder)
    spec["pretext"] = {"name": task, "options": pretext.options, "data_shape": list(x.shape[1:])}
    model = Model(build_net(spec, seed=settings.seed), classes=None, task=task)
    fit(model.net, pretext, x, None, settings, model.history)
    return model


# --------------------------------------------------------------------------------- finetune
def ssl_finetune(pretrained: Model, x, y, *, classes=None, freeze_epochs: int = 10, finetune_epochs: int = 10,
                 freeze_to=None, batch_size: int = 64, validation_split: float = 0.0, lr: float = 1e-3,
                 seed: int | None = None, device: str = "auto", verbose: bool = True) -> Model:
    """Transfer a pretrained encoder to a classification task, the seminar's way.

    A new classifier is built for `x`'s shape with the pretrained model's encoder; every encoder
    weight whose name and shape match is copied (a patch-level encoder's dense layer, built for
    patches, does not match full images: it starts fresh, with a warning). Then a fresh linear
    head is trained with the encoder frozen for `freeze_epochs`, everything is unfrozen and
    trained for `finetune_epochs`. History rows 1..freeze_epochs are the frozen phase.

    Parameters
    ----------
    pretrained : Model
        From ``ssl_pretrain()`` (or any selfsup model: its encoder is what is transferred).
    x : array of shape (n, height, width[, channels])
    y : array of shape (n,), class indices 0..k-1
    classes : int or list of str, optional
        Number or names of the classes; default 0..max(y).
    freeze_epochs, finetune_epochs : int, default=10
        Epochs with the encoder frozen, then with everything trained (0 skips a phase).
    freeze_to : str or int, optional
        Last layer frozen in the first phase (name or 0-based position); default the encoder's
        last layer. The seminar freezes only the convolution block: ``freeze_to="drop2"``.
    batch_size, validation_split, lr, seed, device, verbose : as in ``fit_supervised()``.

    Returns
    -------
    Model, a classifier; ``model.spec["transfer"]`` records the task it came from and which
    weights were copied and which were not.
    """
    check_model(pretrained, "pretrained")
    freeze_epochs = v.check_int(freeze_epochs, "freeze_epochs", minimum=0)
    finetune_epochs = v.check_int(finetune_epochs, "finetune_epochs", minimum=0)
    if freeze_epochs + finetune_epochs == 0:
        raise ValueError("`freeze_epochs` and `finetune_epochs` are both 0; train at least one epoch.")
    seed = fit_settings(1, batch_size, validation_split, lr, seed, device, verbose).seed  # fail early; draws a seed
    enc = dict(pretrained.spec["encoder"])
    if enc["name"] not in IMAGE_ENCODERS:
        raise ValueError(f"ssl_finetune builds an image classifier from `pretrained`'s encoder, but it has a "
                         f"{enc['name']!r} encoder (task {pretrained.task!r}); transfer needs one of "
                         f"{', '.join(map(repr, IMAGE_ENCODERS))}. Use ssl_embed() for its features instead.")
    x = v.check_images(x, "x", ndims=(2, 3, 4) if enc["name"] == "mlp" else (3, 4))
    y = v.check_labels(y, len(x), "y")
    names = v.check_classes(classes, y)
    check_validation_split(v.check_fraction(validation_split), len(x))

    enc["input_shape"] = list(x.shape[1:])
    spec = {"encoder": enc, "head": {"name": "linear", "n_outputs": len(names)}}
    model = Model(build_net(spec, seed=seed), classes=names)
    copied, skipped = _copy_encoder(pretrained, model)
    model.net.spec["transfer"] = {"from_task": pretrained.task, "copied": copied, "not_copied": skipped}
    if skipped:
        warnings.warn(f"ssl_finetune: {len(skipped)} encoder weight(s) of `pretrained` do not fit images of shape "
                      f"{tuple(x.shape[1:])} and start from random weights: {', '.join(skipped)}. "
                      f"Copied: {', '.join(copied) or 'none'}.", stacklevel=2)

    encoder_layers = [name for name, _ in model.net.encoder.named_children()]
    common = dict(batch_size=batch_size, validation_split=validation_split, lr=lr, seed=seed, device=device,
                  verbose=verbose)
    if freeze_epochs:
        freeze_weights(model, to_layer=encoder_layers[-1] if freeze_to is None else freeze_to)
        fit_supervised(x, y, model=model, epochs=freeze_epochs, **common)
        unfreeze_weights(model)
    if finetune_epochs:
        fit_supervised(x, y, model=model, epochs=finetune_epochs, **common)
    return model


def _copy_encoder(source: Model, target: Model) -> tuple[list[str], list[str]]:
    """Copy source's encoder layers into target where every weight's name and shape match.

    A layer is copied whole or not at all (a bias without its kernel would mean nothing).
    Returns the names of the weights (copied, not copied).
    """
    src, dst = get_weights(source), get_weights(target)
    copied, skipped = [], []
    for layer, _ in source.net.encoder.named_children():
        names = [k for k in src if k.split(".")[0] == layer]
        fits = all(k in dst and dst[k].shape == src[k].shape for k in names)
        (copied if fits else skipped).extend(names)
    set_weights(target, {name: src[name] for name in copied})
    return copied, skipped


# ----------------------------------------------------------------------------- representation
def ssl_embed(model: Model, x, *, batch_size: int = 1024, device: str = "auto") -> np.ndarray:
    """Encoder features (n, features) of `x`, in eval mode.

    For a pretrained model `x` is data of the kind it was pretrained on; multi-patch tasks
    (relative_position, jigsaw) run the patch encoder on every cell of the grid and concatenate
    (n, cells * features). For a classifier, the output of its encoder (before the head).
    """
    check_model(model)
    batch_size = v.check_int(batch_size, "batch_size")
    dev = resolve_device(device)
    task = _task_of(model)
    if task is None:
        x = check_inputs_for(model, x)
    else:
        x = task.check_like(x, model.spec["pretext"].get("data_shape"))
    embed = _flat_features if task is None else task.embed
    return forward_all(model.net.encoder, x, dev, batch_size, apply=embed).numpy()


def _flat_features(encoder, xb: torch.Tensor) -> torch.Tensor:
    """A classifier's encoder features (B, features) of a raw device batch."""
    return encoder(as_float(xb)).flatten(1)


def ssl_evaluate(model: Model, x_train, y_train, x_test, y_test, *, protocol: str = "linear",
                 n_neighbors: int = 5, max_iter: int = 1000, batch_size: int = 1024,
                 device: str = "auto") -> dict:
    """Judge a representation: a classifier on frozen encoder features, trained on (x_train, y_train).

    protocol="linear": standardised features, then scikit-learn's LogisticRegression (lbfgs,
    C=1, `max_iter`) -- the linear probe. protocol="knn": scikit-learn's KNeighborsClassifier
    (`n_neighbors`) on L2-normalised features, i.e. cosine similarity.

    Returns
    -------
    dict with protocol, accuracy (on the test set), train_accuracy, n_train, n_test, n_features.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, StandardScaler

    check_model(model)
    v.check_choice(protocol, "protocol", PROTOCOLS)
    n_neighbors = v.check_int(n_neighbors, "n_neighbors")
    max_iter = v.check_int(max_iter, "max_iter")
    f_train = ssl_embed(model, x_train, batch_size=batch_size, device=device)
    f_test = ssl_embed(model, x_test, batch_size=batch_size, device=device)
    y_train = v.check_labels(y_train, len(f_train), "y_train")
    y_test = v.check_labels(y_test, len(f_test), "y_test")
    if protocol == "linear":
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    else:
        if n_neighbors > len(f_train):
            raise ValueError(f"`n_neighbors` is {n_neighbors} but `x_train` has only {len(f_train)} samples.")
        clf = make_pipeline(Normalizer(), KNeighborsClassifier(n_neighbors=n_neighbors))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(lbfgs failed to converge|max_iter).*")
        clf.fit(f_train, y_train)
    return {"protocol": protocol, "accuracy": float(clf.score(f_test, y_test)),
            "train_accuracy": float(clf.score(f_train, y_train)), "n_train": int(len(f_train)),
            "n_test": int(len(f_test)), "n_features": int(f_train.shape[1])}


# ------------------------------------------------------------------------------------ show
def ssl_show(x, task: str | None = None, *, model: Model | None = None, n: int = 8, seed: int | None = 0,
             device: str = "cpu", **task_options) -> dict:
    """What a pretext task does: one batch of the first `n` samples with its pseudo-labels/targets.

    Parameters
    ----------
    x : array, data the task takes (see ``ssl_tasks()``).
    task : str, optional
        The task; default `model`'s task, or "rotation".
    model : Model, optional
        A model from ``ssl_pretrain()``: its outputs on the batch are added (predicted
        pseudo-labels, or reconstructions for tasks that reconstruct).
    n : int, default=8
    seed : int, default=0
        Seeds the random choices (rotations, patches, permutations, augmentations).
    **task_options : options of the task (ignored when `model` is given: its own are used).

    Returns
    -------
    dict with "task"; "inputs" (n, [pieces,] height, width[, channels]) as floats, channel-last,
    "pieces" (how many inputs each sample gives the encoder: patches, tiles, views); "targets"
    (pseudo-labels, or target arrays); "outputs" when `model` is given; "target_names" for class
    pseudo-labels; "cells" for jigsaw (n, tiles): the grid cell (row-major) each tile was cut from.
    """
    n = v.check_int(n, "n")
    dev = resolve_device(device)
    if model is not None:
        check_model(model)
        pretext = _task_of(model)
        if pretext is None:
            raise ValueError("`model` is a classifier, not a pretrained model; ssl_show() needs one from ssl_pretrain().")
        task = model.task if task is None else task
        if task != model.task:
            raise ValueError(f"`task` is {task!r} but `model` was pretrained with {model.task!r}.")
        x = pretext.check_like(x, model.spec["pretext"].get("data_shape"))
    else:
        pretext = _make_task("rotation" if task is None else task, task_options)
        x = pretext.check(x)
    net = None if model is None else model.net.to(dev)
    gen = generator(resolve_seed(seed), dev)
    with eval_mode(net) if net is not None else torch.no_grad():
        shown = pretext.show(to_device(x[:n], dev), gen, net)
    out = {"task": pretext.name, **pretext.display(shown)}
    if pretext.target_names is not None:
        out["target_names"] = list(pretext.target_names)
    if pretext.targets_are_positions:
        out["positions"] = True  # targets/outputs are 0-based rows of the batch (R shows them 1-based)
    return out


def plot_ssl_show(shown: dict, *, title: str | None = None):
    """Plot what ``ssl_show()`` returned with matplotlib: one row per sample; returns the Figure.

    Each row shows the sample's input pieces (image, patches, tiles or views), then its target
    and the model's output when they are images or signals; class pseudo-labels are written above
    the row.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_ssl_show() needs matplotlib: pip install matplotlib") from None
    if not isinstance(shown, dict) or "inputs" not in shown:
        raise TypeError("`shown` must be what ssl_show() returns.")
    inputs, pieces = np.asarray(shown["inputs"]), int(shown.get("pieces", 1))
    n = len(inputs)
    cells = shown.get("cells")   # jigsaw: the cell each tile came from
    panels = [[(p, "" if cells is None else f"cell {cells[i][k]}")
               for k, p in enumerate(inputs[i] if pieces > 1 else [inputs[i]])] for i in range(n)]
    names = shown.get("target_names")
    labels = []
    for i in range(n):
        text = []
        for key in ("targets", "outputs"):
            if key not in shown:
                continue
            value = np.asarray(np.asarray(shown[key])[i])
            if value.dtype.kind in "UO":  # text (masked_token): written out
                text.append(f"{key[:-1]}: {value}")
            elif np.issubdtype(value.dtype, np.integer) and value.ndim <= 1:
                word = "target" if key == "targets" else "predicted"
                text.append(f"{word}: {_label(value, names)}")
            else:
                panels[i].append((value, key[:-1]))
        labels.append("\n".join(textwrap.fill(t, 90) for t in text))
    cols = max(len(row) for row in panels)
    fig, axes = plt.subplots(n, cols, figsize=(max(3.2, 1.6 * cols), 1.8 * n), squeeze=False)
    for i, row in enumerate(panels):
        for j in range(cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(row):
                ax.axis("off")
                continue
            data, what = row[j]
            data = np.asarray(data)
            if data.dtype.kind in "UO":
                ax.text(0.02, 0.5, textwrap.fill(str(data), 45), fontsize=7, va="center", transform=ax.transAxes)
                ax.axis("off")
            elif data.ndim == 1:
                ax.plot(data, linewidth=0.8)
            else:
                ax.imshow(np.clip(data, 0, 1), cmap="gray" if data.ndim == 2 else None, vmin=0, vmax=1)
            if what:
                ax.set_title(what, fontsize=7)
        if labels[i]:
            axes[i, 0].set_title(labels[i], fontsize=7, loc="left")
    fig.suptitle(title or f"pretext task: {shown.get('task', '')}", fontsize=9)
    fig.tight_layout()
    return fig


def _label(value: np.ndarray, names) -> str:
    if value.ndim == 0:
        return names[int(value)] if names else str(int(value))
    return " ".join(str(int(v)) for v in value)
