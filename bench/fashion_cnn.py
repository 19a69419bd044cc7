"""Issue 2's check from Python; the twin of bench/fashion_cnn.R (same seed -> same numbers).

Usage: .venv/bin/python bench/fashion_cnn.py [seed]
"""
import sys
import time

import selfsup as ss

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
d = ss.load_dataset("fashion_mnist")
t0 = time.perf_counter()
m = ss.fit_supervised(d["train"]["x"], d["train"]["y"], epochs=10, batch_size=64, validation_split=0.2,
                      seed=seed, device="cpu")
secs = time.perf_counter() - t0
ev = ss.evaluate(m, d["test"]["x"], d["test"]["y"], device="cpu")
for row in m.history:
    print(row)
print(f"Python: seed {seed}, test loss {ev['loss']:.6f}, test accuracy {ev['accuracy']:.4f}, fit {secs:.0f} s")
