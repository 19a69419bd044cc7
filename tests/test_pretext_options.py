"""Pretext task options and encoders are checked once, at the boundary, from a declared schema;
the checked value is what the task uses and what the model saves."""
import numpy as np
import pytest

from selfsup import demo_data as dd
from selfsup.model import load_model, save_model
from selfsup.pretext import TASKS
from selfsup.pretext.options import Option
from selfsup.self_supervised import ssl_pretrain

from conftest import DEVICE

FIT = dict(epochs=1, batch_size=16, seed=1, device=DEVICE, verbose=False)


@pytest.fixture(scope="module")
def x(digits):
    return digits["train"]["x"][:32]


@pytest.mark.parametrize("task, encoder, valid", [
    ("rotation", "transformer", '"cnn", "mlp", "convnet"'),     # was: TypeError ... missing 'vocab_size'
    ("rotation", "cnn1d", '"cnn", "mlp", "convnet"'),           # was: "too many values to unpack"
    ("rotation", "dense_ae", '"cnn", "mlp", "convnet"'),        # was: a rotation net with a 2-unit bottleneck
    ("inpainting", "conv_ae", '"cnn", "mlp", "convnet"'),
    ("restoration", "transformer", '"cnn", "cnn1d", "mlp"'),
    ("masked_token", "cnn1d", '"cnn", "transformer"'),
    ("rotation", 3, '"cnn", "mlp", "convnet"'),
])
def test_encoder_must_be_one_the_task_can_use(task, encoder, valid, x):
    data = {"restoration": dd.audio_signals(8, samples=32, seed=0), "masked_token": ["a b a b c"] * 4}.get(task, x)
    with pytest.raises(ValueError, match=f"`encoder` must be one of {valid} for task \"{task}\".*; got "):
        ssl_pretrain(data, task, encoder=encoder, **FIT)


def test_every_task_declares_its_options_and_encoders():
    for name, cls in TASKS.items():
        assert all(isinstance(o, Option) for o in cls.schema.values()), name
        assert cls().options == {k: o.default for k, o in cls.schema.items()}, name   # defaults pass their own check
        assert set(cls.encoders) >= {"cnn"}, name                                       # the default encoder= works


@pytest.mark.parametrize("task, given, stored", [
    ("superresolution", {"factor": 2.0}, {"factor": 2}),                     # R's 2 is a double
    ("denoising", {"level": np.float32(0.5)}, {"level": 0.5}),
    ("masked_autoencoder", {"patch": np.int64(2), "mask_ratio": np.float64(0.5)}, {"patch": 2, "mask_ratio": 0.5}),
    ("jigsaw", {"grid": 2.0, "n_permutations": np.int32(3)}, {"grid": 2, "n_permutations": 3}),
    ("simclr", {"flip": np.bool_(False), "projection_dim": 8.0}, {"flip": False, "projection_dim": 8}),
    ("masked_token", {"vocab": np.array(["[PAD]", "[UNK]", "[MASK]", "a"])}, {"vocab": ["[PAD]", "[UNK]", "[MASK]", "a"]}),
])
def test_options_keep_the_checked_plain_python_value(task, given, stored):
    options = TASKS[task](**given).options
    for name, value in stored.items():
        assert options[name] == value and type(options[name]) is type(value), name


def test_checked_options_train_and_save(x, tmp_path):
    """factor=2.0 used to crash inside torch; level=np.float32(0.3) used to train and then fail to save
    ("float32 is not JSON serializable")."""
    sr = ssl_pretrain(x, "superresolution", factor=2.0, **FIT)
    noisy = ssl_pretrain(x, "denoising", level=np.float32(0.3), **FIT)
    back = load_model(save_model(noisy, tmp_path / "denoising.safetensors"))
    assert back.spec["pretext"]["options"] == {"noise": "gaussian", "level": float(np.float32(0.3))}
    assert sr.spec["pretext"]["options"] == {"factor": 2}


@pytest.mark.parametrize("task, options, error, message", [
    ("rotation", {"all_rotations": "yes"}, TypeError, r"`all_rotations` must be True or False; got 'yes'"),
    ("simclr", {"flip": "no"}, TypeError, r"`flip` must be True or False; got 'no'"),
    ("simclr", {"temperature": 0}, ValueError, r"`temperature` must be in \(0.0, None\]; got 0"),
    ("superresolution", {"factor": 2.5}, TypeError, r"`factor` must be a whole number; got 2.5"),
    ("superresolution", {"factor": 1}, ValueError, r"`factor` must be at least 2; got 1"),
    ("denoising", {"noise": "masking", "level": 1.5}, ValueError, r"`level` must be in \(0.0, 1.0\); got 1.5"),
    ("inpainting", {"where": "edge"}, ValueError, r'`where` must be one of "centre", "random"; got \'edge\''),
    ("jigsaw", {"patch_size": 2}, ValueError, r"`patch_size` must be at least 4; got 2"),
    ("future_frame", {"context": 0}, ValueError, r"`context` must be at least 1; got 0"),
    ("masked_token", {"vocab": "hello"}, TypeError, r"`vocab` must be a list of words \(strings\); got str"),
    ("masked_token", {"vocab": ["[PAD]", 3]}, TypeError, r"`vocab` must be a list of words \(strings\); it holds 3"),
])
def test_bad_option_values_are_rejected_when_the_task_is_made(task, options, error, message):
    with pytest.raises(error, match=message):
        TASKS[task](**options)
