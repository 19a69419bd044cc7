"""The training loop's optional recipe settings: SGD with Nesterov momentum, weight decay on kernels,
a cosine learning-rate schedule and a moving average of the weights. Defaults stay keras' (Adam,
constant rate, no decay, no average): the golden file checks that."""
import copy

import numpy as np
import pytest
import torch

import selfsup as ss
from selfsup.settings import FitSettings
from selfsup.train import Classification, WeightAverage, fit, fit_side_by_side, make_optimizer

from conftest import DEVICE


def data(digits, n=40):
    return digits["train"]["x"][:n], digits["train"]["y"][:n]


def trained(digits, seed=0, **options):
    x, y = data(digits)
    model = ss.build_model(x.shape[1:], 10, seed=seed)
    settings = FitSettings(epochs=2, batch_size=8, seed=seed, device=DEVICE, verbose=False, **options)
    fit(model.net, Classification(), x, y, settings, model.history)
    return model


def weights(model):
    return {k: v.copy() for k, v in ss.get_weights(model).items()}


def test_every_option_changes_the_weights(digits):
    """Each setting does something: none of them leaves the default recipe's weights."""
    base = weights(trained(digits))
    for options in ({"optimizer": "sgd"}, {"weight_decay": 0.1}, {"schedule": "cosine"}, {"ema": 0.9}):
        other = weights(trained(digits, **options))
        assert any(not np.array_equal(base[k], other[k]) for k in base), options


def test_sgd_is_nesterov_and_decay_skips_biases():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    opt = make_optimizer(list(net.parameters()), FitSettings(optimizer="sgd", weight_decay=0.01))
    assert isinstance(opt, torch.optim.SGD)
    decayed = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert decayed[id(net[0].weight)] == 0.01 and decayed[id(net[0].bias)] == 0.0
    assert all(g["nesterov"] and g["momentum"] == 0.9 for g in opt.param_groups)


def test_cosine_schedule_decays_to_zero(digits):
    """The learning rate follows (1 + cos(pi t / T)) / 2: the last step's rate is close to 0."""
    x, y = data(digits)
    model = ss.build_model(x.shape[1:], 10, seed=0)
    seen = []
    original = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    torch.optim.Adam.step = spy
    try:
        fit(model.net, Classification(), x, y, FitSettings(epochs=2, batch_size=8, lr=0.01, schedule="cosine",
                                                           seed=0, device=DEVICE, verbose=False), [])
    finally:
        torch.optim.Adam.step = original
    steps = len(seen)                        # 2 epochs x 5 batches
    assert steps == 10 and seen[0] == 0.01
    np.testing.assert_allclose(seen, [0.01 * 0.5 * (1 + np.cos(np.pi * t / steps)) for t in range(steps)])


def test_weight_average_follows_the_formula():
    """avg <- d avg + (1 - d) new with d = min(decay, (1 + t) / (10 + t)): 0.1 at the first update."""
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    avg = WeightAverage(net, decay=0.75)
    start = copy.deepcopy(net.state_dict())
    for t, shift in enumerate((1.0, 2.0, 3.0)):
        with torch.no_grad():
            net[0].weight.add_(shift)
            net[1].running_mean.add_(2.0)
            net[1].num_batches_tracked.add_(3)
        before = copy.deepcopy(avg.net.state_dict())
        avg.update(net)
        d = min(0.75, (1 + t) / (10 + t))
        state = avg.net.state_dict()
        torch.testing.assert_close(state["0.weight"], d * before["0.weight"] + (1 - d) * net[0].weight)
        torch.testing.assert_close(state["1.running_mean"], d * before["1.running_mean"] + (1 - d) * net[1].running_mean)
        assert int(state["1.num_batches_tracked"]) == 3 * (t + 1)   # counters are copied, not averaged
    assert not torch.equal(state["0.weight"], start["0.weight"])
    assert not avg.net.training and not any(p.requires_grad for p in avg.net.parameters())


def test_fit_ends_with_the_averaged_weights(digits):
    """The fit returns the average: with decay 0 that is the last weights (the same as no average)."""
    last, plain = weights(trained(digits, seed=3, ema=1e-12)), weights(trained(digits, seed=3))
    assert all(np.array_equal(last[k], plain[k]) for k in last)
    averaged = weights(trained(digits, seed=3, ema=0.9))
    assert not all(np.array_equal(averaged[k], plain[k]) for k in plain)


@pytest.mark.parametrize("options", [{"optimizer": "sgd", "weight_decay": 1e-3, "schedule": "cosine", "ema": 0.9}])
def test_side_by_side_still_equals_one_by_one(digits, options):
    x, y = digits["train"]["x"], digits["train"]["y"]
    idx = [ss.sample_indices(len(x), 24, seed=s) for s in (1, 2)]
    settings = FitSettings(epochs=2, batch_size=5, validation_split=0.25, device=DEVICE, verbose=False, **options)
    alone = [ss.build_model((8, 8), 10, seed=0) for _ in idx]
    together = [ss.build_model((8, 8), 10, seed=0) for _ in idx]
    for model, i, seed in zip(alone, idx, (7, 8)):
        fit(model.net, Classification(), x[i], y[i], FitSettings(**{**settings.__dict__, "seed": seed}), model.history)
    fit_side_by_side([m.net for m in together], Classification(), [x[i] for i in idx], [y[i] for i in idx],
                     [7, 8], settings, [m.history for m in together])
    for a, b in zip(alone, together):
        wa, wb = weights(a), weights(b)
        assert all(np.array_equal(wa[k], wb[k]) for k in wa)
        assert a.history == b.history


def test_batch_norm_running_stats_average_the_first_batches():
    """The convnet's batch norm: running mean = the plain mean of the batch means for the first 10 training
    batches (torch's moving average would still hold 0.9^t of its start at 0), then momentum 0.1."""
    from selfsup.nets.layers import BatchNorm2d
    bn = BatchNorm2d(1)
    means = []
    for t in range(12):
        x = torch.full((4, 1, 2, 2), float(t + 1)) + torch.randn(4, 1, 2, 2)
        means.append(x.mean())
        before = bn.running_mean.clone()
        bn(x)
        if t < 10:
            torch.testing.assert_close(bn.running_mean, torch.stack(means).mean().reshape(1))
        else:
            torch.testing.assert_close(bn.running_mean, 0.9 * before + 0.1 * means[-1])
    bn.eval()
    held = bn.running_mean.clone()
    bn(torch.zeros(4, 1, 2, 2))
    assert torch.equal(bn.running_mean, held)                     # eval mode leaves them alone
    assert bn.warm                          # at momentum 0.1 the count is no longer read (a GPU sync per batch)
    bn.train()
    bn.load_state_dict(BatchNorm2d(1).state_dict())                # a fresh count: warming starts again
    x = torch.randn(4, 1, 2, 2) + 5
    bn(x)
    torch.testing.assert_close(bn.running_mean, x.mean().reshape(1))
