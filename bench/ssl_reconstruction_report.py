"""Benchmarks of the reconstruction, text, video and audio pretext tasks (issue 3, part B).

1. masked_token on Jane Austen's novels (Debian's r-cran-janeaustenr): masked-word top-1
   accuracy on held-out text (the last `validation_split` of the rows) against always guessing
   the most frequent word.
2. Each image reconstruction task pretrained on unlabelled Fashion-MNIST training images
   (colorization: on 28x28 crops of scikit-learn's colour photos, since Fashion-MNIST has no
   colour), then ssl_evaluate(protocol="linear") on Fashion-MNIST test, against the same CNN
   encoder with its random initial weights (exactly the weights its pretraining started from),
   and three randomly initialised classifier encoders for the spread of random init.
3. future_frame on moving digits and restoration on audio-like signals: the pretext error
   against its trivial baseline (repeat the last frame; leave the stretch silent).

Sized for a shared, busy 2-core CPU (about 17 minutes); sizes are arguments. On a CPU shared by
several processes one torch thread each is much faster than the default (threads wait on each
other), hence OMP_NUM_THREADS=1:
    OMP_NUM_THREADS=1 nice python bench/ssl_reconstruction_report.py > /tmp/ssl_recon_report.log 2>&1
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from selfsup import demo_data as dd
from selfsup.data import load_dataset
from selfsup.model import Model, build_model
from selfsup.nets import build_net
from selfsup.pretext import TASKS
from selfsup.self_supervised import ssl_evaluate, ssl_pretrain

# (row label, task, options)
IMAGE_TASKS = (("inpainting", "inpainting", {}),
               ("inpainting (random blocks)", "inpainting", {"where": "random"}),
               ("masked_autoencoder", "masked_autoencoder", {}),
               ("autoencoder", "autoencoder", {}),
               ("denoising", "denoising", {}),
               ("superresolution", "superresolution", {}),
               ("colorization", "colorization", {}))


def table(rows: list[dict], columns: list[str]) -> str:
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    line = lambda r: "| " + " | ".join(str(r[c]).ljust(width[c]) for c in columns) + " |"  # noqa: E731
    return "\n".join([line({c: c for c in columns}), "|" + "|".join("-" * (width[c] + 2) for c in columns) + "|",
                      *map(line, rows)])


def untrained(x, task: str, options: dict, seed: int) -> Model:
    """The model ssl_pretrain(x, task, seed=seed) starts from: same spec, same initial weights."""
    pretext = TASKS[task](**options)
    x = pretext.check(x)
    spec = pretext.spec(x, "cnn")
    spec["pretext"] = {"name": task, "options": pretext.options, "data_shape": list(x.shape[1:])}
    return Model(build_net(spec, seed=seed), task=task)


def masked_token(args) -> None:
    start = time.perf_counter()
    texts = dd.austen_text()
    if args.texts:
        texts = texts[:args.texts]
    model = ssl_pretrain(texts, "masked_token", epochs=args.text_epochs, batch_size=64, lr=2e-3,
                         validation_split=0.1, seed=args.seed, device=args.device, verbose=False,
                         max_vocab=args.vocab, seq_len=32)
    last = model.history[-1]
    rows = [{"epoch": h["epoch"], "train accuracy": f"{h['accuracy']:.3f}",
             "held-out accuracy": f"{h['val_accuracy']:.3f}",
             "held-out most-frequent-word": f"{h['val_accuracy_most_frequent']:.3f}"} for h in model.history]
    vocab = model.spec["pretext"]["options"]["vocab"]
    print(f"\n## masked_token on Jane Austen ({len(texts)} paragraphs, vocabulary {len(vocab)} words, "
          f"most frequent: {vocab[3]!r}; {time.perf_counter() - start:.0f}s)\n")
    print(table(rows, list(rows[0])))
    print(f"\nheld-out masked-word top-1 accuracy {last['val_accuracy']:.3f} vs most-frequent-word baseline "
          f"{last['val_accuracy_most_frequent']:.3f}", flush=True)


def image_tasks(args) -> None:
    fm = load_dataset("fashion_mnist")
    x_pre = fm["train"]["x"][:args.pretrain]                              # unlabelled
    x_lab, y_lab = fm["train"]["x"][-args.labelled:], fm["train"]["y"][-args.labelled:]  # disjoint from x_pre
    rng = np.random.default_rng(args.seed)
    test = rng.choice(len(fm["test"]["x"]), size=args.test, replace=False)
    x_te, y_te = fm["test"]["x"][test], fm["test"]["y"][test]

    def probe(model):
        return ssl_evaluate(model, x_lab, y_lab, x_te, y_te, protocol="linear", device=args.device)["accuracy"]

    start = time.perf_counter()
    random_accs = [probe(build_model((28, 28), 10, seed=args.seed + k)) for k in range(3)]
    print(f"\n## linear probe on Fashion-MNIST ({args.labelled} labelled training images, {args.test} test "
          f"images); random-init CNN encoders (classifier init, seeds {args.seed}..{args.seed + 2}): "
          f"{', '.join(f'{a:.4f}' for a in random_accs)} ({time.perf_counter() - start:.0f}s)", flush=True)
    rows = []
    for label, task, options in IMAGE_TASKS:
        start = time.perf_counter()
        x = dd.photo_crops(args.pretrain, size=28, seed=args.seed) if task == "colorization" else x_pre
        model = ssl_pretrain(x, task, epochs=args.epochs, batch_size=64, seed=args.seed, device=args.device,
                             verbose=False, **options)
        h = model.history[-1]
        base = {k: v for k, v in h.items() if k.startswith("mse_")}
        acc = probe(model)
        random_acc = probe(untrained(x, task, options, args.seed))
        rows.append({"task": label, "pretrained on": "photo crops" if task == "colorization" else "Fashion-MNIST",
                     "pretext loss": f"{h['loss']:.4f}",
                     "pretext baseline": ", ".join(f"{k}={v:.4f}" for k, v in base.items()) or "-",
                     "linear acc": f"{acc:.4f}", "random init (its start)": f"{random_acc:.4f}",
                     "gain": f"{acc - random_acc:+.4f}", "seconds": f"{time.perf_counter() - start:.0f}"})
        print(f"{label}: {rows[-1]}", flush=True)
    print(f"\n## image tasks: pretrained on {args.pretrain} unlabelled images, {args.epochs} epochs\n")
    print(table(rows, list(rows[0])), flush=True)


def sequence_tasks(args) -> None:
    rows = []
    for task, x, error, baseline in (
            ("future_frame", dd.moving_digits(args.videos, frames=6, seed=args.seed), "loss", "mse_copy"),
            ("restoration", dd.audio_signals(args.signals, samples=256, seed=args.seed), "mse_gap", "mse_silence")):
        start = time.perf_counter()
        model = ssl_pretrain(x, task, epochs=args.seq_epochs, seed=args.seed, device=args.device, verbose=False,
                             validation_split=0.2)
        h = model.history[-1]
        rows.append({"task": task, "data": f"{x.shape}", "held-out error": f"{error}={h['val_' + error]:.4f}",
                     "baseline": f"{baseline}={h['val_' + baseline]:.4f}",
                     "seconds": f"{time.perf_counter() - start:.0f}"})
    print(f"\n## video and audio pretext tasks ({args.seq_epochs} epochs; held-out 20%)\n")
    print(table(rows, list(rows[0])), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pretrain", type=int, default=3000, help="unlabelled images per image task")
    p.add_argument("--epochs", type=int, default=3, help="pretraining epochs of the image tasks")
    p.add_argument("--seq-epochs", type=int, default=8, help="pretraining epochs of future_frame/restoration")
    p.add_argument("--videos", type=int, default=3000, help="moving-digits sequences for future_frame")
    p.add_argument("--signals", type=int, default=10000, help="signals for restoration")
    p.add_argument("--labelled", type=int, default=2000, help="labelled images for the linear probe")
    p.add_argument("--test", type=int, default=5000, help="Fashion-MNIST test images (a random subsample)")
    p.add_argument("--texts", type=int, default=0, help="Austen paragraphs (0: all)")
    p.add_argument("--text-epochs", type=int, default=2)
    p.add_argument("--vocab", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--only", choices=("text", "images", "sequences"), default=None)
    args = p.parse_args()
    start = time.perf_counter()
    if args.only in (None, "text"):
        masked_token(args)
    if args.only in (None, "images"):
        image_tasks(args)
    if args.only in (None, "sequences"):
        sequence_tasks(args)
    print(f"\ntotal {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
