"""Regenerate golden/*.json: expected outputs that pytest and testthat both check.

Run from the repository root: .venv/bin/python shared-data/make_golden.py
Only rerun it on purpose (a deliberate change of the numbers), and say why in the commit.
"""
import json
from pathlib import Path

import torch

import selfsup as ss

from constants import GOLDEN  # the shared constants (rows, epochs, seed, tolerances)

OUT = Path(__file__).resolve().parent / "golden"


def supervised_digits() -> dict:
    d = ss.load_dataset("digits")
    n, k = GOLDEN["n_train"], GOLDEN["n_test"]
    model = ss.fit_supervised(d["train"]["x"][:n], d["train"]["y"][:n], epochs=GOLDEN["epochs"],
                              batch_size=GOLDEN["batch_size"], validation_split=GOLDEN["validation_split"],
                              seed=GOLDEN["seed"], device="cpu", verbose=False)
    return {
        "settings": GOLDEN,
        "history": model.history,
        "evaluate": ss.evaluate(model, d["test"]["x"][:k], d["test"]["y"][:k], device="cpu"),
        "predict": ss.predict(model, d["test"]["x"][:k], device="cpu").tolist(),
        "output_bias": ss.get_weights(model)["output.bias"].tolist(),
    }


if __name__ == "__main__":
    torch.set_num_threads(1)  # as the tests run
    OUT.mkdir(exist_ok=True)
    (OUT / "supervised_digits.json").write_text(json.dumps(supervised_digits(), indent=1) + "\n")
    print("wrote", OUT / "supervised_digits.json")
