"""With seed=None every call draws a seed and records it (`model.seed`, saved with the model), so the
model can be made again: the same call with that seed gives identical weights and history."""
import numpy as np
import pytest

import selfsup as ss

from conftest import DEVICE

FIT = dict(epochs=1, batch_size=8, device=DEVICE, verbose=False)


def labels_with_gaps(y):
    y = y.copy()
    y[12:] = -1
    return y


CALLS = {
    "build_model": lambda x, y, seed: ss.build_model((8, 8), 10, seed=seed),
    "fit_supervised": lambda x, y, seed: ss.fit_supervised(x, y, classes=10, seed=seed, **FIT),
    "ssl_pretrain": lambda x, y, seed: ss.ssl_pretrain(x, "rotation", seed=seed, **FIT),
    "ssl_finetune": lambda x, y, seed: ss.ssl_finetune(ss.build_model((8, 8), 10, seed=1), x, y, classes=10,
                                                       freeze_epochs=1, finetune_epochs=1, batch_size=8,
                                                       seed=seed, device=DEVICE, verbose=False),
    "fit_autoencoder": lambda x, y, seed: ss.fit_autoencoder(x, seed=seed, **FIT),
    "fit_pseudo_label": lambda x, y, seed: ss.fit_pseudo_label(x, labels_with_gaps(y), classes=10, threshold=0.0,
                                                               rounds=1, seed=seed, **FIT),
    "fit_fixmatch": lambda x, y, seed: ss.fit_fixmatch(x, labels_with_gaps(y), classes=10, mu=1, seed=seed, **FIT),
    "rl_dqn": lambda x, y, seed: ss.rl_dqn("CartPole-v1", steps=150, learning_starts=50, train_every=50,
                                           gradient_steps=2, seed=seed, device=DEVICE, verbose=False).model,
}


@pytest.mark.parametrize("call", CALLS)
def test_a_drawn_seed_is_recorded_and_reproduces_the_model(call, digits, tmp_path):
    x, y = digits["train"]["x"][:32], digits["train"]["y"][:32]
    drawn = CALLS[call](x, y, None)
    assert isinstance(drawn.seed, int) and drawn.seed >= 0
    again = CALLS[call](x, y, drawn.seed)
    a, b = ss.get_weights(drawn), ss.get_weights(again)
    assert all(np.array_equal(a[k], b[k]) for k in a) and drawn.history == again.history
    assert ss.load_model(ss.save_model(drawn, tmp_path / "m.safetensors")).seed == drawn.seed


def test_a_given_seed_is_recorded(digits):
    x, y = digits["train"]["x"][:16], digits["train"]["y"][:16]
    assert ss.fit_supervised(x, y, classes=10, seed=7, **FIT).seed == 7
    agent = ss.rl_dqn("CartPole-v1", steps=60, learning_starts=50, seed=None, device=DEVICE, verbose=False)
    assert agent.model.seed == agent.settings["seed"]
