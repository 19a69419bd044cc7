"""`validation_split` > 0 that holds out no sample is an error naming it (as in keras), in every
function that takes it; one that holds out at least one sample validates on it."""
import numpy as np
import pytest

import selfsup as ss

from conftest import DEVICE

FIT = dict(epochs=1, batch_size=4, seed=1, device=DEVICE, verbose=False)


def partly_labelled(y, n_labelled):
    y = y.copy()
    y[n_labelled:] = -1
    return y


CALLS = {   # each trains on 3 (labelled) samples
    "fit_supervised": lambda x, y, vs: ss.fit_supervised(x[:3], y[:3], classes=10, validation_split=vs, **FIT),
    "ssl_pretrain": lambda x, y, vs: ss.ssl_pretrain(x[:3], "rotation", validation_split=vs, **FIT),
    "ssl_finetune": lambda x, y, vs: ss.ssl_finetune(ss.build_model((8, 8), 10, seed=1), x[:3], y[:3], classes=10,
                                                     freeze_epochs=1, finetune_epochs=0, validation_split=vs,
                                                     batch_size=4, seed=1, device=DEVICE, verbose=False),
    "fit_autoencoder": lambda x, y, vs: ss.fit_autoencoder(x[:3], validation_split=vs, **FIT),
    "fit_pseudo_label": lambda x, y, vs: ss.fit_pseudo_label(x[:12], partly_labelled(y[:12], 3), classes=10,
                                                             rounds=0, validation_split=vs, **FIT),
    "fit_fixmatch": lambda x, y, vs: ss.fit_fixmatch(x[:12], partly_labelled(y[:12], 3), classes=10,
                                                     validation_split=vs, **FIT),
    "fit_replicates": lambda x, y, vs: ss.fit_replicates([ss.build_model((8, 8), 10, seed=1)], x, y, [np.arange(3)],
                                                         validation_split=vs, epochs=1, batch_size=4, device=DEVICE,
                                                         verbose=False)[0],
}


@pytest.fixture(scope="module")
def data(digits):
    x, y = digits["train"]["x"][:12], digits["train"]["y"][:12]
    assert len(set(y[:3].tolist())) >= 2   # pseudo-label / FixMatch need 2 labelled classes
    return x, y


@pytest.mark.parametrize("call", CALLS)
def test_a_split_that_holds_out_nothing_is_an_error(call, data):
    with pytest.raises(ValueError, match=r"`validation_split` 0.3 holds out none of the 3 .*samples.*"
                                         r"use at least 0.34, or 0 for no validation"):
        CALLS[call](*data, 0.3)


@pytest.mark.parametrize("call", CALLS)
def test_the_smallest_split_suggested_validates(call, data):
    model = CALLS[call](*data, 0.34)
    assert "val_loss" in model.history[-1]


def test_a_single_sample_cannot_be_split(data):
    x, y = data
    with pytest.raises(ValueError, match=r"`validation_split` 0.5 holds out none of the 1 samples: a single sample "
                                         r"cannot be split; use validation_split=0"):
        ss.fit_supervised(x[:1], y[:1], classes=10, validation_split=0.5, **FIT)
