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

import contextlib
import textwrap
import warnings

import numpy as np
import torch

from . import _validate as v
from .cpu import blas_threads
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
                 validation_split: float = 0.0, lr: float = 1e-3, optimizer: str = "adam", weight_decay: float = 0.0,
                 schedule: str = "constant", ema: float = 0.0, seed: int | None = None,
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
    encoder : {"cnn", "mlp", "convnet"}, default="cnn"
        The seminar CNN, an MLP or a small conv net with batch norm. Multi-patch tasks
        (relative_position, jigsaw) build it for one patch; for signals (restoration) "cnn" is the
        1-D CNN ("cnn1d"), for text (masked_token) the transformer ("transformer"). Each task lists
        what it can use: any other name is an error naming them. Tasks that want no dropout while
        pretraining (simclr) switch the encoder's dropout off for the fit.
    epochs, batch_size, validation_split, lr : training settings (keras' meaning).
    optimizer, weight_decay, schedule, ema : the loop's recipe settings, as in ``fit_supervised()``.
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
    settings = fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose, optimizer,
                            weight_decay, schedule, ema)
    settings.device_budget = None if device_budget is None else v.check_int(device_budget, "device_budget")
    pretext = _make_task(task, task_options)
    encoder = pretext.check_encoder(encoder)
    x = pretext.check(x)
    check_validation_split(settings.validation_split, len(x))
    spec = pretext.spec(x, encoder)
    spec["pretext"] = {"name": task, "options": pretext.options, "data_shape": list(x.shape[1:])}
    model = Model(build_net(spec, seed=settings.seed), classes=None, task=task)
    with contextlib.nullcontext() if getattr(pretext, "dropout", True) else _no_dropout(model.net):
        fit(model.net, pretext, x, None, settings, model.history)
    return model


@contextlib.contextmanager
def _no_dropout(net: torch.nn.Module):
    """Dropout layers of `net` keep every unit while inside (their rate restored after)."""
    layers = [(m, m.p) for m in net.modules() if isinstance(m, torch.nn.Dropout)]
    for layer, _ in layers:
        layer.p = 0.0
    try:
        yield
    finally:
        for layer, p in layers:
            layer.p = p


# --------------------------------------------------------------------------------- finetune
def ssl_finetune(pretrained: Model, x, y, *, classes=None, freeze_epochs: int = 10, finetune_epochs: int = 10,
                 freeze_to=None, batch_size: int = 64, validation_split: float = 0.0, lr: float = 1e-3,
                 augment: str | None = None, flip: bool = False, optimizer: str = "adam", weight_decay: float = 0.0,
                 schedule: str = "constant", ema: float = 0.0, seed: int | None = None, device: str = "auto",
                 verbose: bool = True) -> Model:
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
    batch_size, validation_split, lr, augment, flip, optimizer, weight_decay, schedule, ema, seed, device, verbose
        As in ``fit_supervised()``, for each phase (a cosine schedule runs once per phase).

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
    seed = fit_settings(1, batch_size, validation_split, lr, seed, device, verbose, optimizer, weight_decay,
                        schedule, ema).seed  # fail early; draws a seed
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
    common = dict(batch_size=batch_size, validation_split=validation_split, lr=lr, augment=augment, flip=flip,
                  optimizer=optimizer, weight_decay=weight_decay, schedule=schedule, ema=ema, seed=seed,
                  device=device, verbose=verbose)
    if freeze_epochs:
        freeze_weights(model, to_layer=encoder_layers[-1] if freeze_to is None else freeze_to)
        fit_supervised(x, y, model=model, epochs=freeze_epochs, **common)
        unfreeze_weights(model)
    if finetune_epochs:
        fit_supervised(x, y, model=model, epochs=finetune_epochs, **common)
    return model


def _copy_encoder(source: Model, target: Model) -> tuple[list[str], list[str]]:
    """Copy source's encoder layers into target where every weight's name and shape match.

    A layer is copied whole or not at all (a bias without its kernel would mean nothing), with its
    buffers (batch norm's running statistics: without them eval mode would normalise the pretrained
    features with a fresh layer's mean 0 and variance 1). Returns the names of the weights (copied, not copied).
    """
    src, dst = get_weights(source), get_weights(target)
    targets = dict(target.net.encoder.named_children())
    copied, skipped = [], []
    for layer, module in source.net.encoder.named_children():
        names = [k for k in src if k.split(".")[0] == layer]
        fits = all(k in dst and dst[k].shape == src[k].shape for k in names)
        (copied if fits else skipped).extend(names)
        if fits and layer in targets:                 # a layer without weights may be missing in target
            _copy_buffers(module, targets[layer])
    set_weights(target, {name: src[name] for name in copied})
    return copied, skipped


@torch.no_grad()
def _copy_buffers(source: torch.nn.Module, target: torch.nn.Module) -> None:
    theirs = dict(target.named_buffers())
    for name, buf in source.named_buffers():
        if name in theirs and theirs[name].shape == buf.shape:
            theirs[name].copy_(buf)


# ----------------------------------------------------------------------------- representation
# The layer whose output a probe reads by default, per encoder: where pretext features probe best.
# The seminar CNN's dense1 is the most pretext-specific layer; its convolution block ("drop2") probed
# better after both rotation (0.757 vs 0.680) and SimCLR (0.750 vs 0.690) at 150 Fashion-MNIST labels.
# The convnet's last pooled block ("pool2", 64 x 7 x 7) beats its global average ("gap", 128) by far:
# rotation 0.7879 vs 0.6960, SimCLR 0.7897 vs 0.7364 (bench/few_labels.py, CPU preset, 150 labels, draw 0).
PROBE_LAYERS = {"cnn": "drop2", "convnet": "pool2"}


def probe_layer(model: Model, layer=None) -> int:
    """0-based position of the encoder layer `layer` (name or position; None: the encoder's default)."""
    names = [name for name, _ in model.net.encoder.named_children()]
    if layer is None:
        layer = PROBE_LAYERS.get(model.spec["encoder"]["name"], names[-1])
    if isinstance(layer, str):
        if layer not in names:
            raise ValueError(f"`layer` {layer!r} is not a layer of the encoder; its layers are: {', '.join(names)}.")
        return names.index(layer)
    return v.check_position(layer, "layer", len(names), "encoder layers")   # 1..n in messages to R


def ssl_embed(model: Model, x, *, layer=None, batch_size: int = 1024, device: str = "auto") -> np.ndarray:
    """Encoder features (n, features) of `x`, in eval mode, read at `layer` (flattened).

    For a pretrained model `x` is data of the kind it was pretrained on; multi-patch tasks
    (relative_position, jigsaw) run the patch encoder on every cell of the grid and concatenate
    (n, cells * features). For a classifier, the output of its encoder (before the head).

    `layer` is an encoder layer's name or 0-based position; default: where pretext features probe
    best for the encoder (the seminar CNN's convolution block "drop2", the convnet's last pooled block
    "pool2"; the last layer otherwise).
    """
    check_model(model)
    batch_size = v.check_int(batch_size, "batch_size")
    dev = resolve_device(device)
    upto = probe_layer(model, layer)
    task = _task_of(model)
    if task is None:
        x = check_inputs_for(model, x)
    else:
        x = task.check_like(x, model.spec["pretext"].get("data_shape"))
    embed = _flat_features if task is None else task.embed
    return forward_all(_upto(model.net.encoder, upto), x, dev, batch_size, apply=embed).numpy()


def _upto(encoder: torch.nn.Sequential, upto: int) -> torch.nn.Module:
    """The encoder's layers 0..upto (sharing their weights); the whole encoder when upto is the last."""
    return encoder if upto == len(encoder) - 1 else torch.nn.Sequential(*list(encoder.children())[:upto + 1])


def _flat_features(encoder, xb: torch.Tensor) -> torch.Tensor:
    """A classifier's encoder features (B, features) of a raw device batch."""
    return encoder(as_float(xb)).flatten(1)


# The L2 penalties the linear probe chooses from (C = 1 / penalty, scikit-learn's convention).
PROBE_CS = tuple(float(c) for c in np.logspace(-4, 2, 7))


def linear_probe(f_train: np.ndarray, y_train: np.ndarray, C=None, max_iter: int = 1000):
    """Standardised features, then multinomial logistic regression with an L2 penalty: the linear probe
    of the self-supervised literature (Kolesnikov et al. 2019; SimCLR's appendix B.6, which picks the
    penalty on held-out labels). `C` None: chosen from PROBE_CS by stratified 5-fold cross-validation
    on the labelled training set only (accuracy, ties broken by log loss); a number: used as given.

    Protocol: the whole pipeline (StandardScaler, then LogisticRegression) is what is cross-validated,
    so each fold's scaler is fitted on that fold's training rows only and its validation rows stay
    unseen; the returned pipeline is then fitted, scaler included, on all of (f_train, y_train).
    Returns (the fitted scikit-learn pipeline, C)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with blas_threads(), warnings.catch_warnings():    # small products: one BLAS thread is faster
        if C is None:
            C = _tuned_C(f_train, y_train, max_iter)
        warnings.filterwarnings("ignore", message=".*(lbfgs failed to converge|max_iter).*")
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
        return clf.fit(f_train, y_train), C


def _tuned_C(f: np.ndarray, y: np.ndarray, max_iter: int) -> float:
    """The C of PROBE_CS with the best cross-validated accuracy (then log loss) of the probe's pipeline
    on the raw features `f`: each fold fits its own scaler on its training rows. Each fold walks the grid
    from the strongest penalty up, starting from the previous solution (as LogisticRegressionCV does;
    GridSearchCV would clone a cold estimator per C, and cannot break accuracy ties by log loss)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classes = np.unique(y)
    folds = int(min(5, np.bincount(y)[classes].min()))
    if folds < 2:
        warnings.warn("the linear probe's penalty is tuned by cross-validation, which needs at least 2 labelled "
                      "samples of every class in `y_train`; used C = 1 (give `C` to choose it).", stacklevel=4)
        return 1.0
    right, losses = np.zeros(len(PROBE_CS)), np.zeros(len(PROBE_CS))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(lbfgs failed to converge|max_iter).*")
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(f, y):
            # The scaler is refitted on f[train] at every C (same rows, same scaling); the warm start
            # lives in the logistic regression, which the pipeline keeps between fits.
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, warm_start=True))
            for i, c in enumerate(PROBE_CS):
                probs = clf.set_params(logisticregression__C=c).fit(f[train], y[train]).predict_proba(f[test])
                right[i] += (clf.classes_[probs.argmax(1)] == y[test]).sum()
                losses[i] += log_loss(y[test], probs, labels=classes) * len(test)
    return PROBE_CS[int(np.lexsort((losses, -right))[0])]


def ssl_evaluate(model: Model, x_train, y_train, x_test, y_test, *, protocol: str = "linear", layer=None,
                 C=None, n_neighbors: int = 5, max_iter: int = 1000, batch_size: int = 1024,
                 device: str = "auto") -> dict:
    """Judge a representation: a classifier on frozen encoder features, trained on (x_train, y_train).

    protocol="linear": the linear probe -- standardised features, then scikit-learn's multinomial
    logistic regression with an L2 penalty C tuned by 5-fold cross-validation on (x_train, y_train)
    only, the scaler refitted inside each fold (`C` = None), or given; see `linear_probe`. protocol="knn": scikit-learn's KNeighborsClassifier (`n_neighbors`)
    on L2-normalised features, i.e. cosine similarity. `layer`: as in `ssl_embed`.

    Returns
    -------
    dict with protocol, layer (its name), C (the linear probe's penalty), accuracy (on the test set),
    train_accuracy, n_train, n_test, n_features.
    """
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    check_model(model)
    v.check_choice(protocol, "protocol", PROTOCOLS)
    n_neighbors = v.check_int(n_neighbors, "n_neighbors")
    max_iter = v.check_int(max_iter, "max_iter")
    if C is not None:
        C = v.check_number(C, "C", 0.0, None, low_inclusive=False)
    upto = probe_layer(model, layer)
    f_train = ssl_embed(model, x_train, layer=upto, batch_size=batch_size, device=device)
    f_test = ssl_embed(model, x_test, layer=upto, batch_size=batch_size, device=device)
    y_train = v.check_labels(y_train, len(f_train), "y_train")
    y_test = v.check_labels(y_test, len(f_test), "y_test")
    chosen = None
    if protocol == "linear":
        clf, chosen = linear_probe(f_train, y_train, C, max_iter)
    else:
        if n_neighbors > len(f_train):
            raise ValueError(f"`n_neighbors` is {n_neighbors} but `x_train` has only {len(f_train)} samples.")
        clf = make_pipeline(Normalizer(), KNeighborsClassifier(n_neighbors=n_neighbors)).fit(f_train, y_train)
    names = [name for name, _ in model.net.encoder.named_children()]
    return {"protocol": protocol, "layer": names[upto], "C": chosen, "accuracy": float(clf.score(f_test, y_test)),
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
