"""Bad input: a clear error naming the argument, and nothing the user had is changed."""
import numpy as np
import pytest
import torch

import selfsup as ss

X = np.zeros((10, 8, 8), dtype=np.uint8)
Y = np.arange(10) % 2


def nan_images():
    x = X.astype(np.float32)
    x[3, 2, 1] = np.nan
    return x


def inf_images():
    x = X.astype(np.float32)
    x[0, 0, 0] = np.inf
    return x


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x=X, y=Y[:7]), ValueError, "`y` has 7 labels but `x` has 10 samples"),
    (dict(x=X, y=np.r_[Y[:9], -3]), ValueError, "`y` must hold class indices 0..k-1; got -3"),
    (dict(x=X, y=Y, classes=["a", "b"] ), None, None),
    (dict(x=X, y=np.r_[Y[:9], 2], classes=["a", "b"]), ValueError, "`y` holds class 2, but `classes` names only 2"),
    (dict(x=nan_images(), y=Y), ValueError, "`x` contains 1 NA/NaN/Inf"),
    (dict(x=inf_images(), y=Y), ValueError, "`x` contains 1 NA/NaN/Inf"),
    (dict(x=np.zeros(784), y=Y), ValueError, r"`x` must have 3 or 4 dimensions \(n, height, width\[, channels\]\); got shape \(784,\)"),
    (dict(x=np.zeros((2, 2, 2, 2, 2)), y=Y[:2]), ValueError, "`x` must have 3 or 4 dimensions"),
    (dict(x=np.array([["a", "b"], ["c", "d"]]), y=Y[:2]), TypeError, "`x` must be a numeric array"),
    (dict(x=np.zeros((0, 8, 8)), y=Y[:0]), ValueError, "`x` is empty"),
    (dict(x=X.astype(int) + 300, y=Y), ValueError, "`x` holds integers outside 0..255"),
    (dict(x=X, y=Y, validation_split=1.0), ValueError, r"`validation_split` must be in \[0.0, 1.0\)"),
    (dict(x=X, y=Y, validation_split=-0.1), ValueError, "`validation_split` must be in"),
    (dict(x=X, y=Y, epochs=0), ValueError, "`epochs` must be at least 1"),
    (dict(x=X, y=Y, batch_size=2.5), TypeError, "`batch_size` must be a whole number"),
    (dict(x=X, y=Y, encoder="resnet"), ValueError, '`encoder` must be one of "cnn", "mlp"'),
    (dict(x=X, y=Y, device="tpu"), ValueError, '`device` must be one of "auto", "cpu", "cuda"'),
])
def test_fit_supervised_rejects_bad_input(kwargs, error, match):
    kwargs = {"epochs": 1, "verbose": False, "device": "cpu", **kwargs}
    if error is None:
        ss.fit_supervised(**kwargs)
        return
    with pytest.raises(error, match=match):
        ss.fit_supervised(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown where there is no GPU")
def test_cuda_without_gpu_is_an_error_not_a_fallback():
    with pytest.raises(ValueError, match='`device` is "cuda" but no CUDA GPU is available'):
        ss.fit_supervised(X, Y, device="cuda", verbose=False)


def test_failed_fit_leaves_the_model_untouched():
    model = ss.fit_supervised(X, Y, epochs=1, seed=0, device="cpu", verbose=False)
    before = ss.get_weights(model)
    with pytest.raises(ValueError, match="`y` holds class 5, but the model has 2 classes"):
        ss.fit_supervised(X, np.r_[Y[:9], 5], model=model, device="cpu", verbose=False)
    with pytest.raises(ValueError, match=r"`x` has samples of shape \(9, 9\)"):
        ss.fit_supervised(np.zeros((10, 9, 9)), Y, model=model, device="cpu", verbose=False)
    assert len(model.history) == 1
    assert all(np.array_equal(before[k], v) for k, v in ss.get_weights(model).items())


def test_images_too_small_for_the_cnn():
    with pytest.raises(ValueError, match="too small for the CNN"):
        ss.fit_supervised(np.zeros((4, 3, 3)), [0, 1, 0, 1], verbose=False)


def test_predict_and_evaluate_check_their_input():
    model = ss.build_model((8, 8), 2, seed=0)
    with pytest.raises(ValueError, match='`type` must be one of "class", "prob"'):
        ss.predict(model, X, type="response")
    with pytest.raises(ValueError, match="`y` has 3 labels"):
        ss.evaluate(model, X, Y[:3])
