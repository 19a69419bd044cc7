"""Data-parallel training (torch.distributed, gloo on the CPU): 2 processes started here.

Each rank is started the way torchrun starts it (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
MASTER_PORT in its environment); the fits it runs are the functions of tests/distributed_job.py,
which this process runs too, alone, for comparison.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import distributed_job as job
import selfsup as ss
from selfsup import distributed
from selfsup.feed import Feed
from selfsup.pretext import TASKS
from selfsup.train import evaluate_task

HERE = Path(__file__).resolve().parent
JOB = HERE / "distributed_job.py"
# 2 ranks sum each gradient in another order (DDP's all-reduce of per-rank means, scaled) than one
# process does (one mean over the batch): float32 rounding differs in the last bits, and 3 epochs
# of Adam carry that to ~1e-6 in the weights. Measured: max |difference| 3e-7 (see the report).
MLP_TOLERANCE = 1e-5
CNN_TOLERANCE = 1e-4    # the same, through convolutions, max-pooling and dropout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(job_name: str, out: Path, ranks: int = 2, env: dict | None = None,
          only: range | None = None) -> list[subprocess.Popen]:
    """Start `job_name` on `ranks` processes as torchrun would (only the ranks in `only`, to leave some out)."""
    port = free_port()
    procs = []
    for rank in only if only is not None else range(ranks):
        rank_env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(ranks),
                    "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1",
                    **(env or {})}
        procs.append(subprocess.Popen([sys.executable, str(JOB), job_name, str(out)], env=rank_env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    return procs


class PortTaken(Exception):
    """Another process bound the rendezvous port between free_port() and rank 0's listen."""


def finish(procs: list[subprocess.Popen], timeout: float, rank0_decides: bool = False) -> list[str]:
    """Each rank's output once all have exited. `rank0_decides`: when rank 0 has, stop the others (as
    torchrun stops the ranks of a failed job). A job still running after `timeout` s fails the test."""
    outputs = []
    for i, proc in enumerate(procs):
        try:
            stdout, _ = proc.communicate(timeout=1 if i and rank0_decides else timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            if not (i and rank0_decides):
                raise AssertionError(f"still running after {timeout} s: it hangs\n" + proc.communicate()[0]) from None
            stdout, _ = proc.communicate()
        if i == 0 and "EADDRINUSE" in stdout:
            for p in procs:
                p.kill()
                p.communicate()
            raise PortTaken(stdout)
        outputs.append(stdout)
        assert rank0_decides or proc.returncode == 0, stdout
    return outputs


def run_job(job_name: str, out: Path, timeout: float, rank0_decides: bool = False, started: list | None = None,
            **kwargs) -> list[str]:
    """start() then finish(), on a new port when ours was taken meanwhile (other tests run in parallel).
    `started` collects each start's processes."""
    for _ in range(3):
        procs = start(job_name, out, **kwargs)
        if started is not None:
            started.append(procs)
        try:
            return finish(procs, timeout, rank0_decides)
        except PortTaken:
            continue
    raise AssertionError("the rendezvous port was taken 3 times in a row")


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    """(folder with the 2-rank results, the same fits in this process), made side by side."""
    out = tmp_path_factory.mktemp("fits")
    np.save(out / "digits.npy", job.digits()[0])
    procs = start("fits", out)
    alone = {name: fit() for name, fit in job.FITS.items()}
    alone["tasks"] = job.fit_every_task()
    try:
        finish(procs, timeout=300)
    except PortTaken:
        run_job("fits", out, timeout=300)
    return out, alone


def loaded(out: Path, name: str):
    with np.load(out / f"{name}.npz") as npz:
        weights = {k: npz[k] for k in npz.files}
    return weights, json.loads((out / f"{name}.json").read_text())


def as_saved(models) -> dict:
    models = models if isinstance(models, list) else [models]
    return {f"{i}/{k}": v for i, m in enumerate(models) for k, v in job.state(m).items()}


def close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def assert_histories_close(mine: list[dict], theirs: list[dict], tol: float) -> None:
    assert len(mine) == len(theirs)
    for row, other in zip(mine, theirs):
        assert row.keys() == other.keys()
        for key in row:
            assert close(row[key], other[key], tol), (key, row[key], other[key])


def test_two_ranks_train_the_one_process_mlp_to_float_tolerance(fits):
    """fit_supervised, MLP without dropout: same batches, same mean gradient, summed in another order."""
    out, models = fits
    alone = models["mlp"]
    weights, history = loaded(out, "mlp")
    diff = max(np.abs(weights[k] - v).max() for k, v in as_saved(alone).items())
    assert 0 < diff <= MLP_TOLERANCE        # not bit-identical (truly 2 ranks), but close
    assert_histories_close(history[0], alone.history, 1e-5)


@pytest.mark.parametrize("name", ["fixmatch", "fixmatch_ema", "autoencoder", "finetune", "convnet"])
def test_two_ranks_train_the_one_process_model_to_float_tolerance(fits, name):
    """Dropout masks and augmentations too are the ones one process draws (each rank takes its rows);
    batch norm (convnet) normalises with the whole global batch, and its running statistics agree."""
    out, models = fits
    alone = models[name]
    weights, history = loaded(out, name)
    diff = max(np.abs(weights[k] - v).max() for k, v in as_saved(alone).items())
    assert diff <= CNN_TOLERANCE, diff
    assert_histories_close(history[0], alone.history, 1e-4)


def test_two_ranks_reach_the_one_process_rotation_accuracy(fits):
    """ssl_pretrain(task="rotation"), seminar CNN with dropout, 12 epochs: the pretext accuracy on
    held-out digits, each at all four turns, is within 1 point of one process's."""
    out, models = fits
    alone = models["rotation"]
    weights, history = loaded(out, "rotation")
    two = ss.clone_model(alone)
    two.net.load_state_dict({k.split("/", 1)[1]: torch.from_numpy(v) for k, v in weights.items()})
    test = ss.load_dataset("digits")["test"]["x"]
    every_turn = TASKS["rotation"](all_rotations=True)
    acc = [evaluate_task(m.net, every_turn, test, None, seed=0, device=torch.device("cpu"))["accuracy"]
           for m in (alone, two)]
    assert acc[0] > 0.6                                  # it learnt something
    assert abs(acc[0] - acc[1]) <= 0.01, acc
    assert_histories_close(history[0], alone.history, 1e-3)


def test_every_image_task_trains_on_two_ranks_as_on_one(fits):
    """Each image pretext task, one epoch: the 2-rank losses and metrics are one process's (simclr's
    negatives come from both ranks; a rank with no sample in the last batch trains a stand-in)."""
    out, models = fits
    tasks = json.loads((out / "tasks.json").read_text())
    alone = models["tasks"]
    assert set(tasks) == set(alone)
    assert {"rotation", "simclr", "jigsaw", "inpainting", "colorization"} <= set(tasks)
    off = {}
    for name, model in alone.items():
        for key, value in model.history[-1].items():
            # mse_fill: a baseline metric, each rank's own batch mean (simclr's projection head's batch
            # norm uses the global batch's statistics: distributed.batch_norm)
            tol = 1e-2 if key == "mse_fill" else 1e-4
            if not close(tasks[name][-1][key], value, tol):
                off[f"{name}.{key}"] = (tasks[name][-1][key], value)
    assert not off


def test_replicates_over_two_ranks_are_bit_identical(fits):
    """Five replicates, 3 trained on rank 0 and 2 on rank 1, side by side: the models of one process."""
    out, models = fits
    alone = models["replicates"]
    weights, history = loaded(out, "replicates")
    mine = as_saved(alone)
    assert weights.keys() == mine.keys()
    for name, value in mine.items():
        np.testing.assert_array_equal(weights[name], value, err_msg=name)
    assert history == [m.history for m in alone]


def test_streamed_memory_map_gives_the_in_memory_model(fits, tmp_path):
    """A memory-mapped .npy through a 16 KiB device budget (6 chunks an epoch) = in memory, bit for
    bit: in one process here, and on 2 ranks in the job."""
    path = tmp_path / "digits.npy"
    np.save(path, job.digits()[0])
    streamed, in_memory = job.fit_streamed(str(path)), job.fit_streamed(None)
    assert streamed.history == in_memory.history
    assert as_saved(streamed).keys() == as_saved(in_memory).keys()
    for name, value in as_saved(in_memory).items():
        np.testing.assert_array_equal(as_saved(streamed)[name], value, err_msg=name)
    two_streamed, two_in_memory = loaded(fits[0], "streamed"), loaded(fits[0], "in_memory")
    assert two_streamed[1] == two_in_memory[1]
    for name, value in two_in_memory[0].items():
        np.testing.assert_array_equal(two_streamed[0][name], value, err_msg=name)


def test_streaming_fetches_chunks_within_the_budget():
    x = np.arange(10 * 4, dtype=np.uint8).reshape(10, 2, 2)
    feed = Feed(x, None, torch.device("cpu"), budget=3 * 4)      # 3 samples of 4 bytes a chunk
    assert not feed.resident and feed.chunk_rows() == 3
    perm = torch.tensor([3, 1, 4, 0, 9, 2, 6, 5, 8, 7])
    offsets = [0, 2, 4, 6, 8, 10]                                # batches of 2: chunks of one batch
    assert list(feed._chunks(offsets)) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    got = [xb for xb, _ in feed.batches(perm, offsets)]
    want = [Feed(x, None, torch.device("cpu")).x[perm[a:b]] for a, b in zip(offsets, offsets[1:])]
    for g, w in zip(got, want):
        assert torch.equal(g, w)


def test_batch_smaller_than_the_ranks_is_a_clear_error(fits):
    message = json.loads((fits[0] / "errors.json").read_text())["batch_size_1"]
    assert message.startswith("`batch_size` is 1 but 2 ranks share each batch: rank 1 would never train. Use "
                              "batch_size >= 2")


@pytest.mark.parametrize("how", ["crash", "hang"])
def test_a_failing_rank_stops_the_others_with_a_message(tmp_path, how):
    """Rank 1 raises (crash) or stops answering (hang) in epoch 3; rank 0 stops with a message
    saying so, right away or after the timeout (3 s here), and the job ends."""
    outputs = run_job(how, tmp_path, timeout=120, rank0_decides=True, env={"SELFSUP_DIST_TIMEOUT": "3"})
    report = json.loads((tmp_path / "rank0.json").read_text())
    failed_at = json.loads((tmp_path / "rank1.json").read_text())["failed_at"]
    assert report["message"].startswith("rank 0 of 2 lost contact with the other ranks while training (epoch 3, "
                                        "step 2 of 4): "), report
    assert "Another rank most likely failed (its own error is in its output) or hung for longer than the " \
           "timeout (3 s; SELFSUP_DIST_TIMEOUT)" in report["message"]
    waited = report["stopped_at"] - failed_at
    assert (0 <= waited < 30) if how == "crash" else (2.5 <= waited < 30), waited
    if how == "crash":
        assert "rank 1 fails on purpose" in outputs[1]


def test_missing_rendezvous_variables(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    with pytest.raises(RuntimeError, match="WORLD_SIZE is set, but MASTER_ADDR, MASTER_PORT are not: launch with "
                                           "torchrun"):
        distributed.world()


def test_a_rank_alone_at_the_rendezvous_gives_up_with_a_message(tmp_path):
    """Rank 0 of 2 started, rank 1 never: after the timeout (3 s) a clear error, not a hang."""
    procs = []
    output = run_job("fits", tmp_path, timeout=60, rank0_decides=True, env={"SELFSUP_DIST_TIMEOUT": "3"},
                     only=range(1), started=procs)[0]
    assert procs[-1][0].returncode != 0
    assert "rank 0 of 2 could not join the others at 127.0.0.1:" in output
    assert "Start all 2 ranks with the same MASTER_ADDR and MASTER_PORT" in output


def test_plan_shares_every_global_batch_the_same_way_for_any_number_of_ranks():
    """Ranks take positions r, r + W, ... of each global batch; the weights n_r * W / m average to 1
    over the ranks (so DDP's mean is the batch's mean); a rank without a sample gets a stand-in."""
    for size in (1, 2, 3, 8):
        plans = [distributed.plan(20, 8, distributed.World(r, size, True)) for r in range(size)]
        assert all(p.offsets == [0, 8, 16, 20] for p in plans)               # the same global batches
        for b, m in enumerate((8, 8, 4)):
            real = [p.shares[b].tolist() for p in plans if p.weights[b] > 0]
            assert sorted(i for share in real for i in share) == list(range(m))   # each sample once
            assert sum(p.weights[b] for p in plans) == pytest.approx(size)
    stand_in = distributed.plan(20, 8, distributed.World(5, 8, True))
    assert stand_in.shares[2].tolist() == [0] and stand_in.weights[2] == 0   # last batch of 4: ranks 4..7 idle
    assert distributed.plan(20, 8, distributed.SINGLE).shares == [None] * 3


def test_too_few_samples_for_the_ranks_is_a_clear_error():
    with pytest.raises(ValueError, match="there are 3 training samples for 4 ranks: every rank needs at least one"):
        distributed.plan(3, 64, distributed.World(0, 4, True))


def test_a_loss_that_breaks_on_one_rank_stops_every_rank_with_the_same_message(tmp_path):
    """Only rank 1's share of a batch makes the loss non-finite (an inf pixel; or an inf loss whose
    gradient stays finite, so no weight breaks): both ranks stop at the same epoch and batch with the
    same TrainingDiverged (one all-reduce of the epoch's losses), none waits for the other (5 s timeout)."""
    run_job("diverge", tmp_path, timeout=120, env={"SELFSUP_DIST_TIMEOUT": "5"})
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0] == ranks[1], ranks
    for way, value in (("pixel", "nan"), ("loss", "inf")):
        assert ranks[0][way].startswith(f"TrainingDiverged: Training diverged: the loss became {value} at epoch 2, "
                                        "batch 3 of 4. "), ranks[0][way]
        assert ranks[0][f"{way}_epochs"] == 1          # epoch 1's row only; the weights from before epoch 2
