"""Measure the thread rule of selfsup.cpu: one training step (forward, backward, Adam) on 1 thread vs
on torch's threads, over batch sizes and networks; the rule is a threshold on the FLOPs of one step.

Each (network, batch) runs both thread counts in turn, `--repeats` rounds of `--steps` steps, and
reports the median wall time per step and t(1 thread) / t(all threads). selfsup.cpu.ONE_THREAD_BELOW
is chosen below the smallest work where the ratio passes 1.1 on the whole table.

Usage: flock -x /work/quiet.lock .venv/bin/python bench/threads.py [--threads 2] [--repeats 5]
       .venv/bin/python bench/threads.py --probe 150,1000,10000   # the linear probe's BLAS threads

Measured on the project's 2-core machine (AMD EPYC, torch 2.14.1), idle (load 1.1; 2026-11-30,
`bench/threads.py --threads 2 --repeats 3`): t1 / t2, median of 3 rounds
  seminar CNN 28x28  batch 1: 1.05  4: 0.80  16: 0.96  32: 1.13  64: 1.33  128: 1.53  256: 1.58
  seminar CNN 8x8    batch 1..64: 0.77-0.98  128: 1.02  256 (92 MFLOP): 1.12
  MLP 784-256        batch 1: 0.49  64: 0.69  128: 0.91  256 (103 MFLOP): 1.11
so selfsup.cpu.ONE_THREAD_BELOW is 0.1 GFLOP per step. The same machine shared with other jobs (load
11-12) gave a second thread no gain anywhere up to 4.5 GFLOP (seminar CNN batch 64: 0.16): there one
thread (`set_threads(1)`) is the faster choice.

`--probe 150,1000` (same machine, idle, 2026-11-30): the linear probe's BLAS on 1 thread vs 2, seconds
  150 x 3,136: 3.5 vs 16.5 (t2 / t1 4.72)    1,000 x 3,136: 10.6 vs 28.9 (2.73)
so selfsup.cpu.blas_threads gives the probe one BLAS thread unless the user fixed a count.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import selfsup as ss
from selfsup import cpu
from selfsup.train import _dropout_stream

NETS = {  # name -> (input shape of one sample as users give it, encoder)
    "seminar CNN 28x28": ((28, 28), "cnn"),
    "seminar CNN 8x8": ((8, 8), "cnn"),
    "MLP 784-256": ((784,), "mlp"),
}
BATCHES = (1, 4, 16, 32, 64, 128, 256)


def step_time(net, opt, x, y, steps: int) -> float:
    start = time.perf_counter()
    for i in range(steps):
        xb, yb = x[i % 4], y[i % 4]
        loss = F.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return (time.perf_counter() - start) / steps


def measure(name: str, batch: int, threads: int, steps: int, repeats: int) -> dict:
    shape, encoder = NETS[name]
    model = ss.build_model(shape, 10, encoder=encoder, seed=0)
    net = model.net
    sample_shape = ss.nets.channels_first(shape) if len(shape) > 1 else shape
    x = [torch.rand(batch, *sample_shape) for _ in range(4)]
    y = [torch.randint(0, 10, (batch,)) for _ in range(4)]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
    flops = cpu.step_flops(net, batch)
    times = {1: [], threads: []}
    with _dropout_stream(net, torch.Generator().manual_seed(0)):
        net.train()
        for n in times:  # warm-up
            torch.set_num_threads(n)
            step_time(net, opt, x, y, 3)
        for _ in range(repeats):
            for n in times:
                torch.set_num_threads(n)
                times[n].append(step_time(net, opt, x, y, steps))
    t1, tn = statistics.median(times[1]), statistics.median(times[threads])
    return {"net": name, "batch": batch, "flops": flops, "t1_ms": t1 * 1e3, "tn_ms": tn * 1e3, "ratio": t1 / tn,
            "spread": (min(times[1]) / max(times[threads]), max(times[1]) / min(times[threads]))}


def probe_times(sizes: list[int], threads: int) -> None:
    """The linear probe as ssl_evaluate runs it (standardised features, C tuned by 5-fold CV) on the pool2
    features (3,136) of a random convnet, first `n` Fashion-MNIST training images: BLAS on 1 thread vs
    `threads` (set through set_threads, which cpu.blas_threads obeys). One run each: minutes at 10,000."""
    from selfsup.self_supervised import linear_probe
    data = ss.load_dataset("fashion_mnist")["train"]
    model = ss.build_model((28, 28), 10, encoder="convnet", seed=0)
    print(f"\n| linear probe, samples x features | s, BLAS 1 thread | s, BLAS {threads} threads | t{threads} / t1 |")
    print("|---|---:|---:|---:|")
    for n in sizes:
        f, y, seconds = ss.ssl_embed(model, data["x"][:n]), data["y"][:n], {}
        for k in (1, threads):
            before = ss.set_threads(k)
            try:
                start = time.perf_counter()
                linear_probe(f, y)
                seconds[k] = time.perf_counter() - start
            finally:
                ss.set_threads(before)
        print(f"| {n:,} x {f.shape[1]:,} | {seconds[1]:.1f} | {seconds[threads]:.1f} | "
              f"{seconds[threads] / seconds[1]:.2f} |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--budget", type=float, default=0.3, help="seconds per (net, batch, threads) round")
    p.add_argument("--probe", default="", help="comma-separated sample counts: time the linear probe's BLAS "
                   "threads instead (cpu.blas_threads), e.g. 150,1000,10000")
    args = p.parse_args(argv)
    if args.probe:
        return probe_times([int(n) for n in args.probe.split(",")], args.threads)
    cpu.keep_freed_memory()
    print(f"torch {torch.__version__}; 1 thread vs {args.threads}; median of {args.repeats} rounds\n")
    print("| network | batch | MFLOP/step (fwd) | ms/step 1 thread | ms/step %d threads | t1 / t%d (range) |"
          % (args.threads, args.threads))
    print("|---|---:|---:|---:|---:|---:|")
    for name in NETS:
        for batch in BATCHES:
            torch.set_num_threads(1)
            probe = measure(name, batch, 1, 3, 1)   # sizes the rounds to about --budget seconds
            steps = max(3, int(args.budget / max(probe["t1_ms"] / 1e3, 1e-4)))
            r = measure(name, batch, args.threads, steps, args.repeats)
            print(f"| {name} | {batch} | {r['flops'] / 1e6:,.1f} | {r['t1_ms']:.2f} | {r['tn_ms']:.2f} | "
                  f"{r['ratio']:.2f} ({r['spread'][0]:.2f}-{r['spread'][1]:.2f}) |", flush=True)


if __name__ == "__main__":
    main()
