"""fit_replicates: side by side gives exactly the models that one-after-another training gives."""
import threading

import numpy as np
import pytest
import torch

import selfsup as ss

from conftest import DEVICE
from test_supervised import weights_equal

SETTINGS = dict(epochs=2, batch_size=3, validation_split=0.2, device=DEVICE, verbose=False)


@pytest.fixture(scope="module")
def draws(digits):
    """Four draws of 26 training digits (the last 5 of each held out): 7 batches, the last of 3."""
    x, y = digits["train"]["x"], digits["train"]["y"]
    return x, y, [ss.sample_indices(len(x), 26, seed=s) for s in range(4)], [11, 12, 13, 14]


def fresh(x, n, seed=0, encoder="cnn"):
    """n models with the same initial weights, as the seminar's step 3 makes them."""
    first = ss.build_model(x.shape[1:], 10, encoder=encoder, seed=seed)
    return [first] + [ss.clone_model(first) for _ in range(n - 1)]


def one_after_another(models, x, y, subsets, seeds, **settings):
    for model, idx, seed in zip(models, subsets, seeds):
        ss.fit_supervised(x[idx], y[idx], model=model, seed=seed, **settings)


@pytest.mark.parametrize("encoder", ["cnn", "mlp"])
def test_side_by_side_equals_fit_supervised_one_by_one(draws, encoder):
    x, y, subsets, seeds = draws
    if encoder == "mlp":
        x = x.reshape(len(x), -1)
    alone, together = fresh(x, 4, encoder=encoder), fresh(x, 4, encoder=encoder)
    one_after_another(alone, x, y, subsets, seeds, **SETTINGS)
    out = ss.fit_replicates(together, x, y, subsets, seeds=seeds, side_by_side=True, **SETTINGS)
    assert out == together
    for a, b in zip(alone, together):
        assert weights_equal(a, b)           # bit for bit
        assert a.history == b.history        # training and validation numbers too
    # and the replicates really differ from one another (own data, own dropout masks)
    assert not weights_equal(together[0], together[1])


def test_frozen_then_unfrozen_as_in_the_seminar_transfer(draws):
    """Step 5: freeze the convolutions, train, unfreeze, train; side by side equals one by one."""
    x, y, subsets, seeds = draws
    runs = []
    for side_by_side in (False, True):
        models = fresh(x, 4, seed=5)
        for m in models:
            ss.freeze_weights(m, to_layer="drop2")
        ss.fit_replicates(models, x, y, subsets, seeds=seeds, side_by_side=side_by_side, **SETTINGS)
        frozen = [ss.get_weights(m)["conv1.weight"] for m in models]
        for m in models:
            ss.unfreeze_weights(m)
        ss.fit_replicates(models, x, y, subsets, seeds=seeds, side_by_side=side_by_side, **SETTINGS)
        runs.append((models, frozen))
    (seq, seq_frozen), (sbs, sbs_frozen) = runs
    initial = ss.get_weights(fresh(x, 1, seed=5)[0])["conv1.weight"]
    assert all(np.array_equal(w, initial) for w in seq_frozen + sbs_frozen)  # frozen layers stayed put
    for a, b in zip(seq, sbs):
        assert weights_equal(a, b) and a.history == b.history
        assert [row["epoch"] for row in b.history] == [1, 2, 3, 4]


def test_default_goes_side_by_side_when_it_can(draws, monkeypatch):
    import selfsup.replicates as rep
    calls = []
    real = rep.fit_side_by_side
    monkeypatch.setattr(rep, "fit_side_by_side", lambda nets, *a: calls.append(len(nets)) or real(nets, *a))
    x, y, subsets, seeds = draws
    ss.fit_replicates(fresh(x, 3), x, y, subsets[:3], seeds=seeds[:3], **SETTINGS)
    assert calls == [3]                      # all three at once
    uneven = [subsets[0], subsets[1][:20]]   # side by side needs equal sizes: one after another
    models = ss.fit_replicates(fresh(x, 2), x, y, uneven, seeds=seeds[:2], **SETTINGS)
    assert calls == [3]
    alone = fresh(x, 2)
    one_after_another(alone, x, y, uneven, seeds[:2], **SETTINGS)
    assert all(weights_equal(a, b) for a, b in zip(alone, models))


def test_without_seeds_each_replicate_draws_its_own(draws):
    x, y, subsets, _ = draws
    models = ss.fit_replicates(fresh(x, 2), x, y, [subsets[0], subsets[0]], side_by_side=True, **SETTINGS)
    assert not weights_equal(*models)


@pytest.mark.parametrize("call, message", [
    (lambda m, x, y, s: ss.fit_replicates(m[0], x, y, s[:1]), "`models` must be a non-empty list"),
    (lambda m, x, y, s: ss.fit_replicates([m[0], m[0]], x, y, s[:2]), "`models[0]` and `models[1]` are the same"),
    (lambda m, x, y, s: ss.fit_replicates([m[0], "model"], x, y, s[:2]), "`models[1]` must be a selfsup Model"),
    (lambda m, x, y, s: ss.fit_replicates(m, x, y, s[:1]), "`subsets` has 1 index vectors but there are 2 models"),
    (lambda m, x, y, s: ss.fit_replicates(m, x, y, s[:2], seeds=[1]), "`seeds` has 1 values but there are 2"),
    (lambda m, x, y, s: ss.fit_replicates(m, x, y, s[:2], seeds=[1, -1]), "`seeds[1]` must be at least 0"),
    (lambda m, x, y, s: ss.fit_replicates(m, x, y, [s[0], [0, len(x)]]), "`subsets[1]` must hold positions 0.."),
    (lambda m, x, y, s: ss.fit_replicates(m, x, y, [s[0], [0.5, 1]]), "`subsets[1]` must hold whole numbers"),
    (lambda m, x, y, s: ss.fit_replicates(m, x, y, [s[0], []]), "`subsets[1]` must be a non-empty vector"),
    (lambda m, x, y, s: ss.fit_replicates(m, x, y, [s[0], s[1][:9]], side_by_side=True),
     "`side_by_side` needs `subsets` of equal size; got sizes [9, 26]"),
    (lambda m, x, y, s: ss.fit_replicates(m, x, y, s[:2], side_by_side="yes"), "`side_by_side` must be True, False"),
    (lambda m, x, y, s: ss.fit_replicates(m, x, y[:10], s[:2]), "`y` has 10 labels"),
    (lambda m, x, y, s: ss.fit_replicates(m, x[:, :4], y, s[:2]), "the model was built for (8, 8)"),
])
def test_bad_input_names_the_argument_and_leaves_the_models_alone(draws, call, message):
    x, y, subsets, _ = draws
    models = fresh(x, 2)
    before = [ss.get_weights(m) for m in models]
    with pytest.raises((TypeError, ValueError)) as err:
        call(models, x, y, subsets)
    assert message in str(err.value)
    assert all(weights_equal(m, ss.set_weights(ss.clone_model(m), w)) for m, w in zip(models, before))
    assert all(m.history == [] for m in models)


def test_models_with_different_pasts_keep_their_own_epoch_numbers(draws):
    x, y, subsets, seeds = draws
    runs = []
    for side_by_side in (False, True):
        models = fresh(x, 2)
        ss.fit_supervised(x[:30], y[:30], model=models[0], epochs=1, seed=1, device=DEVICE, verbose=False)
        ss.fit_replicates(models, x, y, subsets[:2], seeds=seeds[:2], side_by_side=side_by_side, **SETTINGS)
        runs.append(models)
    assert [row["epoch"] for row in runs[1][0].history] == [1, 2, 3]
    assert [row["epoch"] for row in runs[1][1].history] == [1, 2]
    assert all(weights_equal(a, b) and a.history == b.history for a, b in zip(*runs))


@pytest.fixture
def two_threads():
    """torch on two threads for the test (the suite runs on one), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def lanes_used(monkeypatch) -> list[int]:
    """The lane counts of every side-by-side fit from here on."""
    import selfsup.train as train
    counts = []
    real = train.Lanes
    monkeypatch.setattr(train, "Lanes", lambda n_lanes, n_models: counts.append(n_lanes) or real(n_lanes, n_models))
    return counts


def test_models_shared_among_threads_equal_one_by_one(draws, two_threads, monkeypatch):
    """Batch 3 of 8x8 digits is work for one thread: torch's two threads each step two of the four models."""
    x, y, subsets, seeds = draws
    counts = lanes_used(monkeypatch)
    alone, together = fresh(x, 4), fresh(x, 4)
    one_after_another(alone, x, y, subsets, seeds, **SETTINGS)
    ss.fit_replicates(together, x, y, subsets, seeds=seeds, side_by_side=True, **SETTINGS)
    assert counts == [1, 1, 1, 1, 2]         # alone: one lane each; side by side: two
    for a, b in zip(alone, together):
        assert weights_equal(a, b) and a.history == b.history
    assert not any(t.name.startswith("selfsup-lane") for t in threading.enumerate())   # the threads ended


def test_a_fixed_thread_count_keeps_one_lane(draws, two_threads, monkeypatch):
    x, y, subsets, seeds = draws
    counts = lanes_used(monkeypatch)
    before = ss.set_threads(1)
    try:
        ss.fit_replicates(fresh(x, 2), x, y, subsets[:2], seeds=seeds[:2], side_by_side=True, **SETTINGS)
    finally:
        ss.set_threads(before)
    assert counts == [1]


def test_networks_that_draw_from_the_global_generator_keep_one_lane():
    from selfsup.lanes import lane_count
    cpu, cnn = torch.device("cpu"), ss.build_model((8, 8), 10).net
    attention = torch.nn.Sequential(torch.nn.MultiheadAttention(8, 2, dropout=0.1))
    assert lane_count(cpu, [cnn] * 4, False, 1, 2) == 2
    assert lane_count(cpu, [cnn] * 4, False, 1, 8) == 4          # never more lanes than models
    assert lane_count(cpu, [cnn, attention], False, 1, 2) == 1
    assert lane_count(cpu, [cnn] * 4, True, 1, 2) == 1            # torchrun: one lane per rank
    assert lane_count(cpu, [cnn] * 4, False, 2, 2) == 1           # steps big enough for torch's threads


def test_ctrl_c_in_a_lane_stops_every_lane_and_keeps_the_partial_epoch(draws, two_threads, monkeypatch):
    import selfsup.train as train
    x, y, subsets, seeds = draws
    real, steps = train._advance, []

    def advance(runs, *args):   # Ctrl-C in the second lane, in the first epoch's third or fourth step
        steps.append(threading.current_thread().name)
        if len(steps) >= 5 and steps[-1].startswith("selfsup-lane") and "stop" not in steps:
            steps.append("stop")
            raise KeyboardInterrupt
        return real(runs, *args)

    monkeypatch.setattr(train, "_advance", advance)
    models = fresh(x, 4)
    with pytest.raises(KeyboardInterrupt):
        ss.fit_replicates(models, x, y, subsets, seeds=seeds, side_by_side=True, **SETTINGS)
    assert any(name.startswith("selfsup-lane") for name in steps)     # it did run in a second thread
    assert "stop" in steps
    assert all([row["epoch"] for row in m.history] == [1] and 0 < m.history[0]["partial"] < 1 for m in models)
    assert not any(t.name.startswith("selfsup-lane") for t in threading.enumerate())
