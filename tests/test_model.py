"""The Model handle: build, clone, weights get/set/freeze/unfreeze, save/load."""
import numpy as np
import pytest

import selfsup as ss

from conftest import DEVICE

FIT = dict(epochs=2, batch_size=32, device=DEVICE, verbose=False)


def test_build_model_is_seeded_and_keras_initialised():
    a = ss.build_model((28, 28), 10, seed=1)
    b = ss.build_model((28, 28, 1), 10, seed=1)
    wa, wb = ss.get_weights(a), ss.get_weights(b)
    assert list(wa) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                        "dense1.weight", "dense1.bias", "output.weight", "output.bias"]
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    assert wa["dense1.weight"].shape == (256, 7 * 7 * 32) and not wa["dense1.bias"].any()
    assert [r["name"] for r in a.layers()][:3] == ["conv1", "pool1", "drop1"]


def test_reset_to_initial_weights_reproduces_training(small):
    """The seminar's move: keep the initial weights, train, reset, train again: same result."""
    x, y, _, _ = small
    model = ss.build_model(x.shape[1:], 10, seed=0)
    w0 = ss.get_weights(model)
    ss.fit_supervised(x, y, model=model, seed=1, **FIT)
    first = ss.get_weights(model)
    ss.set_weights(model, w0)
    ss.fit_supervised(x, y, model=model, seed=1, **FIT)
    assert all(np.array_equal(first[k], v) for k, v in ss.get_weights(model).items())


def test_set_weights_checks_everything_before_changing_anything():
    model = ss.build_model((8, 8), 10, seed=0)
    before = ss.get_weights(model)
    bad = {"conv1.bias": np.ones(64), "output.bias": np.ones(3)}
    with pytest.raises(ValueError, match=r"`weights`\['output.bias'\] has shape \(3,\)"):
        ss.set_weights(model, bad)
    with pytest.raises(ValueError, match="does not have"):
        ss.set_weights(model, {"conv9.weight": np.ones(1)})
    assert all(np.array_equal(before[k], v) for k, v in ss.get_weights(model).items())


def test_frozen_layers_do_not_train_and_unfreeze_restores(small):
    x, y, _, _ = small
    model = ss.build_model(x.shape[1:], 10, seed=0)
    ss.freeze_weights(model, to_layer="drop2")          # the convolution block
    w0 = ss.get_weights(model)
    ss.fit_supervised(x, y, model=model, seed=0, **FIT)
    w1 = ss.get_weights(model)
    assert np.array_equal(w0["conv1.weight"], w1["conv1.weight"])
    assert np.array_equal(w0["conv2.bias"], w1["conv2.bias"])
    assert not np.array_equal(w0["dense1.weight"], w1["dense1.weight"])
    assert [r["trainable"] for r in model.layers() if r["params"]] == [False, False, True, True]
    ss.unfreeze_weights(model)
    ss.fit_supervised(x, y, model=model, seed=0, **FIT)
    assert not np.array_equal(w1["conv1.weight"], ss.get_weights(model)["conv1.weight"])


def test_freeze_by_index_and_bad_layers():
    model = ss.build_model((8, 8), 10, seed=0)
    ss.freeze_weights(model, from_layer=7, to_layer=9)   # dense1 .. output
    assert [r["trainable"] for r in model.layers() if r["params"]] == [True, True, False, False]
    with pytest.raises(ValueError, match="`to_layer` 'conv7' is not a layer"):
        ss.freeze_weights(model, to_layer="conv7")
    with pytest.raises(ValueError, match=r"`from_layer` must be a position 0..9 of the 10 layers; got 10"):
        ss.freeze_weights(model, from_layer=10)
    with pytest.raises(ValueError, match="comes after"):
        ss.freeze_weights(model, from_layer="output", to_layer="conv1")


def test_all_frozen_model_refuses_to_train(small):
    x, y, _, _ = small
    model = ss.freeze_weights(ss.build_model(x.shape[1:], 10, seed=0))
    with pytest.raises(ValueError, match="every layer is frozen"):
        ss.fit_supervised(x, y, model=model, **FIT)


def test_clone_is_independent(small):
    x, y, _, _ = small
    model = ss.fit_supervised(x, y, seed=0, **FIT)
    copy = ss.clone_model(model)
    ss.fit_supervised(x, y, model=copy, seed=1, **FIT)
    assert len(model.history) == 2 and len(copy.history) == 4
    assert not np.array_equal(ss.get_weights(model)["output.bias"], ss.get_weights(copy)["output.bias"])


def test_save_load_round_trip(small, tmp_path):
    x, y, xt, _ = small
    model = ss.fit_supervised(x, y, validation_split=0.2, seed=0, **FIT)
    ss.freeze_weights(model, to_layer="conv1")
    path = ss.save_model(model, tmp_path / "m.safetensors")
    back = ss.load_model(path)
    assert back.history == model.history and back.classes == model.classes
    np.testing.assert_array_equal(ss.predict(back, xt, type="prob", device=DEVICE),
                                  ss.predict(model, xt, type="prob", device=DEVICE))
    assert [r["trainable"] for r in back.layers()] == [r["trainable"] for r in model.layers()]


def test_load_rejects_other_files_and_save_leaves_disk_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="is not a valid selfsup model"):
        ss.load_model(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ss.load_model(tmp_path / "missing.safetensors")
    with pytest.raises(FileNotFoundError, match="folder"):
        ss.save_model(ss.build_model((8, 8), 10), tmp_path / "no" / "m.safetensors")
    with pytest.raises(TypeError, match="`model` must be a selfsup Model"):
        ss.save_model("not a model", tmp_path / "m.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
