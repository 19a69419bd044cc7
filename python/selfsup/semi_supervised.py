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

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from . import _validate as v
from .device import resolve_device
from .model import build_model
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
def fit_pseudo_label(x, y, *, threshold: float = 0.95, rounds: int = 3, round_epochs: int = 1,
                     classes=None, encoder: str = "cnn", epochs: int = 10, batch_size: int = 64,
                     validation_split: float = 0.0, lr: float = 1e-3, seed: int | None = None,
                     device: str = "auto", verbose: bool = True):
    """Self-training with pseudo-labels (Lee 2013 style).

    Round 0 trains a classifier on the labelled samples for `epochs` epochs. Each of `rounds`
    further rounds predicts the unlabelled samples, keeps those whose top class probability is at
    least `threshold` with that class as their label, and trains the same model for
    `round_epochs` epochs on the labelled plus pseudo-labelled samples.

    Parameters
    ----------
    x : images (n, height, width[, channels]); (n, features) with ``encoder="mlp"``
    y : array of shape (n,)
        Class indices 0..k-1 for labelled samples, -1 for unlabelled ones.
    threshold : float in [0, 1], default=0.95
    rounds : int, default=3
    round_epochs : int, default=1
        Epochs over labelled + pseudo-labelled samples per round.
    classes, encoder, epochs, batch_size, lr, seed, device, verbose : as in `fit_supervised`.
    validation_split : float
        Share of the *labelled* samples (the last ones) held out; they are never trained on or
        pseudo-labelled, and each epoch reports `val_loss` / `val_accuracy` on them.

    Returns
    -------
    Model (task "pseudo_label"); its history has one row per epoch with `round` and
    `pseudo_labelled` (how many unlabelled samples carried a pseudo-label in that round).
    """
    settings = fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose)
    threshold = v.check_number(threshold, "threshold", 0.0, 1.0)
    rounds = v.check_int(rounds, "rounds", minimum=0)
    round_epochs = v.check_int(round_epochs, "round_epochs")
    v.check_choice(encoder, "encoder", IMAGE_ENCODERS)
    x = v.check_images(x, "x", ndims=(2, 3, 4) if encoder == "mlp" else (3, 4))
    y = v.check_partial_labels(y, len(x), "y", classes=classes)
    unlabelled = _check_unlabelled(y, "fit_pseudo_label()")
    names = v.check_classes(classes, y)
    x_lab, y_lab, x_unl = x[~unlabelled], y[~unlabelled], x[unlabelled]
    check_validation_split(settings.validation_split, len(x_lab), "labelled samples")
    n_val = len(x_lab) - split_validation(len(x_lab), settings.validation_split)
    common = dict(batch_size=settings.batch_size, lr=settings.lr, device=device, verbose=settings.verbose)

    model = fit_supervised(x_lab, y_lab, classes=names, encoder=encoder, epochs=settings.epochs,
                           validation_split=settings.validation_split, seed=settings.seed, **common)
    _tag(model.history, 0, 0)
    for r in range(1, rounds + 1):
        probs = predict(model, x_unl, type="prob", device=device)
        keep = probs.max(1) >= threshold
        if not keep.any():
            warnings.warn(f"round {r}: no unlabelled sample reached `threshold` {threshold}; stopping early.")
            break
        # labelled validation samples go last, so the loop holds out exactly those
        xs = np.concatenate([x_lab[:len(x_lab) - n_val], x_unl[keep], x_lab[len(x_lab) - n_val:]])
        ys = np.concatenate([y_lab[:len(y_lab) - n_val], probs[keep].argmax(1), y_lab[len(y_lab) - n_val:]])
        split = (n_val + 0.5) / len(xs) if n_val else 0.0  # int(len(xs) * split) == n_val
        fit_supervised(xs, ys, model=model, epochs=round_epochs, validation_split=split,
                       seed=settings.seed + r, **common)
        _tag(model.history, r, int(keep.sum()))
    model.task = "pseudo_label"
    return model


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
                    tol: float = 1e-3, classes=None, device: str = "auto") -> LabelSpreadingResult:
    """Spread labels over a k-nearest-neighbour graph (Zhou et al. 2004), in torch.

    The graph links each sample to its `n_neighbors` nearest samples (Euclidean, the sample
    itself counted among them and then dropped, as in scikit-learn), normalised symmetrically by
    the degrees: S = D^-1/2 W D^-1/2. Iterates F <- alpha S F + (1 - alpha) Y until the total
    change is below `tol`. Equivalent to ``sklearn.semi_supervised.LabelSpreading(kernel="knn")``.

    Parameters
    ----------
    x : array (n, features) or images (n, height, width[, channels]), flattened
    y : array of shape (n,)
        Class indices 0..k-1, -1 for unlabelled samples.
    n_neighbors : int, default=7
    alpha : float in (0, 1), default=0.2
        How much of its label a sample takes from its neighbours each iteration.
    max_iter : int, default=30
    tol : float, default=1e-3
    classes : int or list of str, optional
        Number or names of the classes (default 0..max(y)).
    device : {"auto", "cpu", "cuda"}

    Returns
    -------
    LabelSpreadingResult: labels, distributions, classes, iterations, history.
    """
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
class FixMatch:
    """Task of the training loop for FixMatch (Sohn et al. 2020).

    The loop iterates over the *labelled* samples as usual; this task holds the unlabelled pool
    on the device and, for each labelled batch of B images, draws mu*B unlabelled images from
    the pool with the loop's random stream `gen`. One forward pass sees
    [weak(labelled) | weak(unlabelled) | strong(unlabelled)] (B + 2 mu B images); the loss is
    cross-entropy on the labelled part plus `lambda_u` times the cross-entropy of the strong
    views against the weak views' predicted classes, where those are at least `threshold` sure.

    Outside training (no gradients: the loop's validation pass) a batch is plain classification.
    """

    def __init__(self, unlabelled: torch.Tensor, mu: int, threshold: float, lambda_u: float, flip: bool):
        self.unlabelled = unlabelled      # (N, C, H, W) on the device, uint8 or float
        self.mu, self.threshold, self.lambda_u, self.flip = mu, threshold, lambda_u, flip

    def batch(self, x, y, gen):
        if not torch.is_grad_enabled():
            return as_float(x), y
        pick = torch.randint(len(self.unlabelled), (self.mu * len(x),), generator=gen, device=x.device)
        xu = as_float(self.unlabelled[pick])
        inputs = torch.cat([weak_augment(as_float(x), gen, self.flip), weak_augment(xu, gen, self.flip),
                            strong_augment(xu, gen, self.flip)])
        return inputs, y

    def local_rows(self, n_rows: int, samples, m: int):
        """Data-parallel: the input rows of labelled samples `samples` of m: their own, then the
        mu unlabelled images drawn for each (draw j belongs to labelled sample j // mu), weak then strong."""
        if n_rows == m:          # validation: labelled images only
            return samples
        unl = (samples[:, None] * self.mu + torch.arange(self.mu, device=samples.device)).flatten()
        return torch.cat([samples, m + unl, m + self.mu * m + unl])

    def _split(self, outputs, targets):
        b = len(targets)
        weak, strong = outputs[b:].float().chunk(2)
        conf, pseudo = torch.softmax(weak.detach(), 1).max(1)
        return outputs[:b].float(), strong, pseudo, (conf >= self.threshold).float()

    def loss(self, outputs, targets):
        if len(outputs) == len(targets):
            return F.cross_entropy(outputs.float(), targets)
        logits, strong, pseudo, mask = self._split(outputs, targets)
        unsup = (F.cross_entropy(strong, pseudo, reduction="none") * mask).mean()
        return F.cross_entropy(logits, targets) + self.lambda_u * unsup

    def metrics(self, outputs, targets):
        accuracy = (outputs[:len(targets)].argmax(1) == targets).float().mean()
        if len(outputs) == len(targets):
            return {"accuracy": accuracy}
        # mask_rate: share of unlabelled images confident enough to be learnt from
        return {"accuracy": accuracy, "mask_rate": self._split(outputs, targets)[3].mean()}


def _uniform(n, low, high, gen, device):
    return low + (high - low) * torch.rand(n, generator=gen, device=device)


def _affine(x, gen, flip: bool, shift: float, rotate: float = 0.0, shear: float = 0.0):
    """Per-image random affine map on the device: optional horizontal flip, translation by up to
    `shift` of the size, rotation up to `rotate` degrees, shear up to `shear`; edges reflect."""
    n, dev = len(x), x.device
    angle = _uniform(n, -rotate, rotate, gen, dev) * (math.pi / 180)
    sh = _uniform(n, -shear, shear, gen, dev)
    sx = torch.ones(n, device=dev)
    if flip:
        sx = torch.where(torch.rand(n, generator=gen, device=dev) < 0.5, -sx, sx)
    cos, sin = angle.cos(), angle.sin()
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 1] = cos * sx, -sin + sh
    theta[:, 1, 0], theta[:, 1, 1] = sin * sx, cos
    theta[:, :, 2] = _uniform(2 * n, -2 * shift, 2 * shift, gen, dev).view(n, 2)  # grid units: 2 = size
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def weak_augment(x, gen, flip: bool = False):
    """FixMatch's weak augmentation: flip (when `flip`) and shift by up to 12.5% of the size."""
    return _affine(x, gen, flip, shift=0.125)


def strong_augment(x, gen, flip: bool = False):
    """A batched, on-device take on FixMatch's strong augmentation (RandAugment + Cutout):
    rotation up to 30 degrees, shear up to 0.3, shift up to 30%, random brightness and contrast
    (factors 0.5..1.5), solarisation of half the images, then a Cutout square of up to half the
    image side filled with grey. Every image gets its own magnitudes."""
    n, dev = len(x), x.device
    x = _affine(x, gen, flip, shift=0.3, rotate=30.0, shear=0.3)
    lo, hi = x.amin((1, 2, 3), keepdim=True), x.amax((1, 2, 3), keepdim=True)
    x = (x - lo) / (hi - lo).clamp_min(1e-6)                  # per image to [0, 1]
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * _uniform(n, 0.5, 1.5, gen, dev).view(n, 1, 1, 1) + mean      # contrast
    x = (x * _uniform(n, 0.5, 1.5, gen, dev).view(n, 1, 1, 1)).clamp(0, 1)         # brightness
    solar = (torch.rand(n, generator=gen, device=dev) < 0.5).view(n, 1, 1, 1)
    level = _uniform(n, 0.5, 1.0, gen, dev).view(n, 1, 1, 1)
    x = torch.where(solar & (x >= level), 1 - x, x)
    x = _cutout(x, gen, 0.5)
    return x * (hi - lo) + lo                                   # back to the input's range


def _cutout(x, gen, size: float):
    n, _, h, w = x.shape
    dev = x.device
    side = _uniform(n, 0, size, gen, dev)
    cy, cx = torch.rand(n, generator=gen, device=dev) * h, torch.rand(n, generator=gen, device=dev) * w
    rows = torch.arange(h, device=dev).view(1, h, 1)
    cols = torch.arange(w, device=dev).view(1, 1, w)
    half_h, half_w = (side * h / 2).view(n, 1, 1), (side * w / 2).view(n, 1, 1)
    box = ((rows - cy.view(n, 1, 1)).abs() < half_h) & ((cols - cx.view(n, 1, 1)).abs() < half_w)
    return torch.where(box[:, None], torch.full_like(x, 0.5), x)


def fit_fixmatch(x, y, *, threshold: float = 0.95, lambda_u: float = 1.0, mu: int = 7, flip: bool = False,
                 classes=None, encoder: str = "cnn", epochs: int = 10, batch_size: int = 64,
                 validation_split: float = 0.0, lr: float = 1e-3, seed: int | None = None,
                 device: str = "auto", verbose: bool = True):
    """FixMatch (Sohn et al. 2020): learn from unlabelled images by making the prediction on a
    strongly augmented view match the confident prediction on a weakly augmented view.

    Parameters
    ----------
    x : images (n, height, width[, channels])
    y : array of shape (n,)
        Class indices 0..k-1, -1 for unlabelled images (the unlabelled pool).
    threshold : float in [0, 1], default=0.95
        Confidence needed before an unlabelled image's pseudo-label is used.
    lambda_u : float, default=1.0
        Weight of the unlabelled loss.
    mu : int, default=7
        Unlabelled images per labelled image in each step.
    flip : bool, default=False
        Use horizontal flips in the augmentations (good for photos and clothes, wrong for digits).
    classes, encoder, epochs, batch_size, validation_split, lr, seed, device, verbose
        As in `fit_supervised`. An epoch is one pass over the *labelled* images (ceil(n_labelled /
        batch_size) steps); `validation_split` holds out the last labelled images.

    Returns
    -------
    Model (task "fixmatch"); history has loss, accuracy (labelled batches) and mask_rate.
    """
    settings = fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose)
    threshold = v.check_number(threshold, "threshold", 0.0, 1.0)
    lambda_u = v.check_number(lambda_u, "lambda_u", 0.0, None)
    mu = v.check_int(mu, "mu")
    v.check_choice(encoder, "encoder", IMAGE_ENCODERS)
    x = v.check_images(x, "x", ndims=(3, 4))
    y = v.check_partial_labels(y, len(x), "y", classes=classes)
    unlabelled = _check_unlabelled(y, "fit_fixmatch()")
    names = v.check_classes(classes, y)
    x_lab, y_lab = x[~unlabelled], y[~unlabelled]
    check_validation_split(settings.validation_split, len(x_lab), "labelled samples")
    model = build_model(x.shape[1:], names, encoder=encoder, seed=settings.seed)
    pool = to_device(x[unlabelled], resolve_device(device))
    fit(model.net, FixMatch(pool, mu, threshold, lambda_u, bool(flip)), x_lab, y_lab, settings, model.history)
    model.task = "fixmatch"
    return model
