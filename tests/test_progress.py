"""Progress: one summary line per epoch with every metric, a bar that never hides it, progress for
tabular RL, rank 0 alone reports, and Ctrl-C leaves a usable model whose history says how far it got."""
import numpy as np
import pytest

import selfsup as ss
from selfsup import progress

FIT = dict(epochs=2, batch_size=32, validation_split=0.2, seed=1, device="cpu")


def test_format_line_wraps_between_metrics_and_keeps_each_whole():
    row = {"epoch": 3, "loss": 1.99651, "accuracy": 0.421, "val_loss": 1.812, "val_accuracy": 0.45}
    text = progress.format_line("Epoch 3/10", row, 6.93, width=60)
    lines = text.split("\n")
    assert len(lines) == 2 and all(len(line) <= 60 for line in lines)
    for part in ("Epoch 3/10", "6.9s", "loss: 1.9965", "accuracy: 0.4210", "val_loss: 1.8120", "val_accuracy: 0.4500"):
        assert sum(part in line for line in lines) == 1, part
    assert "epoch:" not in text


def test_fit_prints_one_line_per_epoch_with_every_metric(small, capsys, monkeypatch):
    monkeypatch.setattr(progress, "_width", lambda: 80)
    x, y, _, _ = small
    ss.fit_supervised(x, y, verbose=True, **FIT)
    out = capsys.readouterr()
    epochs = [line for line in out.out.splitlines() if line.startswith("Epoch ")]
    assert [line.split(" - ")[0] for line in epochs] == ["Epoch 1/2", "Epoch 2/2"]
    for metric in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert out.out.count(f" {metric}: ") == 2, metric
    assert max(len(line) for line in out.out.splitlines()) <= 80
    assert out.err == ""  # no bar where it cannot be redrawn in place (pytest captures: not a terminal)


def test_no_bar_in_a_zero_width_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda fallback=(80, 24): type(
        "S", (), {"columns": 0, "lines": 0})())
    assert not progress._console_has_room()


def test_tabular_rl_reports_every_tenth_of_the_episodes(capsys):
    ss.rl_q_learning("FrozenLake-v1", episodes=200, seed=1, verbose=True)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Episodes")]
    assert [line.split(" - ")[0] for line in lines] == [f"Episodes {k}/200" for k in range(20, 201, 20)]
    assert all("mean_return: " in line and "epsilon: " in line for line in lines)
    ss.rl_monte_carlo("Blackjack-v1", episodes=30, seed=1, verbose=False)
    assert capsys.readouterr().out == ""


def test_only_rank_0_reports(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    assert type(progress.reporter(True)) is progress.Silent
    monkeypatch.setenv("RANK", "0")
    assert type(progress.reporter(True)) is progress.Console


class _CtrlC(progress.Silent):
    """A reporter that presses Ctrl-C at the `at`-th batch of the second epoch."""

    def __init__(self, at):
        self.at, self.epoch, self.batch = at, 0, 0

    def start(self, total, desc, unit="batch"):
        self.epoch, self.batch = self.epoch + 1, 0

    def update(self, n=1):
        self.batch += n
        if self.epoch == 2 and self.batch == self.at:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_the_partial_epoch_and_a_usable_model(small):
    x, y, xt, _ = small
    model = ss.build_model((8, 8), 10, seed=1)
    with progress.installed(lambda: _CtrlC(at=2)), pytest.raises(KeyboardInterrupt):
        ss.fit_supervised(x, y, model=model, verbose=True, **dict(FIT, epochs=5))
    n_batches = -(-160 // 32)
    assert [row["epoch"] for row in model.history] == [1, 2]
    assert "partial" not in model.history[0] and "val_loss" in model.history[0]
    assert model.history[1]["partial"] == pytest.approx(2 / n_batches)
    assert np.isfinite(model.history[1]["loss"]) and "val_loss" not in model.history[1]
    assert "2 epochs trained (the last one interrupted after 40% of its batches)" in repr(model)
    assert ss.predict(model, xt).shape == (len(xt),)
    ss.fit_supervised(x, y, model=model, verbose=False, **dict(FIT, epochs=1))  # training goes on
    assert [row["epoch"] for row in model.history] == [1, 2, 3]
