"""One rank of the multi-process jobs that tests/test_distributed.py starts, and the fits they share.

    RANK=r WORLD_SIZE=w MASTER_ADDR=... MASTER_PORT=... python tests/distributed_job.py JOB OUT

Each `fit_*` function below is run twice with the same arguments: in one process by the test and
on W ranks by this script; rank 0 saves what it got to OUT/<fit>.npz (weights) and .json (history).
The other jobs exercise failures: a rank that crashes or hangs mid-run.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)          # as the tests run: the same kernels, so replicates match bit for bit

import selfsup as ss              # noqa: E402
from selfsup import distributed   # noqa: E402
from selfsup.loss_guard import TrainingDiverged  # noqa: E402
from selfsup.model import Model   # noqa: E402
from selfsup.nets import build_net  # noqa: E402
from selfsup.train import Classification, FitSettings, fit  # noqa: E402

COMMON = dict(device="cpu", verbose=False)


def digits():
    d = ss.load_dataset("digits")
    return d["train"]["x"], d["train"]["y"]


# ------------------------------------------------------------------- fits compared with one process
def fit_mlp():
    """fit_supervised on an MLP without dropout: 1425 digits, the last 142 held out, 3 epochs of
    batch 32; the last batch of each epoch has 3 samples, 2 on rank 0 and 1 on rank 1 (so the loss
    weights, 4/3 and 2/3, matter)."""
    x, y = digits()
    x, y = x[:1425].reshape(1425, -1), y[:1425]
    spec = {"encoder": {"name": "mlp", "input_shape": [64], "dropout": 0.0}, "head": {"name": "linear", "n_outputs": 10}}
    model = Model(build_net(spec, seed=3), classes=[str(i) for i in range(10)])
    ss.fit_supervised(x, y, model=model, epochs=3, batch_size=32, validation_split=0.1, seed=4, **COMMON)
    return model


def fit_rotation():
    """ssl_pretrain(task="rotation") with the seminar CNN (dropout) on the 1437 digits, 12 epochs."""
    x, _ = digits()
    return ss.ssl_pretrain(x, "rotation", epochs=12, batch_size=64, seed=5, **COMMON)


def fit_fixmatch():
    """fit_fixmatch, seminar CNN: 100 of 600 digits labelled, 2 unlabelled per labelled one, 3 epochs."""
    x, y = digits()
    y = np.where(np.arange(600) < 100, y[:600], -1)
    return ss.fit_fixmatch(x[:600], y, mu=2, threshold=0.5, epochs=3, batch_size=16, validation_split=0.1,
                           seed=9, **COMMON)


def fit_fixmatch_ema():
    """fit_fixmatch with pseudo-labels from the weights' moving average (each rank its rows of one target row
    per input row), seminar CNN: as fit_fixmatch."""
    x, y = digits()
    y = np.where(np.arange(600) < 100, y[:600], -1)
    return ss.fit_fixmatch(x[:600], y, mu=2, threshold=0.5, teacher="ema", ema=0.9, epochs=3, batch_size=16,
                           validation_split=0.1, seed=9, **COMMON)


def fit_autoencoder():
    """fit_autoencoder, dense, on 600 digits, 3 epochs."""
    return ss.fit_autoencoder(digits()[0][:600], epochs=3, batch_size=32, seed=10, **COMMON)


def fit_finetune():
    """ssl_finetune (a frozen phase, then all weights) of a 1-epoch rotation model on 300 digits."""
    x, y = digits()
    pretrained = ss.ssl_pretrain(x[:300], "rotation", epochs=1, batch_size=32, seed=11, **COMMON)
    return ss.ssl_finetune(pretrained, x[:300], y[:300], freeze_epochs=1, finetune_epochs=1, batch_size=32,
                           seed=12, **COMMON)


def fit_convnet():
    """Rotation pretraining of the "convnet" encoder (batch norm in every block), 600 digits, 2 epochs."""
    return ss.ssl_pretrain(digits()[0][:600], "rotation", encoder="convnet", epochs=2, batch_size=32, seed=13,
                           **COMMON)


def fit_replicates():
    """Five replicates (uneven over 2 ranks: 3 + 2) of the seminar CNN, each on its own 40 digits."""
    x, y = digits()
    first = ss.build_model(x.shape[1:], 10, seed=6)
    models = [first] + [ss.clone_model(first) for _ in range(4)]
    subsets = [ss.sample_indices(len(x), 40, seed=s) for s in range(5)]
    return ss.fit_replicates(models, x, y, subsets, seeds=[20, 21, 22, 23, 24], epochs=2, batch_size=8,
                             validation_split=0.2, **COMMON)


def fit_streamed(path: str | None = None):
    """Rotation pretraining streamed from a memory-mapped .npy through a 16 KiB device budget
    (250 digits a chunk, so 6 chunks an epoch); in memory when `path` is None."""
    x = digits()[0] if path is None else np.load(path, mmap_mode="r")
    return ss.ssl_pretrain(x, "rotation", epochs=2, batch_size=50, validation_split=0.1, seed=7,
                           device_budget=None if path is None else 16384, **COMMON)


def fit_every_task():
    """Each image pretext task for one epoch on 97 digits in batches of 32: the last has one sample
    (rank 1 trains a stand-in)."""
    x = np.kron(digits()[0][:97], np.ones((1, 3, 3), dtype=np.uint8))   # 24x24: room for a 3x3 grid of patches
    rgb = np.repeat(x[..., None], 3, axis=-1)
    out = {}
    for task in [t["name"] for t in ss.ssl_tasks() if t["modality"] in ("images", "RGB images", "general")]:
        out[task] = ss.ssl_pretrain(rgb if task == "colorization" else x, task, epochs=1, batch_size=32, seed=8,
                                    **COMMON)
    return out


FITS = {"mlp": fit_mlp, "rotation": fit_rotation, "fixmatch": fit_fixmatch, "fixmatch_ema": fit_fixmatch_ema,
        "autoencoder": fit_autoencoder,
        "finetune": fit_finetune, "convnet": fit_convnet, "replicates": fit_replicates}


def state(model) -> dict:
    """Weights and buffers (batch norm's running statistics) as numpy arrays."""
    return {k: v.detach().cpu().numpy() for k, v in model.net.state_dict().items()}


def save(model_or_models, out: Path, name: str) -> None:
    models = model_or_models if isinstance(model_or_models, list) else [model_or_models]
    arrays = {f"{i}/{k}": v for i, m in enumerate(models) for k, v in state(m).items()}
    np.savez(out / f"{name}.npz", **arrays)
    (out / f"{name}.json").write_text(json.dumps([m.history for m in models]))


# ------------------------------------------------------------------------------------ jobs
def job_fits(out: Path) -> None:
    """The fits compared with one process, then a batch size too small for the ranks."""
    world = distributed.world()
    results = {name: fit() for name, fit in FITS.items()}
    results["streamed"] = fit_streamed(str(out / "digits.npy"))
    results["in_memory"] = fit_streamed(None)
    try:
        ss.fit_supervised(digits()[0][:100], digits()[1][:100], epochs=1, batch_size=1, seed=1, **COMMON)
        small_batch = "no error"
    except ValueError as err:
        small_batch = str(err)
    tasks = {name: m.history for name, m in fit_every_task().items()}
    if world.main:
        for name, model in results.items():
            save(model, out, name)
        (out / "errors.json").write_text(json.dumps({"batch_size_1": small_batch}))
        (out / "tasks.json").write_text(json.dumps(tasks))


def job_crash(out: Path) -> None:
    """Rank 1 raises during its third epoch; rank 0 must stop with a clear message, not hang."""
    def crash():
        raise RuntimeError("rank 1 fails on purpose")
    _fail_on_rank_1(crash, out)


def job_hang(out: Path) -> None:
    """Rank 1 stops answering during its third epoch; rank 0 must time out with a clear message."""
    _fail_on_rank_1(lambda: time.sleep(120), out)


def _fail_on_rank_1(fail, out: Path) -> None:
    world = distributed.world()

    class Failing(Classification):
        calls = 0

        def batch(self, x, y, gen):
            Failing.calls += 1
            if world.rank == 1 and Failing.calls == 2 * 4 + 2:     # 4 steps an epoch: epoch 3, step 2
                (out / "rank1.json").write_text(json.dumps({"failed_at": time.time()}))
                fail()
            return super().batch(x, y, gen)

    rng = np.random.default_rng(0)                       # 256 random 8x8 "images" in 10 classes
    x, y = rng.integers(0, 256, (256, 8, 8), dtype=np.uint8), rng.integers(0, 10, 256)
    model = ss.build_model(x.shape[1:], 10, encoder="mlp", seed=1)
    try:
        fit(model.net, Failing(), x, y, FitSettings(epochs=5, device="cpu", verbose=False), model.history)
        message = "finished"
    except distributed.RankLost as err:
        message = str(err)
    if world.rank == 0:
        (out / "rank0.json").write_text(json.dumps({"message": message, "stopped_at": time.time()}))


def job_diverge(out: Path) -> None:
    """Only rank 1's data make the loss non-finite, in epoch 2, step 3 of 4; every rank must stop there
    with the same TrainingDiverged. Two ways, one fit each (the second starts once the first stopped):

    - "pixel": an inf pixel in row 1 of the global batch, rank 1's share (its NaN gradient reaches
      every rank's weights through DDP's all-reduce);
    - "loss": rank 1's loss value is inf while its gradient stays finite (the weights stay finite).

    Each rank writes OUT/rank<r>.json: {way: the message it stopped with, or "finished"}.
    """
    world = distributed.world()
    messages = {}
    for way in ("pixel", "loss"):
        class Breaking(Classification):
            calls = 0

            def batch(self, x, y, gen):
                Breaking.calls += 1
                inputs, targets = super().batch(x, y, gen)
                if way == "pixel" and Breaking.calls == 4 + 3:      # 4 steps an epoch: epoch 2, step 3
                    inputs = inputs.clone()
                    inputs[1, 0, 0] = float("inf")                 # row 1: rank 1's sample
                return inputs, targets

            def loss(self, outputs, targets):
                loss = super().loss(outputs, targets)
                if way == "loss" and world.rank == 1 and Breaking.calls == 4 + 3:
                    return loss + (float("inf") - loss.detach())   # value inf, gradient the loss's
                return loss

        rng = np.random.default_rng(0)                    # 256 random 8x8 float "images" in 10 classes
        x, y = rng.random((256, 8, 8), dtype=np.float32), rng.integers(0, 10, 256)
        model = ss.build_model(x.shape[1:], 10, encoder="mlp", seed=1)
        try:
            fit(model.net, Breaking(), x, y, FitSettings(epochs=3, device="cpu", verbose=False), model.history)
            messages[way] = "finished"
        except (TrainingDiverged, distributed.RankLost) as err:
            messages[way] = f"{type(err).__name__}: {err}"
        messages[f"{way}_epochs"] = len(model.history)
    (out / f"rank{world.rank}.json").write_text(json.dumps(messages))


JOBS = {"fits": job_fits, "crash": job_crash, "hang": job_hang, "diverge": job_diverge}

if __name__ == "__main__":
    JOBS[sys.argv[1]](Path(sys.argv[2]))
    os.sys.stdout.flush()
    if torch.distributed.is_initialized():
        # The job's results are written. Tearing gloo down after a fit that stopped mid-epoch (job
        # "diverge") killed a rank now and then with "terminate called without an active exception"
        # (SIGABRT), with both ranks' files complete: twice in CI clones on 2026-11-30, the second time
        # after a barrier like the CLI's. The ranks meet, then leave without C++ teardown.
        torch.distributed.barrier()
        os._exit(0)
