"""Data-parallel rotation pretraining on all 60,000 Fashion-MNIST images: wall time and the cost of
communication, on however many ranks torchrun starts (or one process without it).

    torchrun --standalone --nproc_per_node 4 bench/distributed.py --epochs 1 --out result.json
    python bench/distributed.py --epochs 1 --threads 2 --out result.json      # one process

Measures, on rank 0 (JSON to --out):
- fit_seconds: ssl_pretrain(task="rotation"), seminar CNN, the whole fit; steps and seconds per step.
- sync_ms: per training step, the time from DDP launching the gradient all-reduce until it is done
  (a timing comm hook around DDP's default one), median over the fit's steps: the communication
  cost as training pays it, waiting for the slowest rank included; sync_share = sync_ms / step time.
- allreduce_ms: one all-reduce of a tensor as large as the model's gradient on otherwise idle ranks
  (median of 30, after 5 warm-ups).
- batch_ms: making one global batch (task.batch: rotations, on every rank, redundant by design),
  median of 30.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.distributed as dist

import selfsup as ss
from selfsup import distributed
from selfsup.pretext import TASKS


def median_ms(fn, repeats: int = 30, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


SYNC_SECONDS: list[float] = []


def timed_allreduce(state, bucket):
    """DDP's default gradient hook (mean over ranks by all-reduce), timed from launch to done."""
    start = time.perf_counter()
    work = dist.all_reduce(bucket.buffer().div_(dist.get_world_size()), async_op=True)

    def done(fut):
        SYNC_SECONDS.append(time.perf_counter() - start)
        return fut.value()[0]
    return work.get_future().then(done)


def timed_wrap(net, device, world, _wrap=distributed.wrap):
    ddp = _wrap(net, device, world)
    if world.parallel:
        ddp.register_comm_hook(None, timed_allreduce)
    return ddp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process (default torch's)")
    parser.add_argument("--samples", type=int, default=None, help="the first n images only (a quick check)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    world = distributed.world()
    x = ss.load_dataset("fashion_mnist")["train"]["x"][:args.samples]            # (60000, 28, 28) uint8

    task = TASKS["rotation"]()
    xb = torch.from_numpy(x[:args.batch_size]).unsqueeze(1)
    gen = torch.Generator().manual_seed(0)
    batch_ms = median_ms(lambda: task.batch(xb, None, gen))

    distributed.wrap = timed_wrap          # the loop calls distributed.wrap: time DDP's all-reduce
    start = time.perf_counter()
    model = ss.ssl_pretrain(x, "rotation", epochs=args.epochs, batch_size=args.batch_size, seed=1, device="cpu",
                            verbose=False)
    fit_seconds = time.perf_counter() - start
    n_params = sum(p.numel() for p in model.net.parameters())
    steps = args.epochs * -(-len(x) // args.batch_size)

    allreduce_ms = None
    if world.parallel:
        grad = torch.zeros(n_params)
        allreduce_ms = median_ms(lambda: dist.all_reduce(grad))
    if world.main:
        step_ms = fit_seconds * 1000 / steps
        result = {"ranks": world.size, "threads_per_rank": torch.get_num_threads(), "samples": len(x),
                  "epochs": args.epochs, "batch_size": args.batch_size, "steps": steps,
                  "fit_seconds": round(fit_seconds, 1), "step_ms": round(step_ms, 1),
                  "batch_ms": round(batch_ms, 2), "params": n_params,
                  "sync_ms": round(statistics.median(SYNC_SECONDS) * 1000, 2) if SYNC_SECONDS else None,
                  "sync_share": round(statistics.median(SYNC_SECONDS) * 1000 / step_ms, 3) if SYNC_SECONDS else None,
                  "allreduce_ms": None if allreduce_ms is None else round(allreduce_ms, 2),
                  "last_epoch": model.history[-1]}
        print(json.dumps(result))
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
