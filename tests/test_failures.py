"""Failures explained: training that blows up, out of memory, numbers that cannot be used."""
import gc
import warnings
import weakref

import numpy as np
import pytest
import torch

import selfsup as ss
from selfsup import feed, memory, train
from selfsup.loss_guard import TrainingDiverged

from conftest import DEVICE

FIT = dict(epochs=3, batch_size=32, seed=0, device=DEVICE, verbose=False)
CPU_OOM = ("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you "
           "tried to allocate 40140800000 bytes. Error code 12 (Cannot allocate memory)")
CUDA_OOM = ("CUDA out of memory. Tried to allocate 37.38 GiB. GPU 0 has a total capacity of 139.81 GiB of "
            "which 2.10 GiB is free.")


def finite(model) -> bool:
    return all(np.isfinite(w).all() for w in ss.get_weights(model).values())


# ------------------------------------------------------------------------ training that blows up
def test_a_nan_loss_stops_the_fit_and_keeps_the_last_finite_weights(small):
    x, y, _, _ = small
    model = ss.fit_supervised(x, y, **FIT)               # 3 good epochs
    before = ss.get_weights(model)
    with pytest.raises(TrainingDiverged, match=r"Training diverged: the loss became nan at epoch 4, batch \d+ of 7\. "
                                               r"Try a smaller `lr` \(it is 1e\+30; the default is 0\.001\)\."):
        ss.fit_supervised(x, y, model=model, lr=1e30, **FIT)
    assert len(model.history) == 3                       # no row for the epoch that broke
    after = ss.get_weights(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)   # as after epoch 3
    ss.fit_supervised(x, y, model=model, **FIT)          # and it trains on from there
    assert len(model.history) == 6 and finite(model)


def test_weights_that_break_on_the_last_step_are_caught_too(small):
    """One batch, one epoch: the loss was finite; the update after it is not."""
    x, y, _, _ = small
    model = ss.build_model(x.shape[1:], 10, seed=0)
    with pytest.raises(TrainingDiverged, match="the weights became NaN/Inf in epoch 1"):
        ss.fit_supervised(x[:32], y[:32], model=model, lr=1e39, epochs=1, batch_size=32, seed=0, device=DEVICE,
                          verbose=False)
    assert finite(model) and model.history == []


def test_side_by_side_names_the_model_that_diverged(small):
    x, y, _, _ = small
    nets = [ss.build_model(x.shape[1:], 10, seed=s).net for s in (0, 1)]
    with torch.no_grad():
        nets[1].head.output.bias[0] = float("inf")      # only the second model's loss breaks
    first = {k: v.clone() for k, v in nets[0].state_dict().items()}
    settings = ss.settings.fit_settings(1, 32, 0.0, 1e-3, 0, DEVICE, False)
    with pytest.raises(TrainingDiverged, match=r"batch 1 of 7 \(model 2 of 2 trained side by side\)"):
        train.fit_side_by_side(nets, train.Classification(), [x, x], [y, y], [0, 1], settings, [[], []])
    assert all(torch.equal(v, first[k]) for k, v in nets[0].state_dict().items())


def test_one_process_judges_its_losses_without_a_collective(small, monkeypatch):
    """Outside torchrun the guard sums nothing over ranks (data-parallel it all-reduces the epoch's losses)."""
    def collective(*args, **kwargs):
        raise AssertionError("a collective in one process")

    monkeypatch.setattr(torch.distributed, "all_reduce", collective)
    x, y, _, _ = small
    with pytest.raises(TrainingDiverged, match=r"Training diverged: the loss became nan at epoch 1, batch \d+ of 7"):
        ss.fit_supervised(x, y, lr=1e30, epochs=1, batch_size=32, seed=0, device=DEVICE, verbose=False)


def test_an_absurd_but_finite_loss_warns(small):
    x, y, _, _ = small
    with pytest.warns(RuntimeWarning, match=r"The loss grew from 2\.\d+ \(first batch\) to .* in epoch 1: training is "
                                            r"diverging\. Try a smaller `lr` \(it is 1e\+06"):
        ss.fit_supervised(x, y, lr=1e6, **FIT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # a healthy fit says nothing
        ss.fit_supervised(x, y, **FIT)


# ------------------------------------------------------------------------------ out of memory
def test_out_of_memory_in_a_batch_names_batch_size_and_a_size_that_fits(small, monkeypatch):
    x, y, _, _ = small

    def step(*args):
        raise RuntimeError(CPU_OOM)

    monkeypatch.setattr(train, "_step_forward", step)
    monkeypatch.setattr(memory, "free_bytes", lambda device: 10 * 10**9)
    # 64 * 10 GB / 40.1 GB / 2 = 7.97 -> 4
    with pytest.raises(MemoryError, match=r"^Out of memory on the CPU: a batch of `batch_size` = 64 needs 40\.1 GB "
                                          r"more than the 10 GB free\. Lower `batch_size`: about 4 should fit\.$"):
        ss.fit_supervised(x, y, epochs=1, batch_size=64, device=DEVICE, verbose=False)


def test_out_of_memory_frees_what_the_failing_step_held(small, monkeypatch):
    """Our error keeps torch's as its cause, but not the failed step's locals: the memory is back at once."""
    x, y, _, _ = small
    held = []

    def step(*args):
        big = torch.empty(1000)                           # stands for the step's activations
        held.append(weakref.ref(big))
        raise RuntimeError(CPU_OOM)

    monkeypatch.setattr(train, "_step_forward", step)
    with pytest.raises(MemoryError) as caught:
        ss.fit_supervised(x, y, epochs=1, batch_size=64, device=DEVICE, verbose=False)
    gc.collect()
    assert isinstance(caught.value.__cause__, RuntimeError)   # torch's text stays readable
    assert held and held[0]() is None                    # while the error is still alive


def test_data_too_big_for_the_device_names_x_and_how_many_samples_fit(small, monkeypatch):
    x, y, _, _ = small

    def to_device(x, device):
        raise torch.OutOfMemoryError(CUDA_OOM)

    monkeypatch.setattr(feed, "to_device", to_device)      # the training loop's data move
    monkeypatch.setattr(memory, "free_bytes", lambda device: 6400)   # 80% of it holds 80 of the 64-byte samples
    with pytest.raises(MemoryError, match=r"while moving the data there: `x` \(200 samples, 0\.0128 MB\) needs more "
                                          r"than the 0\.0064 MB free\. Use fewer samples \(about 80 should fit\)"):
        ss.fit_supervised(x, y, epochs=1, device=DEVICE, verbose=False)


def test_predict_out_of_memory_names_its_batch_size(small, monkeypatch):
    x, y, xt, _ = small
    model = ss.build_model(x.shape[1:], 10, seed=0)

    def forward(x):
        raise RuntimeError(CPU_OOM)

    monkeypatch.setattr(model.net, "forward", forward)
    monkeypatch.setattr(memory, "free_bytes", lambda device: 10**12)
    with pytest.raises(MemoryError, match=r"`batch_size` = 1024 needs 40\.1 GB more .* about 512 should fit"):
        ss.predict(model, xt, device=DEVICE)


def test_other_runtime_errors_pass_unchanged(small, monkeypatch):
    x, y, _, _ = small

    def step(*args):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(train, "_step_forward", step)
    with pytest.raises(RuntimeError, match="^mat1 and mat2 shapes cannot be multiplied$"):
        ss.fit_supervised(x, y, epochs=1, device=DEVICE, verbose=False)


@pytest.mark.parametrize("text, size", [(CPU_OOM, 40140800000), (CUDA_OOM, int(37.38 * 2**30)),
                                        ("Unable to allocate 2.00 MiB for an array", 2 * 2**20),
                                        ("CUDA error: out of memory", 0), ("shapes do not match", None)],
                         ids=["cpu", "cuda", "numpy", "no size", "not memory"])
def test_the_failed_allocation_is_read_from_torchs_text(text, size):
    assert memory.requested_bytes(RuntimeError(text)) == size


# ------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize("seed, message", [
    (float("nan"), "`seed` must be a whole number; got nan."),
    (float("inf"), "`seed` must be a whole number; got inf."),
    (2**64, "`seed` must be at most 18446744073709551615; got 18446744073709551616."),
    (10**400, "`seed` must be at most 18446744073709551615"),
    (-1, "`seed` must be at least 0; got -1."),
], ids=["nan", "inf", "2**64", "10**400", "-1"])
def test_unusable_seeds_are_named(seed, message, small):
    x, y, _, _ = small
    with pytest.raises((TypeError, ValueError), match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        ss.fit_supervised(x, y, epochs=1, seed=seed, device=DEVICE, verbose=False)


def test_the_largest_seed_torch_takes_is_accepted(small):
    x, y, _, _ = small
    ss.fit_supervised(x[:32], y[:32], epochs=1, seed=2**64 - 1, device=DEVICE, verbose=False)


def test_float64_too_large_for_float32_is_not_called_nan(small):
    x, y, _, _ = small
    big = x.astype(np.float64)
    big[0, 0, 0] = 1e300
    with pytest.raises(ValueError, match=r"`x` holds values too large for float32 \(largest magnitude 1e\+300; "
                                         r"float32 holds up to 3\.4e\+38\); rescale them first\."):
        ss.fit_supervised(big, y, epochs=1, device=DEVICE, verbose=False)
    big[0, 0, 1] = np.nan
    with pytest.raises(ValueError, match=r"`x` contains 1 NA/NaN/Inf value"):
        ss.fit_supervised(big, y, epochs=1, device=DEVICE, verbose=False)
    model = ss.build_model((8, 8), 10, seed=0)
    with pytest.raises(ValueError, match=r"`weights`\['output.bias'\] holds values too large for float32"):
        ss.set_weights(model, {"output.bias": np.full(10, 1e300)})
