"""fit_supervised / evaluate / predict: learning, determinism, training further, the golden run."""
import numpy as np
import pytest

import selfsup as ss

from conftest import DEVICE

FIT = dict(epochs=3, batch_size=32, device=DEVICE, verbose=False)


def weights_equal(a, b):
    wa, wb = ss.get_weights(a), ss.get_weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def test_cnn_learns_digits(small):
    x, y, xt, yt = small
    model = ss.fit_supervised(x, y, epochs=15, batch_size=16, seed=0, device=DEVICE, verbose=False)
    assert model.history[-1]["loss"] < model.history[0]["loss"]
    assert ss.evaluate(model, xt, yt, device=DEVICE)["accuracy"] > 0.6  # chance is 0.1


def test_mlp_on_feature_matrix(small):
    x, y, xt, yt = small
    model = ss.fit_supervised(x.reshape(len(x), -1), y, encoder="mlp", epochs=20, seed=0,
                              device=DEVICE, verbose=False)
    assert ss.evaluate(model, xt.reshape(len(xt), -1), yt, device=DEVICE)["accuracy"] > 0.6


def test_same_seed_same_model_other_seed_other_model(small):
    x, y, _, _ = small
    a = ss.fit_supervised(x, y, seed=3, **FIT)
    b = ss.fit_supervised(x, y, seed=3, **FIT)
    c = ss.fit_supervised(x, y, seed=4, **FIT)
    assert weights_equal(a, b) and a.history == b.history
    assert not weights_equal(a, c)


def test_history_has_validation_columns_and_continues(small):
    x, y, _, _ = small
    model = ss.fit_supervised(x, y, validation_split=0.25, seed=1, **FIT)
    assert [r["epoch"] for r in model.history] == [1, 2, 3]
    assert set(model.history[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    again = ss.fit_supervised(x, y, model=model, seed=2, **FIT)
    assert again is model and [r["epoch"] for r in model.history] == [1, 2, 3, 4, 5, 6]


def test_float_and_uint8_inputs_agree(small):
    x, y, _, _ = small
    a = ss.fit_supervised(x, y, seed=5, **FIT)
    b = ss.fit_supervised(x.astype(np.float32) / 255, y, seed=5, **FIT)
    for k, w in ss.get_weights(a).items():
        np.testing.assert_allclose(w, ss.get_weights(b)[k], rtol=1e-4, atol=1e-6)


def test_channel_last_color_images_train():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 12, 12, 3), dtype=np.uint8)
    y = np.arange(40) % 2
    model = ss.fit_supervised(x, y, seed=0, **FIT)
    assert model.input_shape == (12, 12, 3)
    assert ss.predict(model, x, type="prob", device=DEVICE).shape == (40, 2)


def test_predict_classes_and_probabilities(small):
    x, y, xt, _ = small
    model = ss.fit_supervised(x, y, seed=0, **FIT)
    prob = ss.predict(model, xt, type="prob", device=DEVICE)
    np.testing.assert_allclose(prob.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(ss.predict(model, xt, device=DEVICE), prob.argmax(1))


def test_classes_can_outnumber_the_labels_seen(small):
    x, y, _, _ = small
    keep = y < 5
    model = ss.fit_supervised(x[keep], y[keep], classes=10, seed=0, **FIT)
    assert len(model.classes) == 10 and ss.predict(model, x, type="prob", device=DEVICE).shape[1] == 10


def test_golden_run_reproduces(digits, golden):
    s = golden["settings"]
    d = digits
    model = ss.fit_supervised(d["train"]["x"][:s["n_train"]], d["train"]["y"][:s["n_train"]],
                              epochs=s["epochs"], batch_size=s["batch_size"],
                              validation_split=s["validation_split"], seed=s["seed"],
                              device=DEVICE, verbose=False)
    xt, yt = d["test"]["x"][:s["n_test"]], d["test"]["y"][:s["n_test"]]
    for got, want in zip(model.history, golden["history"]):
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=s["tolerance"])
    assert ss.evaluate(model, xt, yt, device=DEVICE)["loss"] == pytest.approx(golden["evaluate"]["loss"], rel=s["tolerance"])
    assert ss.predict(model, xt, device=DEVICE).tolist() == golden["predict"]
    np.testing.assert_allclose(ss.get_weights(model)["output.bias"], golden["output_bias"], rtol=1e-4, atol=1e-6)
