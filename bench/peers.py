"""The peers of `make bench`: what a seminar participant would use instead of selfsup, run in the
peers' own Python ($SELFSUP_PEERS_VENV, default /work/peers-venv, or BENCH_PEERS_PYTHON; never a dependency
of selfsup).

keras 3 on the torch backend, written as the seminar writes it: the CNN as a keras.Sequential,
compile(adam, sparse categorical cross-entropy, accuracy), fit(batch_size=...). Same data as the
selfsup rows (bench.py hands them over in an .npz: images uint8 (n, 28, 28), labels, replicate draws).

Usage (bench.py calls it): python bench/peers.py CASE DATA.npz --epochs N [--threads T]
Prints one line: RESULT {"seconds": ..., "test_accuracy": ...}.
"""
from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402


def seminar_cnn(n_out: int = 10):
    """The seminar's CNN, as its keras code builds it."""
    import keras
    from keras import layers
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(64, 2, padding="same", activation="relu"), layers.MaxPooling2D(2), layers.Dropout(0.3),
        layers.Conv2D(32, 2, padding="same", activation="relu"), layers.MaxPooling2D(2), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(256, activation="relu"), layers.Dropout(0.5),
        layers.Dense(n_out, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def supervised(data, batch_size: int, epochs: int) -> dict:
    x = data["x"][..., None].astype("float32") / 255
    model = seminar_cnn()
    start = time.perf_counter()
    model.fit(x, data["y"], batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    xt = data["xt"][..., None].astype("float32") / 255
    accuracy = model.evaluate(xt, data["yt"], batch_size=1024, verbose=0)[1]
    return {"seconds": seconds, "test_accuracy": float(accuracy)}


def replicates(data, epochs: int) -> dict:
    """The seminar's step 3: one model per draw of 150 labels, batch 1, validation split 0.2."""
    x = data["x"][..., None].astype("float32") / 255
    draws = data["draws"]
    models = [seminar_cnn() for _ in draws]       # built before timing, as the selfsup rows do
    start = time.perf_counter()
    for model, idx in zip(models, draws):
        model.fit(x[idx], data["y"][idx], batch_size=1, epochs=epochs, validation_split=0.2, verbose=0)
    return {"seconds": time.perf_counter() - start, "test_accuracy": float("nan")}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("case")
    p.add_argument("data")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args(argv)
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    import keras
    keras.utils.set_random_seed(0)
    data = dict(np.load(args.data))
    if args.case.startswith("supervised"):
        out = supervised(data, int(args.case.split("_b")[1]), args.epochs)
    elif args.case == "replicates_b1":
        out = replicates(data, args.epochs)
    else:
        raise SystemExit(f"no peer for case {args.case}")
    out["peer"] = f"keras {keras.__version__} (torch {torch.__version__} backend)"
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
