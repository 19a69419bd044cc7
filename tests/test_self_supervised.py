"""ssl_pretrain / ssl_finetune / ssl_embed / ssl_evaluate / ssl_tasks / ssl_show: the self-supervised API."""
import warnings

import numpy as np
import torch
import pytest

import selfsup as ss
from selfsup.self_supervised import (PROBE_CS, linear_probe, plot_ssl_show, ssl_embed, ssl_evaluate, ssl_finetune, ssl_pretrain, ssl_show,
                                     ssl_tasks)

from conftest import DEVICE

FIT = dict(epochs=1, batch_size=32, device=DEVICE, verbose=False)
ALL_TASKS = ("rotation", "relative_position", "jigsaw", "inpainting", "colorization", "superresolution",
             "autoencoder", "denoising", "masked_token", "future_frame", "restoration", "simclr",
             "masked_autoencoder")


def weights_equal(a, b):
    wa, wb = ss.get_weights(a), ss.get_weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


@pytest.fixture(scope="module")
def pretrained(small):
    return ssl_pretrain(small[0], "rotation", epochs=2, batch_size=32, seed=0, device=DEVICE, verbose=False)


@pytest.fixture(scope="module")
def big(digits):
    """120 digits blown up to 16x16, with labels, for the patch tasks."""
    x = np.kron(digits["train"]["x"][:120], np.ones((1, 2, 2), dtype=np.uint8))
    return x, digits["train"]["y"][:120]


def test_ssl_tasks_lists_every_task_of_the_seminar_table():
    rows = ssl_tasks()
    assert [r["name"] for r in rows] == list(ALL_TASKS)
    for row in rows:
        assert set(row) == {"name", "modality", "input", "predicts", "reference"}
        assert all(isinstance(v, str) and v for v in row.values())


def test_unknown_task_lists_the_valid_ones(small):
    with pytest.raises(ValueError, match='`task` must be one of "rotation", "relative_position", .*; got \'rotate\''):
        ssl_pretrain(small[0], "rotate", **FIT)


def test_pretrain_is_reproducible(small):
    a = ssl_pretrain(small[0][:96], "rotation", seed=7, **FIT)
    b = ssl_pretrain(small[0][:96], "rotation", seed=7, **FIT)
    c = ssl_pretrain(small[0][:96], "rotation", seed=8, **FIT)
    assert weights_equal(a, b) and a.history == b.history
    assert not weights_equal(a, c)


def test_pretrained_model_saves_and_loads_with_its_task(pretrained, small, tmp_path):
    path = ss.save_model(pretrained, tmp_path / "rot.safetensors")
    back = ss.load_model(path)
    assert back.task == "rotation" and back.spec["pretext"]["name"] == "rotation"
    assert weights_equal(back, pretrained) and back.history == pretrained.history
    np.testing.assert_array_equal(ssl_embed(back, small[0][:9], device=DEVICE),
                                  ssl_embed(pretrained, small[0][:9], device=DEVICE))


def test_supervised_functions_refuse_a_pretext_model(pretrained, small):
    with pytest.raises(ValueError, match="use ssl_finetune"):
        ss.fit_supervised(small[0], small[1], model=pretrained, **FIT)


def test_finetune_copies_the_whole_encoder_and_freezes_it_first(pretrained, small):
    x, y = small[0][:64], small[1][:64]
    frozen_only = ssl_finetune(pretrained, x, y, classes=10, freeze_epochs=2, finetune_epochs=0, seed=1,
                               batch_size=32, device=DEVICE, verbose=False)
    w_pre, w_new = ss.get_weights(pretrained), ss.get_weights(frozen_only)
    encoder = [k for k in w_pre if k.split(".")[0] in ("conv1", "conv2", "dense1")]
    assert frozen_only.spec["transfer"] == {"from_task": "rotation", "copied": encoder, "not_copied": []}
    for k in encoder:  # copied, then untouched while frozen
        np.testing.assert_array_equal(w_new[k], w_pre[k])
    assert frozen_only.classes == [str(i) for i in range(10)]
    assert len(frozen_only.history) == 2

    full = ssl_finetune(pretrained, x, y, classes=10, freeze_epochs=1, finetune_epochs=2, seed=1,
                        batch_size=32, device=DEVICE, verbose=False)
    assert [r["epoch"] for r in full.history] == [1, 2, 3]
    assert all(row["trainable"] for row in full.layers() if row["params"])  # unfrozen at the end
    assert not np.array_equal(ss.get_weights(full)["conv1.weight"], w_pre["conv1.weight"])
    losses = [row["loss"] for row in full.history]
    assert losses[0] > losses[1] > losses[2]            # both phases train (3 short epochs: near chance)
    scored = ss.evaluate(full, small[2], small[3], device=DEVICE)["accuracy"]
    assert scored == pytest.approx(np.mean(ss.predict(full, small[2], device=DEVICE) == small[3]))
    # the pretrained model itself is not changed by fine-tuning
    np.testing.assert_array_equal(ss.get_weights(pretrained)["conv1.weight"], w_pre["conv1.weight"])


def test_finetune_copies_batch_norm_statistics(small):
    """The convnet's pretrained running statistics travel with its weights: eval mode of the fine-tuned
    model normalises the features as the pretrained encoder did."""
    from selfsup.self_supervised import _copy_encoder
    pre = ss.ssl_pretrain(small[0][:128], "rotation", encoder="convnet", epochs=1, batch_size=32, seed=0,
                          device=DEVICE, verbose=False)
    target = ss.build_model(small[0].shape[1:], 10, encoder="convnet", seed=1)
    _copy_encoder(pre, target)
    theirs, ours = pre.net.encoder.state_dict(), target.net.encoder.state_dict()
    assert int(theirs["block1.bn.num_batches_tracked"]) == 4    # 128 images / 32 a batch, 1 epoch
    for name, value in theirs.items():
        torch.testing.assert_close(ours[name], value, msg=name)


def test_convnet_features_are_read_at_pool2_by_default(small):
    """The convnet's default probe layer is its last pooled block (it probes far better than the global
    average after rotation and SimCLR; see PROBE_LAYERS)."""
    pre = ss.ssl_pretrain(small[0][:64], "rotation", encoder="convnet", epochs=1, batch_size=32, seed=0,
                          device=DEVICE, verbose=False)
    default = ssl_embed(pre, small[0][:5], device=DEVICE)
    np.testing.assert_array_equal(default, ssl_embed(pre, small[0][:5], layer="pool2", device=DEVICE))
    assert default.shape[1] != ssl_embed(pre, small[0][:5], layer="gap", device=DEVICE).shape[1]


def test_finetune_is_reproducible(pretrained, small):
    args = dict(freeze_epochs=1, finetune_epochs=1, seed=2, batch_size=32, device=DEVICE, verbose=False)
    a = ssl_finetune(pretrained, small[0][:64], small[1][:64], **args)
    b = ssl_finetune(pretrained, small[0][:64], small[1][:64], **args)
    assert weights_equal(a, b) and a.history == b.history


def test_finetune_from_a_patch_encoder_warns_about_what_it_cannot_copy(big):
    x, y = big
    model = ssl_pretrain(x, "relative_position", seed=0, **FIT)
    with pytest.warns(UserWarning, match=r"dense1.weight, dense1.bias.*Copied: conv1.weight"):
        tuned = ssl_finetune(model, x, y, freeze_epochs=1, finetune_epochs=1, seed=0, batch_size=32,
                             device=DEVICE, verbose=False)
    transfer = tuned.spec["transfer"]
    assert transfer["not_copied"] == ["dense1.weight", "dense1.bias"]
    assert transfer["copied"] == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"]
    assert tuned.input_shape == (16, 16)


def test_finetune_checks_its_arguments(pretrained, small):
    x, y = small[0][:20], small[1][:20]
    with pytest.raises(TypeError, match="`pretrained` must be a selfsup Model"):
        ssl_finetune("model", x, y)
    with pytest.raises(ValueError, match="both 0"):
        ssl_finetune(pretrained, x, y, freeze_epochs=0, finetune_epochs=0)
    with pytest.raises(ValueError, match="`y` has 19 labels but `x` has 20"):
        ssl_finetune(pretrained, x, y[:19])
    text = ssl_pretrain(["the cat sat on the mat"] * 8, "masked_token", seed=0, **FIT)
    with pytest.raises(ValueError, match="'transformer' encoder \\(task 'masked_token'\\)"):
        ssl_finetune(text, x, y)


def test_embed_gives_encoder_features(pretrained, small, big):
    """By default the seminar CNN's convolution block (32 maps of 2x2 on 8x8 digits); any layer by name
    or position."""
    feats = ssl_embed(pretrained, small[0][:10], device=DEVICE)
    assert feats.shape == (10, 32 * 2 * 2) and feats.dtype == np.float32
    assert ssl_embed(pretrained, small[0][:10], layer="dense1", device=DEVICE).shape == (10, 256)
    np.testing.assert_array_equal(ssl_embed(pretrained, small[0][:10], layer=5, device=DEVICE), feats)  # drop2
    with pytest.raises(ValueError, match=r"`layer` 'dense9' is not a layer of the encoder; its layers are: conv1"):
        ssl_embed(pretrained, small[0], layer="dense9", device=DEVICE)
    with pytest.raises(ValueError, match=r"`layer` must be a position 0..8 of the 9 encoder layers; got 9."):
        ssl_embed(pretrained, small[0], layer=9, device=DEVICE)
    with pytest.raises(ValueError, match=r"samples of shape \(16, 16\), but the model was pretrained on \(8, 8\)"):
        ssl_embed(pretrained, big[0], device=DEVICE)
    jig = ssl_pretrain(big[0], "jigsaw", seed=0, **FIT)
    assert ssl_embed(jig, big[0][:4], layer="dense1", device=DEVICE).shape == (4, 9 * 256)  # every tile's features
    classifier = ss.fit_supervised(small[0], small[1], seed=0, **FIT)
    assert ssl_embed(classifier, small[0][:3], layer=8, device=DEVICE).shape == (3, 256)


def test_probe_penalty_is_tuned_on_the_training_labels():
    """Cross-validation picks the strongest penalty when the labels are noise, a weak one when the
    features separate the classes; a given C is used as given."""
    rng = np.random.default_rng(0)
    f = rng.normal(size=(60, 20))
    noise = np.repeat(np.arange(3), 20)
    assert linear_probe(f, noise)[1] == PROBE_CS[0]
    separable = f.copy()
    separable[:, 0] += 10 * noise
    assert linear_probe(separable, noise)[1] >= 1.0
    assert linear_probe(f, noise, C=0.5)[1] == 0.5
    with pytest.warns(UserWarning, match="needs at least 2 labelled samples of every class.*used C = 1"):
        assert linear_probe(f[:21], noise[:21])[1] == 1.0


def test_probe_scaler_sees_only_each_folds_training_rows(monkeypatch):
    """The penalty's cross-validation standardises inside each fold (a scaler fitted on all labelled rows
    would leak the validation rows' mean and spread); only the final probe's scaler sees all 60 rows."""
    from sklearn.preprocessing import StandardScaler

    rows, fit = [], StandardScaler.fit
    monkeypatch.setattr(StandardScaler, "fit", lambda self, X, *a, **k: rows.append(len(X)) or fit(self, X, *a, **k))
    f = np.random.default_rng(0).normal(size=(60, 4))
    linear_probe(f, np.repeat(np.arange(3), 20))
    assert rows == [48] * (5 * len(PROBE_CS)) + [60]  # 5 folds x 7 penalties on 4/5 of the rows, then all

@pytest.mark.parametrize("protocol", ["linear", "knn"])
def test_evaluate_matches_sklearn_on_the_embeddings(protocol, pretrained, small):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler, normalize
    x, y, xt, yt = small
    got = ssl_evaluate(pretrained, x, y, xt, yt, protocol=protocol, device=DEVICE)
    ftr, fte = ssl_embed(pretrained, x, device=DEVICE), ssl_embed(pretrained, xt, device=DEVICE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if protocol == "linear":
            assert got["C"] in PROBE_CS and got["layer"] == "drop2"
            scaler = StandardScaler().fit(ftr)
            ref = LogisticRegression(C=got["C"], max_iter=1000).fit(scaler.transform(ftr), y).score(
                scaler.transform(fte), yt)
        else:
            ref = KNeighborsClassifier(5).fit(normalize(ftr), y).score(normalize(fte), yt)
    assert got["accuracy"] == pytest.approx(ref)
    assert got["protocol"] == protocol and got["n_train"] == 200 and got["n_test"] == 60
    assert got["accuracy"] > 0.3  # chance is 0.1: rotation features already separate digits


def test_evaluate_checks_protocol(pretrained, small):
    with pytest.raises(ValueError, match='`protocol` must be one of "linear", "knn"'):
        ssl_evaluate(pretrained, *small, protocol="svm")


def test_show_with_a_model_adds_its_predictions(pretrained, small):
    shown = ssl_show(small[0], model=pretrained, n=6, seed=3)
    assert shown["task"] == "rotation" and shown["inputs"].shape == (6, 8, 8)
    assert shown["outputs"].shape == (6,) and set(shown["outputs"]) <= {0, 1, 2, 3}
    assert shown["target_names"][1] == "90 degrees"
    again = ssl_show(small[0], model=pretrained, n=6, seed=3)
    np.testing.assert_array_equal(shown["targets"], again["targets"])
    with pytest.raises(ValueError, match="pretrained with 'rotation'"):
        ssl_show(small[0], "jigsaw", model=pretrained)


@pytest.mark.parametrize("task", ["rotation", "jigsaw", "simclr"])
def test_plot_ssl_show_draws_a_figure(task, big, tmp_path):
    pytest.importorskip("matplotlib")  # an optional dependency: pip install matplotlib
    import matplotlib
    matplotlib.use("Agg")
    fig = plot_ssl_show(ssl_show(big[0], task, n=3, seed=0))
    assert len(fig.axes) == 3 * {"rotation": 1, "jigsaw": 9, "simclr": 2}[task]
    fig.savefig(tmp_path / "show.png")


def test_plot_ssl_show_handles_text_signals_and_target_images(big):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    text = ssl_show(["the cat sat on the mat", "the dog sat on the log"] * 4, "masked_token", n=2)
    signal = ssl_show(np.sin(np.linspace(0, 20, 64))[None].repeat(4, 0), "restoration", n=2)
    images = ssl_show(big[0], "inpainting", n=2)
    assert images["targets"].shape == (2, 16, 16)
    for shown, panels in ((text, 1), (signal, 2), (images, 2)):
        assert len(plot_ssl_show(shown).axes) == 2 * panels
