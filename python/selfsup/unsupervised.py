"""Unsupervised learning: k-means clustering, principal component analysis and autoencoders.

k-means and PCA run in torch on the chosen device (the whole data set as one tensor); the
autoencoder is a `Model` trained through the one training loop with a reconstruction task.
Samples are rows: (n, features) matrices, or images (n, height, width[, channels]) that are
flattened for k-means and PCA and used as images by the convolutional autoencoder.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from . import _validate as v
from .device import generator, resolve_device, resolve_seed
from .model import Model, check_inputs_for, check_model
from .nets import build_net
from .settings import check_validation_split, fit_settings
from .train import as_float, fit, forward_all

KINDS = {"dense": ("dense_ae", "dense_decoder"), "conv": ("conv_ae", "conv_decoder")}


# ---------------------------------------------------------------------------------- results
@dataclass
class KMeansResult:
    """What `k_means()` found. `labels` are 0-based cluster indices (1-based in R)."""
    labels: np.ndarray          # (n,) int64
    centers: np.ndarray         # (k, *sample shape) float32, in the units of `x`
    inertia: float              # sum of squared distances of samples to their centre
    iterations: int             # Lloyd iterations of the best run
    n_init: int
    seed: int
    within_ss: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (k,) squared distances per cluster


@dataclass
class PCAResult:
    """What `pca()` found; `pca_transform` / `pca_inverse` use it on new data."""
    scores: np.ndarray                    # (n, n_components)
    components: np.ndarray                # (n_components, features), orthonormal rows
    explained_variance: np.ndarray        # (n_components,), variance of each score (ddof=1)
    explained_variance_ratio: np.ndarray  # (n_components,), share of the total variance
    mean: np.ndarray                      # (features,)
    sample_shape: tuple = field(default=())  # shape of one sample of `x`, e.g. (28, 28)


# ------------------------------------------------------------------------------------ k-means
def k_means(x, k: int, *, n_init: int = 10, max_iter: int = 300, tol: float = 1e-4,
            seed: int | None = None, device: str = "auto") -> KMeansResult:
    """k-means clustering (Lloyd's algorithm from k-means++ starts), in torch.

    Parameters
    ----------
    x : array of shape (n, features) or images (n, height, width[, channels])
        Used as given (images are flattened; pixel units are kept).
    k : int
        Number of clusters, 1..n.
    n_init : int, default=10
        Number of k-means++ starts; the run with the lowest inertia is returned.
    max_iter : int, default=300
        Most Lloyd iterations per start.
    tol : float, default=1e-4
        Stop when the centres move less than `tol` times the mean feature variance
        (squared distance summed over centres), as scikit-learn does.
    seed : int, optional
        Seeds the k-means++ starts; drawn when None, and kept as the result's `seed`.
    device : {"auto", "cpu", "cuda"}

    Returns
    -------
    KMeansResult with labels (0-based), centers, inertia, iterations.
    """
    feats = v.check_features(x, "x")
    k = v.check_int(k, "k", minimum=1)
    v.check_at_most(k, "k", len(feats), "the number of samples in `x`")
    n_init = v.check_int(n_init, "n_init")
    max_iter = v.check_int(max_iter, "max_iter")
    tol = v.check_number(tol, "tol", 0.0, None)
    dev = resolve_device(device)
    seed = resolve_seed(seed)
    gen = generator(seed, dev)

    xs = torch.from_numpy(feats).to(dev)
    x_sq = (xs * xs).sum(1)
    threshold = tol * float(xs.var(0).mean()) if len(xs) > 1 else 0.0
    best = None
    for _ in range(n_init):
        centers = _kmeans_plus_plus(xs, x_sq, k, gen)
        labels, inertia, centers, iters = _lloyd(xs, x_sq, centers, max_iter, threshold)
        if best is None or inertia < best[1]:
            best = (labels, inertia, centers, iters)
    labels, inertia, centers, iters = best
    within = torch.zeros(k, dtype=torch.float64, device=dev).index_add_(
        0, labels, ((xs - centers[labels]).double() ** 2).sum(1))   # (k,), in float64 as the inertia
    return KMeansResult(labels=labels.cpu().numpy().astype(np.int64),
                        centers=centers.cpu().numpy().reshape(k, *np.shape(x)[1:]),
                        inertia=inertia, iterations=iters, n_init=n_init, seed=seed,
                        within_ss=within.cpu().numpy())


def _sq_dist(xs, x_sq, centers):
    """(n, k) squared Euclidean distances, via |x|^2 - 2 x.c + |c|^2 (one matmul)."""
    d = x_sq[:, None] - 2 * xs @ centers.T + (centers * centers).sum(1)[None, :]
    return d.clamp_min_(0)


def _kmeans_plus_plus(xs, x_sq, k, gen):
    """Greedy k-means++ (Arthur & Vassilvitskii 2007): of 2 + log(k) candidates drawn with
    probability proportional to D(x)^2, keep the one that lowers the potential most."""
    n = len(xs)
    trials = 2 + int(math.log(k))
    first = torch.randint(n, (1,), generator=gen, device=xs.device)
    centers = [xs[first]]
    closest = _sq_dist(xs, x_sq, centers[0])[:, 0]
    for _ in range(1, k):
        if float(closest.sum()) <= 0:  # fewer distinct points than k: any point will do
            cand = torch.randint(n, (trials,), generator=gen, device=xs.device)
        else:
            cand = torch.multinomial(closest, trials, replacement=True, generator=gen)
        d = torch.minimum(closest[:, None], _sq_dist(xs, x_sq, xs[cand]))  # (n, trials)
        pick = int(d.sum(0).argmin())
        closest = d[:, pick]
        centers.append(xs[cand[pick]][None])
    return torch.cat(centers)


def _lloyd(xs, x_sq, centers, max_iter, threshold):
    """Assign to the nearest centre, move centres to their means; an empty cluster takes the
    sample farthest from its centre. Returns labels, inertia, centres, iterations."""
    k = len(centers)
    labels = None
    for it in range(1, max_iter + 1):
        d = _sq_dist(xs, x_sq, centers)
        new_labels = d.argmin(1)
        counts = torch.bincount(new_labels, minlength=k)
        sums = torch.zeros_like(centers).index_add_(0, new_labels, xs)
        new_centers = sums / counts.clamp_min(1)[:, None].to(xs.dtype)
        empty = (counts == 0).nonzero().flatten()
        if len(empty):
            far = d.gather(1, new_labels[:, None])[:, 0].topk(len(empty)).indices
            new_centers[empty] = xs[far]
        shift = float(((new_centers - centers) ** 2).sum())
        centers = new_centers
        converged = labels is not None and torch.equal(labels, new_labels)
        labels = new_labels
        if converged or shift <= threshold:
            break
    d = _sq_dist(xs, x_sq, centers)
    labels = d.argmin(1)
    # exact inertia in float64: the matmul form loses digits when distances are small
    inertia = float(((xs - centers[labels]).double() ** 2).sum())
    return labels, inertia, centers, it


# ---------------------------------------------------------------------------------------- PCA
def pca(x, n_components: int = 2, *, device: str = "auto") -> PCAResult:
    """Principal component analysis of the centred data (float64, in torch): by the eigenvectors of the
    (features, features) covariance when samples outnumber features (as scikit-learn's "covariance_eigh"
    solver: memory of the data, not of an (n, features) SVD factor -- 70,000 x 3,136 features needed
    over 8 GB by SVD), by SVD otherwise.

    Parameters
    ----------
    x : array of shape (n, features) or images (n, height, width[, channels])
    n_components : int, default=2
        At most min(n_samples, n_features).
    device : {"auto", "cpu", "cuda"}

    Returns
    -------
    PCAResult with scores, components (signs fixed: each component's largest entry is
    positive), explained_variance and explained_variance_ratio, mean.
    """
    feats = v.check_features(x, "x")
    n_components = v.check_int(n_components, "n_components")
    n, p = feats.shape
    v.check_at_most(n_components, "n_components", p, "the number of features in `x`")
    v.check_at_most(n_components, "n_components", n, "the number of samples in `x`")
    if n < 2:
        raise ValueError("`x` has 1 sample; PCA needs at least 2.")
    dev = resolve_device(device)
    xc = torch.from_numpy(feats).to(dev, torch.float64, copy=True)
    mean = xc.mean(0)
    xc -= mean                                     # centred in place: one (n, p) copy in float64
    if n >= p:
        evals, evecs = torch.linalg.eigh(xc.T @ xc)                      # ascending, (p,), (p, p)
        order = evals.argsort(descending=True)
        s2, vt = evals[order].clamp_min(0), evecs[:, order].T
    else:
        _, s, vt = torch.linalg.svd(xc, full_matrices=False)
        s2 = s ** 2
    # deterministic signs: the largest |entry| of each component is positive
    signs = torch.sign(vt.gather(1, vt.abs().argmax(1, keepdim=True)))
    vt = vt * signs
    var = s2 / (n - 1)
    total = var.sum()                              # the trace: every component, not only those kept
    comps = vt[:n_components]
    return PCAResult(
        scores=(xc @ comps.T).cpu().numpy(),
        components=comps.cpu().numpy(),
        explained_variance=var[:n_components].cpu().numpy(),
        explained_variance_ratio=(var[:n_components] / total).cpu().numpy(),
        mean=mean.cpu().numpy(),
        sample_shape=tuple(int(d) for d in np.shape(x)[1:]),
    )


def _check_pca(result) -> None:
    if not isinstance(result, PCAResult):
        raise TypeError(f"`pca` must be the result of pca(); got {type(result).__name__}.")


def pca_transform(pca: PCAResult, x) -> np.ndarray:
    """Scores (n, n_components) of new samples `x` (same features as the fitted data)."""
    _check_pca(pca)
    feats = v.check_features(x, "x").astype(np.float64)
    if feats.shape[1] != pca.mean.shape[0]:
        raise ValueError(f"`x` has {feats.shape[1]} features per sample, but `pca` was fitted on "
                         f"{pca.mean.shape[0]}.")
    return (feats - pca.mean) @ pca.components.T


def pca_inverse(pca: PCAResult, scores) -> np.ndarray:
    """Samples rebuilt from their scores, shaped like the fitted data's samples (n, ...)."""
    _check_pca(pca)
    s = v.as_numeric_array(scores, "scores").astype(np.float64)
    if s.ndim == 1:
        s = s[None, :]
    k = pca.components.shape[0]
    if s.ndim != 2 or s.shape[1] != k:
        raise ValueError(f"`scores` must have shape (n, {k}) (one column per component); got {s.shape}.")
    out = s @ pca.components + pca.mean
    return out.reshape(len(s), *pca.sample_shape) if pca.sample_shape else out


# -------------------------------------------------------------------------------- autoencoder
class Reconstruction:
    """Task of the training loop: the target is the input itself; loss = mean squared error."""

    def batch(self, x, y, gen):
        x = as_float(x)
        return x, x

    def loss(self, outputs, targets):
        return F.mse_loss(outputs.float(), targets)

    def metrics(self, outputs, targets):
        return {}


def fit_autoencoder(x, *, latent_dim: int = 2, kind: str = "dense", epochs: int = 10,
                    batch_size: int = 64, validation_split: float = 0.0, lr: float = 1e-3,
                    seed: int | None = None, device: str = "auto", verbose: bool = True) -> Model:
    """Train an autoencoder that squeezes each sample through `latent_dim` numbers.

    Parameters
    ----------
    x : images (n, height, width[, channels]), or (n, features) for ``kind="dense"``
        Integer pixels are scaled to [0, 1] and decoded through a sigmoid; floats are used as
        given and decoded linearly.
    latent_dim : int, default=2
        Width of the code; 2 gives the seminar's 2-D picture (see `encode`).
    kind : {"dense", "conv"}, default="dense"
        Dense layers (784-256-64-latent) or strided convolutions (32, 64 filters).
    epochs, batch_size, validation_split, lr, seed, device, verbose
        As in `fit_supervised`.

    Returns
    -------
    Model with task "autoencoder": ``model.net.encoder`` gives codes, ``model.net`` reconstructions.
    """
    settings = fit_settings(epochs, batch_size, validation_split, lr, seed, device, verbose)
    v.check_choice(kind, "kind", KINDS)
    latent_dim = v.check_int(latent_dim, "latent_dim")
    x = v.check_images(x, "x", ndims=(2, 3, 4) if kind == "dense" else (3, 4))
    check_validation_split(settings.validation_split, len(x))
    enc, dec = KINDS[kind]
    shape = list(x.shape[1:])
    spec = {"encoder": {"name": enc, "input_shape": shape, "latent_dim": latent_dim},
            "head": {"name": dec, "output_shape": shape, "sigmoid": bool(x.dtype == np.uint8)}}
    model = Model(build_net(spec, seed=settings.seed), classes=None, task="autoencoder")
    fit(model.net, Reconstruction(), x, None, settings, model.history)
    return model


def _check_autoencoder(model, x) -> np.ndarray:
    """`model` checked to be an autoencoder, and `x` data for it."""
    if check_model(model).task != "autoencoder":
        raise ValueError(f"`model` is a {model.task} model; encode() and reconstruct() need fit_autoencoder()'s.")
    return check_inputs_for(model, x)


def encode(model: Model, x, *, batch_size: int = 1024, device: str = "auto") -> np.ndarray:
    """Latent codes (n, latent_dim) of `x` under an autoencoder from `fit_autoencoder`."""
    x = _check_autoencoder(model, x)
    dev = resolve_device(device)
    return forward_all(model.net.encoder, x, dev, v.check_int(batch_size, "batch_size")).numpy()


def reconstruct(model: Model, x, *, batch_size: int = 1024, device: str = "auto") -> np.ndarray:
    """Reconstructions of `x`, shaped like `x` and on its scale (0..255 for integer pixels)."""
    x = _check_autoencoder(model, x)
    out = forward_all(model.net, x, resolve_device(device), v.check_int(batch_size, "batch_size"))
    if out.ndim == 4:  # (n, c, h, w) -> channel-last like the input
        out = out.permute(0, 2, 3, 1)
    out = out.reshape(x.shape).numpy()
    return out * 255 if x.dtype == np.uint8 else out
