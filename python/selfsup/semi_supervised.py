"""Semi-supervised learning: a few labelled samples and many unlabelled ones (label -1; NA in R).

- `fit_pseudo_label`: self-training (Lee 2013 style): train on the labelled samples, label the
  unlabelled ones the model is confident about, train on both, repeat.
- `label_spreading`: graph-based (Zhou et al. 2004) on a k-nearest-neighbour graph built in torch;
  the same algorithm as scikit-learn's ``LabelSpreading(kernel="knn")``.
- `fit_fixmatch`: consistency between a weak and a strong augmentation of each unlabelled image,
  learnt only where the model is confident (Sohn et al. 2020), made on the device.

The neural methods train through `supervised.fit_supervised` / `train.fit` like every learner.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from . import _validate as v
from .augment import strong_augment, weak_augment
from .device import autocast, resolve_device
from .model import Model, build_model, check_inputs_for, check_model
from .nets import IMAGE_ENCODERS
from .settings import check_validation_split, fit_settings, split_validation
from .supervised import fit_supervised, predict
from .train import as_float, fit, to_device


def _check_unlabelled(y: np.ndarray, method: str) -> np.ndarray:
    unlabelled = y < 0
    if not unlabelled.any():
        raise ValueError(f"`y` has no unlabelled samples (-1 in Python, NA in R); {method} learns from "
                         "unlabelled data. For fully labelled data use fit_supervised().")
    return unlabelled


# ----------------------------------------------------------------------------- pseudo-labels
SELECTIONS = ("threshold", "curriculum")


def fit_pseudo_label(x, y, *, threshold: float = 0.95, rounds: int = 3, round_epochs: int = 1,
                     selection: str = "threshold", balanced: bool = True, fresh: bool = False,
                     augment: str | None = None, flip: bool = False, model: Model | None = None, classes=None,
                     encoder: str = "cnn", epochs: int = 10, batch_size: int = 64, validation_split: float = 0.0,
                     lr: float = 1e-3, optimizer: str = "adam", weight_decay: float = 0.0,
                     schedule: str = "constant", ema: float = 0.0, seed: int | None = None, device: str = "auto",
                     verbose: bool = True):
    """Self-training with pseudo-labels (Lee 2013; curriculum labelling, Cascante-Bonilla et al. 2021).

    Round 0 trains a classifier on the labelled samples for `epochs` epochs (or starts from `model`,
    trained further). Each of `rounds` further rounds predicts the unlabelled samples, gives the
    selected ones their predicted class as label, and trains for `round_epochs` epochs on the
    labelled plus pseudo-labelled samples -- the same model further (`fresh` = False, Lee's
    self-training) or, with `fresh`, the model restarted from its weights before round 0 (curriculum
    labelling re-initialises every round, so errors of one round are not learnt twice).

    Which unlabelled samples are selected:
    - `selection` = "threshold": those whose top class probability is at least `threshold`;
      "curriculum": the most confident r/rounds share in round r (20%, 40%, ... 100% with 5 rounds),
      as curriculum labelling's percentiles.
    - `balanced` (default): every class keeps as many as the class with the fewest (threshold; among
      classes with at least one), or
      share * n_unlabelled / k each (curriculum), its most confident ones. Without it confident
      classes swamp the others (measured on Fashion-MNIST at 150 labels: Ankle boot 4,870 vs Coat 106).

    Differs from Lee 2013: hard labels chosen once per round rather than recomputed every batch, and no
    ramp-up of the pseudo-label loss weight (the selection does that job).

    What worked with 150 Fashion-MNIST labels (bench/few_labels.py, CPU preset): the same model further
    (`fresh=False`) on strong views (`augment="strong"`, as Noisy Student noises its student, Xie et al.
    2020), about 3 epochs a round, curriculum selection, balanced: median 0.745 over 3 label draws, above
    every supervised baseline (0.729); fresh restarts on weak views gave 0.710.

    Parameters
    ----------
    x : images (n, height, width[, channels]); (n, features) with ``encoder="mlp"``
    y : array of shape (n,)
        Class indices 0..k-1 for labelled samples, -1 for unlabelled ones.
    threshold : float in [0, 1], default=0.95
        With ``selection="threshold"``.
    rounds : int, default=3
    round_epochs : int, default=1
        Epochs over labelled + pseudo-labelled samples per round.
    selection : {"threshold", "curriculum"}, default="threshold"
    balanced : bool, default=True
    fresh : bool, default=False
    augment : {None, "weak", "strong"}, default=None
        Train on augmented images, as `fit_supervised`: "weak" (shifts; flips with `flip`) as
        FixMatch's labelled batches, "strong" as its unlabelled ones (RandAugment and Cutout).
    flip : bool, default=False
    model : Model, optional
        Start from this classifier (trained further in place), e.g. from ``ssl_finetune()``.
    classes, encoder, epochs, batch_size, lr, optimizer, weight_decay, schedule, ema, seed, device, verbose
        As in `fit_supervised`.
    validation_split : float
        Share of the *labelled* samples (the last ones) held out; they are never trained on or
        pseudo-labelled, and each epoch reports `val_loss` / `val_accuracy` on them.

    Returns
    -------
    Model (task "pseudo_label"); its history has one row per epoch with `round` and
    `pseudo_labelled` (how many unlabelled samples carried a pseudo-label in that round).
    """
    settings = fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose, optimizer,
                            weight_decay, schedule, ema)
    threshold = v.check_number(threshold, "threshold", 0.0, 1.0)
    rounds = v.check_int(rounds, "rounds", minimum=0)
    round_epochs = v.check_int(round_epochs, "round_epochs")
    v.check_choice(selection, "selection", SELECTIONS)
    x, x_lab, y_lab, model, unlabelled = _semi_inputs(x, y, classes, encoder, model, settings, "fit_pseudo_label()")
    x_unl = x[unlabelled]
    n_val = len(x_lab) - split_validation(len(x_lab), settings.validation_split)
    common = dict(batch_size=settings.batch_size, lr=settings.lr, optimizer=settings.optimizer,
                  weight_decay=settings.weight_decay, schedule=settings.schedule, ema=settings.ema,
                  augment=augment, flip=flip, device=device, verbose=settings.verbose)

    start = copy.deepcopy(model.net.state_dict())     # weights and batch-norm statistics, for `fresh`
    fit_supervised(x_lab, y_lab, model=model, epochs=settings.epochs, validation_split=settings.validation_split,
                   seed=settings.seed, **common)
    _tag(model.history, 0, 0)
    for r in range(1, rounds + 1):
        probs = predict(model, x_unl, type="prob", device=device)
        keep, labels = select_pseudo_labels(probs, selection, threshold, r / rounds, bool(balanced))
        if not len(keep):
            warnings.warn(f"round {r}: no unlabelled sample was selected (`threshold` {threshold}); stopping early.")
            break
        if fresh:
            model.net.load_state_dict(start)
        # labelled validation samples go last, so the loop holds out exactly those
        xs = np.concatenate([x_lab[:len(x_lab) - n_val], x_unl[keep], x_lab[len(x_lab) - n_val:]])
        ys = np.concatenate([y_lab[:len(y_lab) - n_val], labels, y_lab[len(y_lab) - n_val:]])
        split = (n_val + 0.5) / len(xs) if n_val else 0.0  # int(len(xs) * split) == n_val
        fit_supervised(xs, ys, model=model, epochs=round_epochs, validation_split=split,
                       seed=settings.seed + r, **common)
        _tag(model.history, r, len(keep))
    model.task = "pseudo_label"
    return model


def select_pseudo_labels(probs: np.ndarray, selection: str, threshold: float, share: float,
                         balanced: bool) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of `probs` (n, k) get a pseudo-label, most confident first, and their classes.

    Inputs already validated. See `fit_pseudo_label` for the rules."""
    conf, pred = probs.max(1), probs.argmax(1)
    order = np.argsort(-conf, kind="stable")                    # most confident first
    if selection == "threshold":
        order = order[conf[order] >= threshold]
    if balanced:
        k = probs.shape[1]
        per_class = [order[pred[order] == c] for c in range(k)]
        present = [len(p) for p in per_class if len(p)] or [0]      # a class nobody reaches gets none
        quota = min(present) if selection == "threshold" else int(share * len(conf) / k)
        order = np.concatenate([p[:quota] for p in per_class])
    elif selection == "curriculum":
        order = order[:int(round(share * len(conf)))]
    order = np.sort(order)
    return order, pred[order]


def _tag(history: list[dict], round_: int, n_pseudo: int) -> None:
    for row in history:
        if "round" not in row:
            row["round"] = round_
            row["pseudo_labelled"] = n_pseudo


# ---------------------------------------------------------------------------- label spreading
@dataclass
class LabelSpreadingResult:
    """What `label_spreading()` returns: a label for every sample (transduction)."""
    labels: np.ndarray          # (n,) int64, 0-based
    distributions: np.ndarray   # (n, k) label distributions, rows sum to 1 (0 where nothing arrived)
    classes: list = field(default_factory=list)
    iterations: int = 0
    history: list = field(default_factory=list)   # [{"iteration", "change"}]


def label_spreading(x, y, *, n_neighbors: int = 7, alpha: float = 0.2, max_iter: int = 30,
                    tol: float = 1e-3, model: Model | None = None, layer=None, classes=None,
                    device: str = "auto") -> LabelSpreadingResult:
    """Spread labels over a k-nearest-neighbour graph (Zhou et al. 2004), in torch.

    The graph links each sample to its `n_neighbors` nearest samples (Euclidean, the sample
    itself counted among them and then dropped, as in scikit-learn), normalised symmetrically by
    the degrees: S = D^-1/2 W D^-1/2. Iterates F <- alpha S F + (1 - alpha) Y until the total
    change is below `tol`. Equivalent to ``sklearn.semi_supervised.LabelSpreading(kernel="knn")``.

    With `model` (e.g. from ``ssl_pretrain()``) the graph is built on learned features instead of
    `x` itself: ``ssl_embed(model, x, layer=layer)``, scaled to unit length, so that neighbours are
    the samples of highest cosine similarity, as contrastive features are compared (Iscen et al.
    2019 spread labels over learned features the same way).

    Parameters
    ----------
    x : array (n, features) or images (n, height, width[, channels]), flattened; with `model`,
        data the model takes.
    y : array of shape (n,)
        Class indices 0..k-1, -1 for unlabelled samples.
    n_neighbors : int, default=7
    alpha : float in (0, 1), default=0.2
        How much of its label a sample takes from its neighbours each iteration.
    max_iter : int, default=30
    tol : float, default=1e-3
    model : Model, optional
        Spread over this model's features of `x` rather than over `x`.
    layer : str or int, optional
        With `model`: the encoder layer read (as in ``ssl_embed()``).
    classes : int or list of str, optional
        Number or names of the classes (default 0..max(y)).
    device : {"auto", "cpu", "cuda"}

    Returns
    -------
    LabelSpreadingResult: labels, distributions, classes, iterations, history.
    """
    if model is not None:
        from .self_supervised import ssl_embed
        feats = ssl_embed(model, x, layer=layer, device=device)
        feats = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    else:
        feats = v.check_features(x, "x")
    n = len(feats)
    y = v.check_partial_labels(y, n, "y", classes=classes)
    names = v.check_classes(classes, y)
    n_neighbors = v.check_int(n_neighbors, "n_neighbors")
    v.check_at_most(n_neighbors, "n_neighbors", n - 1, "the number of samples in `x` minus one")
    alpha = v.check_number(alpha, "alpha", 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    max_iter = v.check_int(max_iter, "max_iter")
    tol = v.check_number(tol, "tol", 0.0, None)
    dev = resolve_device(device)

    xs = torch.from_numpy(feats).to(dev)
    idx, weight = _knn_graph(xs, n_neighbors)              # (n, k) neighbours; weight 0 drops self
    degree = torch.zeros(n, dtype=torch.float64, device=dev).index_add_(0, idx.flatten(), weight.flatten())
    root = torch.where(degree > 0, degree.sqrt(), torch.ones_like(degree))
    coef = weight / (root[:, None] * root[idx])            # S[i, idx[i, j]] = coef[i, j]

    yt = torch.from_numpy(y).to(dev)
    labelled = yt >= 0
    dist = torch.zeros(n, len(names), dtype=torch.float64, device=dev)
    dist[labelled, yt[labelled]] = 1.0
    static = (1 - alpha) * dist
    previous = torch.zeros_like(dist)
    history, iterations = [], max_iter
    for it in range(max_iter):
        if float((dist - previous).abs().sum()) < tol:
            iterations = it
            break
        previous = dist
        dist = alpha * (coef[:, :, None] * dist[idx]).sum(1) + static   # alpha S F + (1 - alpha) Y
        history.append({"iteration": it + 1, "change": float((dist - previous).abs().sum())})
    else:
        warnings.warn(f"label_spreading() did not converge in `max_iter` = {max_iter} iterations "
                      f"(last change {history[-1]['change']:.3g} > `tol` = {tol}).")
    norm = dist.sum(1, keepdim=True)
    dist = dist / torch.where(norm == 0, torch.ones_like(norm), norm)
    return LabelSpreadingResult(labels=dist.argmax(1).cpu().numpy().astype(np.int64),
                                distributions=dist.cpu().numpy(), classes=names,
                                iterations=iterations, history=history)


def _knn_graph(xs: torch.Tensor, k: int, chunk: int = 1024):
    """Indices of the k nearest samples of every sample (itself included, as scikit-learn's
    ``kneighbors_graph(X, k)`` counts it) and a float64 weight: 1, or 0 for the sample itself."""
    sq = (xs * xs).sum(1)
    out = []
    for start in range(0, len(xs), chunk):
        q = xs[start:start + chunk]
        d = sq[start:start + chunk, None] - 2 * q @ xs.T + sq[None, :]   # (chunk, n)
        rows = torch.arange(start, start + len(q), device=xs.device)
        d[torch.arange(len(q), device=xs.device), rows] = -1.0             # self first, as in sklearn
        out.append(d.topk(k, dim=1, largest=False).indices)
    idx = torch.cat(out)
    weight = (idx != torch.arange(len(xs), device=xs.device)[:, None]).double()
    return idx, weight


# ------------------------------------------------------------------------------------ FixMatch
TEACHERS = ("batch", "eval", "ema")


class FixMatch:
    """Task of the training loop for FixMatch (Sohn et al. 2020).

    The loop iterates over the *labelled* samples as usual; this task holds the unlabelled pool
    on the device and, for each labelled batch of B images, draws mu*B pool images with the loop's
    random stream `gen`. The loss is cross-entropy on the weak views of the labelled batch plus
    `lambda_u` times the cross-entropy of the strong views of the pool images against the classes
    predicted for their weak views, where those are at least `threshold` sure.

    `teacher` says where those predictions come from: "batch" (the paper's) -- the training forward
    pass sees [weak(labelled) | weak(pool) | strong(pool)] and the weak views' outputs, detached, are
    the pseudo-labels; "eval" -- the model in eval mode (no dropout, batch-norm running statistics) on
    the weak views, without gradients; "ema" -- the moving average of the weights (the fit's `ema`).
    With "eval" and "ema" the training pass sees only [weak(labelled) | strong(pool)].

    Outside training (no gradients: the loop's validation pass) a batch is plain classification.
    """

    def __init__(self, unlabelled: torch.Tensor, mu: int, threshold: float, lambda_u: float, flip: bool,
                 teacher: str = "batch", n_ops: int = 2):
        self.unlabelled = unlabelled      # (N, C, H, W) on the device, uint8 or float
        self.mu, self.threshold, self.lambda_u, self.flip = mu, threshold, lambda_u, flip
        self.teacher, self.n_ops = teacher, n_ops
        # the network the loop hands to batch(): the averaged weights, the trained ones (eval mode), or none
        self.uses_teacher = {"ema": "ema", "eval": "model"}.get(teacher)

    def batch(self, x, y, gen, teacher=None):
        if not torch.is_grad_enabled():
            return as_float(x), y
        pick = torch.randint(len(self.unlabelled), (self.mu * len(x),), generator=gen, device=x.device)
        xu = as_float(self.unlabelled[pick])
        weak_l = weak_augment(as_float(x), gen, self.flip)
        weak_u = weak_augment(xu, gen, self.flip)
        strong_u = strong_augment(xu, gen, self.flip, self.n_ops)
        if self.teacher == "batch":
            return torch.cat([weak_l, weak_u, strong_u]), y
        conf, pseudo = _predict_without_grad(teacher, weak_u).max(1)
        # one target per input row: the labels, then each strong view's pseudo-label (-1: not sure enough)
        return torch.cat([weak_l, strong_u]), torch.cat([y, torch.where(conf >= self.threshold, pseudo, -1)])

    def local_rows(self, n_rows: int, samples, m: int):
        """Data-parallel: the input rows of labelled samples `samples` of m: their own, then the
        mu unlabelled images drawn for each (draw j belongs to labelled sample j // mu), weak then strong
        (only strong with a teacher)."""
        if n_rows == m:          # validation: labelled images only
            return samples
        unl = (samples[:, None] * self.mu + torch.arange(self.mu, device=samples.device)).flatten()
        if self.teacher != "batch":
            return torch.cat([samples, m + unl])
        return torch.cat([samples, m + unl, m + self.mu * m + unl])

    def _training(self, outputs, targets) -> bool:
        """A training batch (with pool images), not the loop's validation pass (no gradients there)."""
        return torch.is_grad_enabled() and (len(outputs) != len(targets) or self.teacher != "batch")

    def _split(self, outputs, targets):
        """(labelled logits, labels, strong-view logits, pseudo-labels, mask) of a training batch."""
        if self.teacher != "batch":                    # rows: B labelled, then mu * B strong views
            b = len(outputs) // (1 + self.mu)
            pseudo = targets[b:]
            return outputs[:b].float(), targets[:b], outputs[b:].float(), pseudo.clamp_min(0), (pseudo >= 0).float()
        b = len(targets)
        weak, strong = outputs[b:].float().chunk(2)
        conf, pseudo = torch.softmax(weak.detach(), 1).max(1)
        return outputs[:b].float(), targets, strong, pseudo, (conf >= self.threshold).float()

    def loss(self, outputs, targets):
        if not self._training(outputs, targets):
            return F.cross_entropy(outputs.float(), targets)
        logits, y, strong, pseudo, mask = self._split(outputs, targets)
        unsup = (F.cross_entropy(strong, pseudo, reduction="none") * mask).mean()   # over all mu * B, as the paper
        return F.cross_entropy(logits, y) + self.lambda_u * unsup

    def metrics(self, outputs, targets):
        if not self._training(outputs, targets):
            return {"accuracy": (outputs.argmax(1) == targets).float().mean()}
        logits, y, _, _, mask = self._split(outputs, targets)
        # mask_rate: share of pool images confident enough to be learnt from
        return {"accuracy": (logits.argmax(1) == y).float().mean(), "mask_rate": mask.mean()}


@torch.no_grad()
def _predict_without_grad(net, x):
    """Class probabilities of `net` in eval mode (its mode restored after)."""
    was_training = net.training
    net.eval()
    with autocast(x.device):
        probs = torch.softmax(net(x).float(), 1)
    net.train(was_training)
    return probs


def fit_fixmatch(x, y, *, threshold: float = 0.95, lambda_u: float = 1.0, mu: int = 7, flip: bool = False,
                 teacher: str = "batch", n_ops: int = 2, model: Model | None = None, classes=None,
                 encoder: str = "cnn", epochs: int = 10, batch_size: int = 64, validation_split: float = 0.0,
                 lr: float = 0.03, optimizer: str = "sgd", weight_decay: float = 5e-4, schedule: str = "cosine",
                 ema: float = 0.999, seed: int | None = None, device: str = "auto", verbose: bool = True):
    """FixMatch (Sohn et al. 2020): learn from unlabelled images by making the prediction on a
    strongly augmented view match the confident prediction on a weakly augmented view.

    The recipe, checked against the paper and its reference code (google-research/fixmatch;
    kekmodel/FixMatch-pytorch), point by point:

    - weak view: horizontal flip (`flip`; off by default, wrong for digits) and a shift of up to
      12.5% with reflected edges; strong view: the weak one, then RandAugment with `n_ops` = 2
      operations at random magnitudes, then Cutout (`selfsup.augment`). The reference applies each
      operation with probability 0.5 and Cutout at a fixed half side; we always apply both operations
      (the paper's text) and draw Cutout's side up to half the image (the paper's table 12).
    - pseudo-labels: the class predicted for the weak view where its probability is >= `threshold`
      (0.95), hard labels, loss weight `lambda_u` (1); from the training forward pass (`teacher` =
      "batch", the paper's), the model in eval mode ("eval") or the moving average ("ema").
    - mu = 7 pool images per labelled image; the pool is every image of `x` (the labelled ones too,
      as the paper does), except labelled images held out by `validation_split`.
    - SGD with Nesterov momentum 0.9, lr 0.03, weight decay 5e-4 on the kernels, cosine decay to 0
      over the fit (the paper decays to cos(7 pi / 16) ~ 0.2 of the rate over 2^20 steps; to 0 suits
      the short fits a CPU affords); evaluation with the moving average of the weights (`ema` 0.999):
      the returned model holds the averaged weights.
    - differs: the paper's budget is 2^20 steps of 64 labelled + 448 pool images on a
      WideResNet-28-2; the default `epochs` here is a pass over the labelled images, so pick epochs
      for the steps you can afford: steps = epochs * ceil(n_labelled / batch_size).

    Parameters
    ----------
    x : images (n, height, width[, channels])
    y : array of shape (n,)
        Class indices 0..k-1, -1 for unlabelled images.
    threshold : float in [0, 1], default=0.95
        Confidence needed before an unlabelled image's pseudo-label is used.
    lambda_u : float, default=1.0
        Weight of the unlabelled loss.
    mu : int, default=7
        Pool images per labelled image in each step.
    flip : bool, default=False
        Use horizontal flips in the augmentations (good for photos and clothes, wrong for digits).
    teacher : {"batch", "eval", "ema"}, default="batch"
        Where the pseudo-labels come from (see above); "ema" needs `ema` > 0.
    n_ops : int, default=2
        RandAugment operations per strong view.
    model : Model, optional
        Train this classifier further (in place), e.g. one from ``ssl_finetune()`` of a pretrained
        encoder, instead of building a new one.
    classes, encoder, epochs, batch_size, validation_split, lr, seed, device, verbose
        As in `fit_supervised`. An epoch is one pass over the *labelled* images (ceil(n_labelled /
        batch_size) steps); `validation_split` holds out the last labelled images.
    optimizer, weight_decay, schedule, ema
        The training loop's recipe settings (see `fit_supervised`), FixMatch's by default.

    Returns
    -------
    Model (task "fixmatch"); history has loss, accuracy (labelled batches) and mask_rate.
    """
    settings = fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose, optimizer,
                            weight_decay, schedule, ema)
    threshold = v.check_number(threshold, "threshold", 0.0, 1.0)
    lambda_u = v.check_number(lambda_u, "lambda_u", 0.0, None)
    mu = v.check_int(mu, "mu")
    n_ops = v.check_int(n_ops, "n_ops", minimum=0)
    v.check_choice(teacher, "teacher", TEACHERS)
    if teacher == "ema" and settings.ema == 0:
        raise ValueError('`teacher` "ema" needs a moving average of the weights: set `ema` > 0 (e.g. 0.999).')
    x, x_lab, y_lab, model, unlabelled = _semi_inputs(x, y, classes, encoder, model, settings, "fit_fixmatch()",
                                                      images=True)
    v.check_unit_pixels(x, "x", "FixMatch's strong augmentation (equalize, posterize, solarize)")
    n_train = split_validation(len(x_lab), settings.validation_split)
    held_out = np.flatnonzero(~unlabelled)[n_train:]       # labelled validation images stay out of the pool
    pool = to_device(np.delete(x, held_out, axis=0), resolve_device(device))
    task = FixMatch(pool, mu, threshold, lambda_u, bool(flip), teacher, n_ops)
    fit(model.net, task, x_lab, y_lab, settings, model.history)
    model.task = "fixmatch"
    return model


def _semi_inputs(x, y, classes, encoder, model, settings, method: str, images: bool = False):
    """Checked (x, x_lab, y_lab, model, unlabelled mask); a new model unless one is given.

    `images`: `x` must be images whatever the encoder (the method augments them)."""
    if model is None:
        v.check_choice(encoder, "encoder", IMAGE_ENCODERS)
    flat_ok = not images and (encoder if model is None else model.spec["encoder"]["name"]) == "mlp"
    x = v.check_images(x, "x", ndims=(2, 3, 4) if flat_ok else (3, 4))
    y = v.check_partial_labels(y, len(x), "y", n_classes=None if model is None else len(model.classes),
                               classes=classes if model is None else model.classes)
    unlabelled = _check_unlabelled(y, method)
    if model is None:
        model = build_model(x.shape[1:], v.check_classes(classes, y), encoder=encoder, seed=settings.seed)
    else:
        check_model(model, classifier=True)
        x = check_inputs_for(model, x)
    x_lab, y_lab = x[~unlabelled], y[~unlabelled]
    check_validation_split(settings.validation_split, len(x_lab), "labelled samples")
    return x, x_lab, y_lab, model, unlabelled
