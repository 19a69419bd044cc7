"""Unsupervised and semi-supervised learning on Fashion-MNIST: the numbers of issue 4.

Semi-supervised: 150 labelled training images (15 per class), the other 59,850 unlabelled;
test accuracy on the 10,000 test images of supervised-only, fit_pseudo_label, label_spreading
and fit_fixmatch, over REPLICATES replicates (a replicate = a seed: labelled set, weights,
batches, augmentations).
Unsupervised: k-means (k=10) on pixels and on a 10-d autoencoder embedding of the 60,000
training images; clustering accuracy (best one-to-one cluster->class map, Hungarian) and NMI.

Sized for a slow shared CPU (< 30 min): the budgets are in CONFIG and printed with the tables.
On a GPU raise them (FixMatch is meant for ~1M steps). `--quick` runs a tiny smoke version.

    nice .venv/bin/python bench/unsup_semi_report.py > /tmp/unsup_report.log 2>&1
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import normalized_mutual_info_score

import selfsup as ss
from selfsup.semi_supervised import fit_fixmatch, fit_pseudo_label, label_spreading
from selfsup.unsupervised import encode, fit_autoencoder, k_means, pca

CONFIG = dict(
    replicates=3,
    n_labels=150,
    device="auto",
    encoder="mlp",              # the CNN is ~10x the compute; the shared CPU affords the MLP only
    sup_epochs=50,              # over the 150 labelled images (3 steps of 64 per epoch)
    pl_threshold=0.95, pl_rounds=3, pl_round_epochs=1,
    ls_pca=50, ls_neighbors=10, ls_alpha=0.99, ls_max_iter=300,
    fm_epochs=100, fm_batch=32, fm_mu=7, fm_threshold=0.95,  # 100 epochs x 5 steps = 500 steps
    km_n_init=1, ae_epochs=10, ae_batch=256, ae_latent=10,
)
QUICK = dict(replicates=1, sup_epochs=2, pl_round_epochs=1, fm_epochs=1, ae_epochs=1, km_n_init=1, subset=3000)


def labelled_split(y, n_labels, seed):
    """y with all but n_labels/k per class set to -1 (stratified, seeded)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per = n_labels // len(classes)
    keep = np.concatenate([rng.choice(np.flatnonzero(y == c), per, replace=False) for c in classes])
    out = np.full_like(y, -1)
    out[keep] = y[keep]
    return out


def cluster_accuracy(truth, clusters):
    """Share of samples right under the best one-to-one map of clusters to classes."""
    k = max(truth.max(), clusters.max()) + 1
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (clusters, truth), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / len(truth)


def fmt(values):
    values = np.asarray(values, dtype=float)
    sd = values.std(ddof=1) if len(values) > 1 else float("nan")
    return f"{values.mean():.4f} ± {sd:.4f}  [" + ", ".join(f"{v:.4f}" for v in values) + "]"


def main(quick: bool, only: int | None = None, overrides: dict | None = None, methods=None):
    cfg = dict(CONFIG, **(QUICK if quick else {}), **(overrides or {}))
    print("config:", cfg, flush=True)
    data = ss.load_dataset("fashion_mnist")
    x, y = data["train"]["x"], data["train"]["y"]
    xt, yt = data["test"]["x"], data["test"]["y"]
    if quick:
        x, y, xt, yt = x[:cfg["subset"]], y[:cfg["subset"]], xt[:500], yt[:500]
    dev = cfg["device"]
    print(f"device: {ss.resolve_device(dev)}; train {x.shape}, test {xt.shape}", flush=True)

    # label spreading works transductively: train and test images in one graph (test unlabelled),
    # on 50 principal components of the pixels (computed once, without labels)
    t = time.perf_counter()
    both = np.concatenate([x, xt])
    scores = pca(both, cfg["ls_pca"], device=dev).scores.astype(np.float32)
    print(f"PCA({cfg['ls_pca']}) of {len(both)} images: {time.perf_counter() - t:.0f}s", flush=True)

    semi = {name: [] for name in ("supervised only", "fit_pseudo_label", "label_spreading", "fit_fixmatch")}
    clus = {name: [] for name in ("k-means on pixels", f"k-means on {cfg['ae_latent']}-d autoencoder")}
    times = {name: [] for name in [*semi, *clus]}

    def timed(name, fn):
        if methods and not any(m in name for m in methods):
            return None
        t0 = time.perf_counter()
        out = fn()
        times[name].append(time.perf_counter() - t0)
        print(f"  {name}: {times[name][-1]:.0f}s", flush=True)
        return out

    for rep in (range(cfg["replicates"]) if only is None else [only]):
        seed = 1000 + rep
        yp = labelled_split(y, cfg["n_labels"], seed)
        lab = yp >= 0
        common = dict(seed=seed, device=dev, verbose=False)
        neural = dict(common, encoder=cfg["encoder"])

        m = timed("supervised only", lambda: ss.fit_supervised(x[lab], yp[lab], epochs=cfg["sup_epochs"], **neural))
        if m is not None:
            semi["supervised only"].append(ss.evaluate(m, xt, yt, device=dev)["accuracy"])

        m = timed("fit_pseudo_label", lambda: fit_pseudo_label(
            x, yp, threshold=cfg["pl_threshold"], rounds=cfg["pl_rounds"], round_epochs=cfg["pl_round_epochs"],
            epochs=cfg["sup_epochs"], **neural))
        if m is not None:
            semi["fit_pseudo_label"].append(ss.evaluate(m, xt, yt, device=dev)["accuracy"])
        n_pseudo = m.history[-1]["pseudo_labelled"] if m is not None else None

        ys = np.concatenate([yp, np.full(len(xt), -1)])
        r = timed("label_spreading", lambda: label_spreading(
            scores, ys, n_neighbors=cfg["ls_neighbors"], alpha=cfg["ls_alpha"], max_iter=cfg["ls_max_iter"],
            device=dev))
        if r is not None:
            semi["label_spreading"].append(float((r.labels[len(x):] == yt).mean()))

        m = timed("fit_fixmatch", lambda: fit_fixmatch(
            x, yp, threshold=cfg["fm_threshold"], mu=cfg["fm_mu"], flip=True, epochs=cfg["fm_epochs"],
            batch_size=cfg["fm_batch"], **neural))
        if m is not None:
            semi["fit_fixmatch"].append(ss.evaluate(m, xt, yt, device=dev)["accuracy"])
        mask = m.history[-1]["mask_rate"] if m is not None else float("nan")

        names = list(clus)
        km = timed(names[0], lambda: k_means(x, 10, n_init=cfg["km_n_init"], seed=seed, device=dev))
        if km is not None:
            clus[names[0]].append((cluster_accuracy(y, km.labels), normalized_mutual_info_score(y, km.labels)))

        def ae_k_means():
            ae = fit_autoencoder(x, latent_dim=cfg["ae_latent"], kind="dense", epochs=cfg["ae_epochs"],
                                 batch_size=cfg["ae_batch"], **common)
            return k_means(encode(ae, x, device=dev), 10, n_init=cfg["km_n_init"], seed=seed, device=dev)
        km = timed(names[1], ae_k_means)
        if km is not None:
            clus[names[1]].append((cluster_accuracy(y, km.labels), normalized_mutual_info_score(y, km.labels)))

        print(f"replicate {rep + 1}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in semi.items() if v)
              + f"; pseudo-labelled {n_pseudo}; fixmatch last mask_rate {mask:.3f}; "
              + ", ".join(f"{k} acc {v[-1][0]:.4f} nmi {v[-1][1]:.4f}" for k, v in clus.items() if v), flush=True)

    print(f"\nSemi-supervised: Fashion-MNIST, {cfg['n_labels']} labels + {len(x) - cfg['n_labels']} unlabelled, "
          f"test accuracy on {len(xt)} images, mean ± sd over {cfg['replicates']} replicates")
    print(f"{'method':<22} {'test accuracy':<50} {'seconds/replicate':>8}")
    for name, accs in semi.items():
        if accs:
            print(f"{name:<22} {fmt(accs):<50} {np.mean(times[name]):8.0f}")
    print(f"\nUnsupervised: k-means (k=10, n_init={cfg['km_n_init']}) on the {len(x)} training images")
    print(f"{'features':<32} {'clustering accuracy':<44} {'NMI':<44} {'s/rep':>6}")
    for name, vals in clus.items():
        if vals:
            vals = np.asarray(vals)
            print(f"{name:<32} {fmt(vals[:, 0]):<44} {fmt(vals[:, 1]):<44} {np.mean(times[name]):6.0f}")


def summarise(paths):
    """Tables from the "replicate i:" lines of one or more logs (replicates run as separate processes)."""
    import re
    reps = {}
    for path in paths:
        for line in open(path):
            m = re.match(r"replicate (\d+): (.*)", line)
            if m:
                reps[int(m.group(1))] = m.group(2)
    semi, clus = {}, {}
    for _, text in sorted(reps.items()):
        for name, val in re.findall(r"(supervised only|fit_pseudo_label|label_spreading|fit_fixmatch) ([\d.]+)", text):
            semi.setdefault(name, []).append(float(val))
        for name, acc, nmi in re.findall(r"(k-means on [^,;]+?) acc ([\d.]+) nmi ([\d.]+)", text):
            clus.setdefault(name, []).append((float(acc), float(nmi)))
    print(f"replicates {sorted(reps)} from {', '.join(paths)}")
    print(f"{'method':<22} test accuracy, mean ± sd [replicates]")
    for name, accs in semi.items():
        print(f"{name:<22} {fmt(accs)}")
    print(f"{'features':<32} {'clustering accuracy':<44} NMI")
    for name, vals in clus.items():
        vals = np.asarray(vals)
        print(f"{name:<32} {fmt(vals[:, 0]):<44} {fmt(vals[:, 1])}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--only", type=int, help="run only this replicate (0-based), e.g. in parallel")
    parser.add_argument("--summarise", nargs="+", metavar="LOG", help="print the tables from these logs")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="override CONFIG entries")
    parser.add_argument("--methods", nargs="+", help="run only methods whose name contains one of these")
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        key, value = item.split("=", 1)
        if key not in CONFIG:
            parser.error(f"--set {key}: not a CONFIG entry ({', '.join(CONFIG)})")
        overrides[key] = type(CONFIG[key])(value)
    if args.summarise:
        summarise(args.summarise)
    else:
        main(args.quick, args.only, overrides, args.methods)
