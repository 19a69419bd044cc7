"""fit_replicates(exact=False): the replicates as one grouped network. It is what it says (the same
models, computed together), and its accuracies are distributed as the exact path's."""
import numpy as np
import pytest
import torch

import selfsup as ss
from selfsup.grouped import Grouped

from conftest import DEVICE
from test_replicates import fresh

FAST = dict(epochs=4, batch_size=4, validation_split=0.2, device=DEVICE, verbose=False)


@pytest.mark.parametrize("encoder", ["cnn", "mlp"])
def test_grouped_network_computes_each_model(digits, encoder):
    """In eval mode the grouped network's output r is model r's own output (other summation order)."""
    x = digits["train"]["x"][:12]
    models = [ss.build_model(x.shape[1:], 10, encoder=encoder, seed=s) for s in range(3)]
    grouped = Grouped([m.net for m in models]).eval()
    xs = torch.from_numpy(x).float().div(255).unsqueeze(1)                   # (12, 1, 8, 8)
    with torch.no_grad():
        together = grouped(xs.unsqueeze(0).expand(3, -1, -1, -1, -1))       # (3, 12, 10)
        for r, m in enumerate(models):
            torch.testing.assert_close(together[r], m.net.eval()(xs), rtol=1e-5, atol=1e-5)


def test_fast_path_trains_each_model_on_its_own_draw_and_keeps_frozen_layers(digits):
    x, y = digits["train"]["x"], digits["train"]["y"]
    subsets = [ss.sample_indices(len(x), 40, seed=s) for s in range(3)]
    exact, fast = fresh(x, 3), fresh(x, 3)
    for m in fast:
        ss.freeze_weights(m, to_layer="drop2")
    before = ss.get_weights(fast[0])
    ss.fit_replicates(exact, x, y, subsets, seeds=[1, 2, 3], **FAST)
    out = ss.fit_replicates(fast, x, y, subsets, seeds=[1, 2, 3], exact=False, **FAST)
    assert out == fast
    w = [ss.get_weights(m) for m in fast]
    assert np.array_equal(w[0]["conv1.weight"], before["conv1.weight"])      # frozen stayed put
    assert not np.array_equal(w[0]["dense1.weight"], before["dense1.weight"])  # the rest trained
    assert not np.array_equal(w[0]["dense1.weight"], w[1]["dense1.weight"])   # each on its own draw
    assert not np.array_equal(w[0]["output.bias"], ss.get_weights(exact[0])["output.bias"])  # not bit for bit
    assert [list(row) for row in fast[0].history] == [list(row) for row in exact[0].history]
    assert [row["epoch"] for row in fast[2].history] == [1, 2, 3, 4]


def median_accuracy(models, digits):
    xt, yt = digits["test"]["x"], digits["test"]["y"]
    return float(np.median([ss.evaluate(m, xt, yt, device=DEVICE)["accuracy"] for m in models]))


@pytest.mark.parametrize("seed", [0, 1])
def test_fast_path_accuracies_are_distributed_as_the_exact_paths(digits, seed):
    """8 replicates on 100 labels each, 10 epochs: the medians of test accuracy agree within 0.05
    (measured: 0.690 vs 0.682 and 0.656 vs 0.629, both seeds)."""
    x, y = digits["train"]["x"], digits["train"]["y"]
    subsets = [ss.sample_indices(len(x), 100, seed=100 * seed + r) for r in range(8)]
    seeds = list(range(8))
    runs = {}
    for exact in (True, False):
        models = fresh(x, 8, seed=seed)
        ss.fit_replicates(models, x, y, subsets, seeds=seeds, exact=exact, lr=3e-3, **dict(FAST, epochs=10))
        runs[exact] = median_accuracy(models, digits)
    assert runs[True] > 0.5                                  # both learned something
    assert abs(runs[True] - runs[False]) < 0.05, runs


def test_fast_path_says_what_it_cannot_do(digits):
    x, y = digits["train"]["x"], digits["train"]["y"]
    s = [ss.sample_indices(len(x), 20, seed=r) for r in range(2)]
    with pytest.raises(ValueError, match="cannot go with `side_by_side = False`"):
        ss.fit_replicates(fresh(x, 2), x, y, s, exact=False, side_by_side=False, **FAST)
    with pytest.raises(ValueError, match="`side_by_side` needs `subsets` of equal size"):
        ss.fit_replicates(fresh(x, 2), x, y, [s[0], s[1][:10]], exact=False, **FAST)
    with pytest.raises(TypeError, match="`exact` must be True or False"):
        ss.fit_replicates(fresh(x, 2), x, y, s, exact="no", **FAST)
    mixed = fresh(x, 2)
    ss.freeze_weights(mixed[1], to_layer="drop2")
    with pytest.raises(ValueError, match="the same frozen layers in every model; `models\\[1\\]` differs"):
        ss.fit_replicates(mixed, x, y, s, exact=False, **FAST)
