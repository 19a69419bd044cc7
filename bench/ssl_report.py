"""Self-supervised learning on Fashion-MNIST: the seminar protocol and a linear-probe table.

Part "protocol" (the seminar's R Code section, on Fashion-MNIST instead of MNIST):
  rotation pretext on the 60,000 unlabelled training images; then, for each replicate, a fresh
  random draw of `--labels` labelled training images; `fit_supervised()` from scratch versus
  `ssl_finetune()` of the rotation-pretrained encoder, with the same number of epochs in total;
  test accuracy on the 10,000 test images; median and spread over the replicates.
Part "probe": every image pretext task registered, pretrained on the first `--probe-pretrain`
  training images for `--probe-epochs` epochs, then `ssl_evaluate(protocol="linear")` (logistic
  regression on frozen features; trained on `--probe-train` random training images, tested on
  the first `--probe-test-n` test images) against a randomly initialised encoder of the same
  shape (same spec, built with another seed, never trained).

Run:  OMP_NUM_THREADS=1 nice python bench/ssl_report.py [--part protocol|probe|all] > /tmp/ssl_report.log 2>&1
The defaults are sized for a small shared CPU (protocol ~19 min, probe ~19 min with 2 cores shared
by several jobs; one torch thread per job avoids thread oversubscription); on a GPU raise them
(e.g. --pretrain-epochs 10 --probe-pretrain 60000 --probe-epochs 10 --probe-test-n 10000).
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import selfsup as ss
from selfsup.model import Model
from selfsup.nets import build_net
from selfsup.self_supervised import ssl_evaluate, ssl_finetune, ssl_pretrain, ssl_tasks
from selfsup.supervised import evaluate, fit_supervised

IMAGE_MODALITIES = ("images", "RGB images", "general")


def stamp(t0: float) -> str:
    return f"[{time.time() - t0:7.1f}s]"


def summary(values) -> str:
    a = np.asarray(values)
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return f"median {med:.4f}  IQR {q1:.4f}-{q3:.4f}  min {a.min():.4f}  max {a.max():.4f}  mean {a.mean():.4f}"


def protocol(data, args, t0):
    xtr, ytr = data["train"]["x"], data["train"]["y"]
    xte, yte = data["test"]["x"][:args.test_n], data["test"]["y"][:args.test_n]
    x_pre = xtr[:args.pretrain_n]
    print(f"== protocol: rotation pretext on {len(x_pre)} images, {args.pretrain_epochs} epoch(s), "
          f"batch {args.pretrain_batch}; device {ss.resolve_device(args.device)}", flush=True)
    pre = ssl_pretrain(x_pre, "rotation", epochs=args.pretrain_epochs, batch_size=args.pretrain_batch, seed=0,
                       device=args.device, verbose=False)
    print(f"{stamp(t0)} pretext history: {pre.history}", flush=True)
    total = args.freeze_epochs + args.finetune_epochs
    print(f"downstream: {args.labels} labelled images per replicate, batch {args.batch}; scratch {total} epochs; "
          f"finetune {args.freeze_epochs} frozen + {args.finetune_epochs} unfrozen", flush=True)
    scratch, pretrained = [], []
    print(f"{'rep':>3} {'scratch':>8} {'rotation':>8}", flush=True)
    for r in range(args.replicates):
        idx = np.random.default_rng(1000 + r).choice(len(xtr), args.labels, replace=False)
        m0 = fit_supervised(xtr[idx], ytr[idx], classes=10, epochs=total, batch_size=args.batch, seed=r,
                            device=args.device, verbose=False)
        m1 = ssl_finetune(pre, xtr[idx], ytr[idx], classes=10, freeze_epochs=args.freeze_epochs,
                          finetune_epochs=args.finetune_epochs, batch_size=args.batch, seed=r,
                          device=args.device, verbose=False)
        scratch.append(evaluate(m0, xte, yte, device=args.device)["accuracy"])
        pretrained.append(evaluate(m1, xte, yte, device=args.device)["accuracy"])
        print(f"{r + 1:>3} {scratch[-1]:8.4f} {pretrained[-1]:8.4f}   {stamp(t0)}", flush=True)
    print(f"\nTest accuracy over {args.replicates} replicates ({args.labels} labels each):")
    print(f"  from scratch        : {summary(scratch)}")
    print(f"  rotation + finetune : {summary(pretrained)}")
    wins = int(np.sum(np.array(pretrained) > np.array(scratch)))
    print(f"  pretrained better in {wins}/{args.replicates} paired replicates; "
          f"median difference {np.median(np.array(pretrained) - np.array(scratch)):+.4f}\n", flush=True)


def probe(data, args, t0):
    xtr, ytr = data["train"]["x"], data["train"]["y"]
    xte, yte = data["test"]["x"][:args.probe_test_n], data["test"]["y"][:args.probe_test_n]
    x_pre = xtr[:args.probe_pretrain]
    idx = np.random.default_rng(7).choice(len(xtr), args.probe_train, replace=False)
    tasks = [t["name"] for t in ssl_tasks() if t["modality"] in IMAGE_MODALITIES]
    if args.tasks:
        tasks = [t for t in args.tasks.split(",")]
    print(f"== probe: tasks {tasks}\npretext on the first {len(x_pre)} training images, {args.probe_epochs} epoch(s); "
          f"linear probe (LogisticRegression on standardised frozen features) trained on {len(idx)} random "
          f"training images, tested on {len(xte)} test images", flush=True)
    rows = []
    for task in tasks:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = ssl_pretrain(x_pre, task, epochs=args.probe_epochs, batch_size=args.probe_batch, seed=0,
                                     device=args.device, verbose=False)
        except (ValueError, TypeError) as err:
            print(f"{task}: not run: {err}", flush=True)
            rows.append((task, None, None, None, str(err)))
            continue
        random_init = Model(build_net(model.spec, seed=12345), task=model.task)
        got = ssl_evaluate(model, xtr[idx], ytr[idx], xte, yte, protocol="linear", device=args.device)
        base = ssl_evaluate(random_init, xtr[idx], ytr[idx], xte, yte, protocol="linear", device=args.device)
        last = {k: round(v, 4) for k, v in model.history[-1].items() if k != "epoch"}
        rows.append((task, got["accuracy"], base["accuracy"], got["n_features"], f"pretext {last}"))
        print(f"{stamp(t0)} {task}: linear {got['accuracy']:.4f} vs random init {base['accuracy']:.4f} "
              f"({got['n_features']} features); {last}", flush=True)
    print(f"\n{'task':<20} {'pretrained':>10} {'random':>8} {'diff':>7} {'features':>8}  note")
    for task, acc, base, nf, note in rows:
        if acc is None:
            print(f"{task:<20} {'-':>10} {'-':>8} {'-':>7} {'-':>8}  not run: {note}")
        else:
            print(f"{task:<20} {acc:10.4f} {base:8.4f} {acc - base:+7.4f} {nf:8d}  {note}")
    print(flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=("protocol", "probe", "all"), default="all")
    p.add_argument("--device", default="auto")
    p.add_argument("--replicates", type=int, default=5)
    p.add_argument("--labels", type=int, default=150)
    p.add_argument("--pretrain-n", type=int, default=60000, help="unlabelled images for the protocol's pretext")
    p.add_argument("--test-n", type=int, default=10000, help="test images used")
    p.add_argument("--pretrain-epochs", type=int, default=1)
    p.add_argument("--pretrain-batch", type=int, default=128)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--freeze-epochs", type=int, default=10)
    p.add_argument("--finetune-epochs", type=int, default=20)
    p.add_argument("--probe-pretrain", type=int, default=5000, help="unlabelled images for each probe pretext")
    p.add_argument("--probe-epochs", type=int, default=2)
    p.add_argument("--probe-batch", type=int, default=64)
    p.add_argument("--probe-train", type=int, default=2000, help="labelled training images for the linear probe")
    p.add_argument("--probe-test-n", type=int, default=5000, help="test images for the probe (the first ones)")
    p.add_argument("--tasks", default="", help="comma-separated tasks for the probe (default: every image task)")
    args = p.parse_args()
    data = ss.load_dataset("fashion_mnist")
    t0 = time.time()
    print(f"selfsup {ss.__version__}; {vars(args)}", flush=True)
    if args.part in ("protocol", "all"):
        protocol(data, args, t0)
    if args.part in ("probe", "all"):
        probe(data, args, t0)
    print(f"done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
