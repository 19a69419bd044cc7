"""fit_replicates(exact=False) goes through the same epoch machinery as every other fit (epoch.Epoch):
progress through the reporter (R's message() from R), the stop at a NaN/Inf loss, Ctrl-C's partial
row, the out-of-memory message; and weight decay spares the stacked biases."""
import numpy as np
import pytest
import torch

import selfsup as ss
from selfsup import grouped, memory, progress
from selfsup.loss_guard import TrainingDiverged
from selfsup.settings import fit_settings

from conftest import DEVICE
from test_failures import CPU_OOM
from test_replicates import fresh

FAST = dict(epochs=2, batch_size=8, seeds=[1, 2, 3], exact=False, device=DEVICE)


@pytest.fixture
def draws(digits):
    x, y = digits["train"]["x"], digits["train"]["y"]
    return x, y, [ss.sample_indices(len(x), 32, seed=s) for s in range(3)]


class Recorder(progress.Silent):
    """Remembers what a loop reports; presses Ctrl-C at batch `at` of epoch 2 when asked."""

    def __init__(self, ctrl_c_at=None):
        self.calls, self.ctrl_c_at, self.epoch, self.batch = [], ctrl_c_at, 0, 0

    def start(self, total, desc, unit="batch"):
        self.calls.append(("start", desc, total))
        self.epoch, self.batch = self.epoch + 1, 0

    def update(self, n=1):
        self.batch += n
        if self.epoch == 2 and self.batch == self.ctrl_c_at:
            raise KeyboardInterrupt

    def epoch_end(self, desc, row, seconds):
        self.calls.append(("line", progress.format_line(desc, row, seconds, width=200)))


def test_progress_goes_through_the_reporter(draws):
    x, y, subsets = draws
    rec = Recorder()
    with progress.installed(lambda: rec):
        ss.fit_replicates(fresh(x, 3), x, y, subsets, verbose=True, **FAST)
    assert [c[:2] for c in rec.calls if c[0] == "start"] == [
        ("start", "Epoch 1/2 (3 models as one grouped network)"), ("start", "Epoch 2/2 (3 models as one grouped network)")]
    lines = [c[1] for c in rec.calls if c[0] == "line"]
    assert len(lines) == 2 and all(" - loss: " in line and " - accuracy: " in line for line in lines)


def test_verbose_false_reports_nothing(draws):
    x, y, subsets = draws
    rec = Recorder()
    with progress.installed(lambda: rec):
        ss.fit_replicates(fresh(x, 3), x, y, subsets, verbose=False, **FAST)
    assert rec.calls == []


def test_a_nan_loss_stops_and_leaves_the_last_finite_weights(draws):
    x, y, subsets = draws
    models = fresh(x, 3)
    ss.fit_replicates(models, x, y, subsets, verbose=False, **FAST)
    before = [ss.get_weights(m) for m in models]
    with pytest.raises(TrainingDiverged, match=r"the loss became nan at epoch 3, batch \d+ of 4 \(model \d of 3 "
                                               r"trained side by side\)\. Try a smaller `lr` \(it is 1e\+30"):
        ss.fit_replicates(models, x, y, subsets, lr=1e30, verbose=False, **FAST)
    for model, want in zip(models, before):
        assert len(model.history) == 2
        got = ss.get_weights(model)
        assert all(np.array_equal(got[k], want[k]) for k in want)


def test_ctrl_c_keeps_the_partial_epoch(draws):
    x, y, subsets = draws
    models = fresh(x, 3)
    with progress.installed(lambda: Recorder(ctrl_c_at=3)), pytest.raises(KeyboardInterrupt):
        ss.fit_replicates(models, x, y, subsets, verbose=True, **dict(FAST, epochs=4))
    for model in models:
        assert [row["epoch"] for row in model.history] == [1, 2]
        assert model.history[1]["partial"] == pytest.approx(3 / 4)
        assert np.isfinite(model.history[1]["loss"]) and 0 <= model.history[1]["accuracy"] <= 1
    assert not np.array_equal(ss.get_weights(models[0])["output.bias"], ss.get_weights(models[1])["output.bias"])
    assert "(the last one interrupted after 75% of its batches)" in repr(models[0])


def test_out_of_memory_names_batch_size(draws, monkeypatch):
    x, y, subsets = draws

    def forward(self, x):
        raise RuntimeError(CPU_OOM)

    monkeypatch.setattr(grouped.Grouped, "forward", forward)
    monkeypatch.setattr(memory, "free_bytes", lambda device: 100 * 10**9)   # 8 * 100 / 40.1 / 2 = 9.97 -> 8, <= 8 / 2
    with pytest.raises(MemoryError, match=r"^Out of memory on the CPU: a batch of `batch_size` = 8 needs 40\.1 GB "
                                          r"more than the 100 GB free\. Lower `batch_size`: about 4 should fit\.$"):
        ss.fit_replicates(fresh(x, 3), x, y, subsets, verbose=False, **FAST)


@pytest.mark.parametrize("encoder", ["cnn", "mlp"])
def test_weight_decay_spares_the_stacked_biases(draws, encoder, monkeypatch):
    """The stacked biases are (R, out): 2 dimensions like a kernel, yet not decayed."""
    x, y, subsets = draws
    x = x.reshape(len(x), -1) if encoder == "mlp" else x
    groups = []

    class Adam(torch.optim.Adam):   # remembers the parameter groups the fit asks for
        def __init__(self, params, **kwargs):
            params = list(params)
            groups.extend(params)
            super().__init__(params, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", Adam)
    nets = [m.net for m in fresh(x, 3, encoder=encoder)]
    settings = fit_settings(1, 8, 0.0, 1e-3, 0, DEVICE, False)
    settings.weight_decay = 5e-4
    grouped.fit_grouped(nets, [x[s] for s in subsets], [y[s] for s in subsets], [1, 2, 3], settings, [[], [], []])
    decayed, spared = groups
    assert decayed["weight_decay"] == 5e-4 and spared["weight_decay"] == 0.0
    n_layers = len([n for n, _ in nets[0].named_parameters() if n.endswith(".bias")])
    assert [p.shape for p in spared["params"]] == [(3, b.shape[0]) for n, b in nets[0].named_parameters()
                                                   if n.endswith(".bias")]
    assert len(decayed["params"]) == n_layers and all(p.ndim >= 3 for p in decayed["params"])
