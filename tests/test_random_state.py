"""A library call must not reset the caller's random state: after any selfsup call the global streams
of Python's `random`, numpy and torch are exactly where the caller left them."""
import random

import numpy as np
import pytest
import torch

import selfsup as ss

from conftest import DEVICE

FIT = dict(epochs=1, batch_size=16, device=DEVICE, verbose=False)
SENTENCES = ["the cat sat on the mat", "a dog ran in the park", "the bird sang in the tree"] * 6


def global_state():
    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def same(a, b) -> bool:
    return a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1], b[1])) and torch.equal(a[2], b[2])


CALLS = {
    "ssl_show": lambda x, y: ss.ssl_show(x, "rotation", n=4),
    "ssl_show_model": lambda x, y: ss.ssl_show(x, model=ss.ssl_pretrain(x, "rotation", seed=1, **FIT), n=4),
    "k_means": lambda x, y: ss.k_means(x, 3, n_init=2, seed=1, device=DEVICE),
    "build_model": lambda x, y: ss.build_model((8, 8), 10, seed=1),
    "fit_supervised": lambda x, y: ss.fit_supervised(x, y, seed=1, **FIT),
    "fit_supervised_no_seed": lambda x, y: ss.fit_supervised(x, y, seed=None, **FIT),   # draws from the OS
    "ssl_pretrain_text": lambda x, y: ss.ssl_pretrain(SENTENCES, "masked_token", seed=1, **FIT),
    "ssl_pretrain_inpainting": lambda x, y: ss.ssl_pretrain(x, "inpainting", adversarial=0.1, seed=1, **FIT),
    "ssl_finetune": lambda x, y: ss.ssl_finetune(ss.ssl_pretrain(x, "rotation", seed=1, **FIT), x, y, seed=1,
                                                 freeze_epochs=1, finetune_epochs=1, batch_size=16,
                                                 device=DEVICE, verbose=False),
    "fit_autoencoder": lambda x, y: ss.fit_autoencoder(x, seed=1, **FIT),
    "fit_replicates": lambda x, y: ss.fit_replicates([ss.build_model((8, 8), 10, seed=i) for i in range(2)], x, y,
                                                     [np.arange(20), np.arange(20, 40)], seeds=[1, 2], **FIT),
    "rl_dqn": lambda x, y: ss.rl_dqn("CartPole-v1", steps=200, learning_starts=50, train_every=50,
                                     gradient_steps=2, seed=1, device=DEVICE, verbose=False),
}


@pytest.mark.parametrize("call", CALLS)
def test_call_leaves_the_global_random_state_alone(call, digits):
    x, y = digits["train"]["x"][:48], digits["train"]["y"][:48]
    random.seed(123)
    np.random.seed(123)
    torch.manual_seed(123)
    before = global_state()
    CALLS[call](x, y)
    assert same(global_state(), before)


def test_seeded_fit_does_not_depend_on_the_global_random_state():
    """masked_token's attention dropout draws from torch's global generator: the fit seeds it itself."""
    models = []
    for caller_seed in (0, 99):
        torch.manual_seed(caller_seed)
        models.append(ss.ssl_pretrain(SENTENCES, "masked_token", seed=1, **FIT))
    a, b = (ss.get_weights(m) for m in models)
    assert all(np.array_equal(a[k], b[k]) for k in a) and models[0].history == models[1].history
