"""Pseudo-labels, label spreading and FixMatch: agreement with scikit-learn, histories, errors."""
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.semi_supervised import LabelSpreading

import selfsup as ss
from selfsup.augment import strong_augment, weak_augment
from selfsup.semi_supervised import (FixMatch, LabelSpreadingResult, fit_fixmatch, fit_pseudo_label,
                                     label_spreading, select_pseudo_labels)
from selfsup.supervised import predict

DIGITS = load_digits()
X = DIGITS.data                                  # (1797, 64)
Y = DIGITS.target
IMAGES = (DIGITS.images[:300] * 15).astype(np.uint8)
ACCURACY_POINTS = 0.01                           # "within 1 point"


def partial(y, n_labelled, seed=0):
    out = np.full_like(y, -1)
    keep = np.random.default_rng(seed).permutation(len(y))[:n_labelled]
    out[keep] = y[keep]
    return out


@pytest.mark.parametrize("n_neighbors, alpha", [(7, 0.2), (10, 0.8)])
def test_label_spreading_matches_sklearn_knn_kernel(n_neighbors, alpha):
    yp = partial(Y, 150)
    ours = label_spreading(X, yp, n_neighbors=n_neighbors, alpha=alpha, max_iter=100, device="cpu")
    ref = LabelSpreading(kernel="knn", n_neighbors=n_neighbors, alpha=alpha, max_iter=100).fit(X, yp)
    assert isinstance(ours, LabelSpreadingResult)
    assert abs((ours.labels == Y).mean() - (ref.transduction_ == Y).mean()) <= ACCURACY_POINTS
    assert (ours.labels == ref.transduction_).mean() > 0.99
    assert ours.distributions.shape == (len(X), 10)
    np.testing.assert_allclose(ours.distributions.sum(1), 1)
    assert ours.iterations == len(ours.history) and ours.history[-1]["change"] < 1e-3


def test_label_spreading_on_images_and_named_classes():
    yp = partial(DIGITS.target[:300], 60)
    res = label_spreading(IMAGES, yp, classes=[f"d{i}" for i in range(10)], device="cpu")
    assert res.classes[3] == "d3" and res.labels.shape == (300,)


def test_pseudo_label_rounds_are_in_the_history():
    yp = partial(DIGITS.target[:300], 100)
    model = fit_pseudo_label(IMAGES, yp, threshold=0.1, rounds=2, epochs=2, seed=0, device="cpu",
                             verbose=False, validation_split=0.2)
    assert model.task == "pseudo_label" and model.classes == [str(i) for i in range(10)]
    assert [r["round"] for r in model.history] == [0, 0, 1, 2]
    assert model.history[0]["pseudo_labelled"] == 0 and model.history[-1]["pseudo_labelled"] > 0
    assert "val_accuracy" in model.history[-1]
    assert predict(model, IMAGES[:4]).shape == (4,)


def test_pseudo_label_same_seed_same_model():
    yp = partial(DIGITS.target[:300], 100)
    a = fit_pseudo_label(IMAGES, yp, threshold=0.1, rounds=1, epochs=1, seed=4, device="cpu", verbose=False)
    b = fit_pseudo_label(IMAGES, yp, threshold=0.1, rounds=1, epochs=1, seed=4, device="cpu", verbose=False)
    np.testing.assert_array_equal(predict(a, IMAGES, type="prob"), predict(b, IMAGES, type="prob"))


def test_fixmatch_trains_with_mask_rate_and_validation():
    yp = partial(DIGITS.target[:300], 100)
    model = fit_fixmatch(IMAGES, yp, threshold=0.0, mu=2, epochs=2, batch_size=16, validation_split=0.2,
                         seed=0, device="cpu", verbose=False)
    assert model.task == "fixmatch" and len(model.history) == 2
    row = model.history[-1]
    assert row["mask_rate"] == 1.0          # threshold 0: every unlabelled image is used
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(row)


def test_fixmatch_task_batches_and_loss():
    gen = torch.Generator().manual_seed(0)
    pool = torch.from_numpy(IMAGES[:50]).unsqueeze(1)
    task = FixMatch(pool, mu=3, threshold=0.5, lambda_u=1.0, flip=True)
    x, y = pool[:4], torch.arange(4)
    inputs, targets = task.batch(x, y, gen)
    assert inputs.shape == (4 + 2 * 3 * 4, 1, 8, 8) and inputs.dtype == torch.float32
    logits = torch.zeros(len(inputs), 10)
    logits[4:16, 2] = 10.0                 # confident weak views -> pseudo-label 2
    assert task.metrics(logits, targets)["mask_rate"] == 1.0
    expected = torch.nn.functional.cross_entropy(logits[:4], y) + torch.nn.functional.cross_entropy(
        logits[16:], torch.full((12,), 2))
    assert torch.isclose(task.loss(logits, targets), expected)
    with torch.no_grad():                  # evaluation: plain classification
        inputs, _ = task.batch(x, y, gen)
    assert inputs.shape == (4, 1, 8, 8)


def test_augmentations_keep_shape_and_range():
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(6, 1, 8, 8)
    for aug in (weak_augment, strong_augment):
        out = aug(x, gen, flip=True)
        assert out.shape == x.shape and out.min() >= -1e-6 and out.max() <= 1 + 1e-6
        assert not torch.equal(out, x)


ALL_NA = np.full(300, -1)
ONE_CLASS = np.where(np.arange(300) < 20, 3, -1)
ALL_LABELLED = DIGITS.target[:300]


@pytest.mark.parametrize("fn", [label_spreading, fit_pseudo_label, fit_fixmatch])
@pytest.mark.parametrize("y, match", [
    (ALL_NA, r"`y` has no labelled samples \(all 300 are -1/NA\)"),
    (ONE_CLASS, r"`y` labels only one class \(3\)"),
    (np.full(299, -1), r"`y` has 299 labels but `x` has 300 samples"),
    (np.full(300, -2), r"`y` must hold -1 \(unlabelled\) or class indices"),
])
def test_bad_labels_name_the_argument(fn, y, match):
    with pytest.raises(ValueError, match=match):
        fn(IMAGES, y, device="cpu")


@pytest.mark.parametrize("call, match", [
    (lambda: fit_pseudo_label(IMAGES, ALL_LABELLED), r"`y` has no unlabelled samples"),
    (lambda: fit_fixmatch(IMAGES, ALL_LABELLED), r"`y` has no unlabelled samples"),
    (lambda: label_spreading(X[:5], partial(Y[:5], 3), n_neighbors=5), r"`n_neighbors` is 5 but"),
    (lambda: label_spreading(X, partial(Y, 50), alpha=1.0), r"`alpha` must be in \(0.0, 1.0\)"),
    (lambda: fit_fixmatch(IMAGES, partial(DIGITS.target[:300], 50), threshold=1.5),
     r"`threshold` must be in \[0.0, 1.0\]"),
    (lambda: fit_fixmatch(X, partial(Y, 50)), r"`x` must have 3 or 4 dimensions"),
    (lambda: fit_pseudo_label(IMAGES, partial(DIGITS.target[:300], 50), rounds=-1), r"`rounds` must be at least 0"),
])
def test_bad_settings_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------ issue 11: the faithful recipes
def test_fixmatch_teacher_gives_pseudo_labels_outside_the_training_pass():
    """With an eval-mode or EMA teacher the training pass sees [weak labelled | strong pool] only, and the
    pseudo-labels are the teacher's classes where it is sure enough."""
    gen = torch.Generator().manual_seed(0)
    pool = torch.from_numpy(IMAGES[:50]).unsqueeze(1)
    teacher = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    with torch.no_grad():
        teacher[1].weight.zero_()
        teacher[1].bias.copy_(torch.arange(10.0) * 2)     # always class 9, probability ~0.86
    y = torch.arange(4)
    for threshold, pseudo in ((0.5, 9), (0.9, -1)):           # -1: not sure enough, not learnt from
        task = FixMatch(pool, mu=3, threshold=threshold, lambda_u=1.0, flip=False, teacher="eval")
        inputs, targets = task.batch(pool[:4], y, gen, teacher=teacher)
        assert inputs.shape == (4 + 3 * 4, 1, 8, 8) and teacher.training
        assert targets.tolist() == [0, 1, 2, 3] + [pseudo] * 12
    logits = torch.zeros(16, 10)
    logits[4:, 2] = 5.0
    expected = torch.nn.functional.cross_entropy(logits[:4], y)        # mask 0: the labelled loss only
    assert torch.isclose(task.loss(logits, targets), expected)
    assert task.metrics(logits, targets)["mask_rate"] == 0.0
    sure = torch.cat([y, torch.full((12,), 9)])
    unsup = torch.nn.functional.cross_entropy(logits[4:], torch.full((12,), 9))
    assert torch.isclose(task.loss(logits, sure), expected + unsup)
    assert task.metrics(logits, sure)["mask_rate"] == 1.0
    with torch.no_grad():                                              # validation: plain classification
        assert torch.isclose(task.loss(logits[:4], y), expected)


def test_fixmatch_pool_includes_the_labelled_images_and_ema_is_the_model_returned():
    yp = partial(DIGITS.target[:300], 100)
    seen = {}
    original = FixMatch.__init__

    def spy(self, unlabelled, *args, **kwargs):
        seen["pool"] = len(unlabelled)
        original(self, unlabelled, *args, **kwargs)

    FixMatch.__init__ = spy
    try:
        model = fit_fixmatch(IMAGES, yp, epochs=1, batch_size=16, mu=2, validation_split=0.2, teacher="ema",
                             seed=0, device="cpu", verbose=False)
    finally:
        FixMatch.__init__ = original
    assert seen["pool"] == 300 - 20          # every image but the 20 held-out labelled ones
    assert model.history[-1]["mask_rate"] >= 0
    with pytest.raises(ValueError, match='`teacher` "ema" needs a moving average'):
        fit_fixmatch(IMAGES, yp, teacher="ema", ema=0, device="cpu")


@pytest.mark.parametrize("teacher, trained_weights", [("eval", True), ("ema", False)])
def test_fixmatch_teacher_is_the_network_asked_for(monkeypatch, teacher, trained_weights):
    """With `ema` > 0 the loop keeps both networks: "eval" must label with the trained weights (they get
    gradients), "ema" with the averaged ones (no gradients), whatever else the fit averages."""
    yp = partial(DIGITS.target[:300], 100)
    seen = []
    original = FixMatch.batch

    def spy(self, x, y, gen, teacher=None):
        if teacher is not None:
            seen.append(next(teacher.parameters()).requires_grad)
        return original(self, x, y, gen, teacher=teacher)

    monkeypatch.setattr(FixMatch, "batch", spy)
    fit_fixmatch(IMAGES, yp, epochs=1, batch_size=32, mu=1, teacher=teacher, ema=0.9, seed=0, device="cpu",
                 verbose=False)
    assert seen and set(seen) == {trained_weights}


def test_fixmatch_refuses_float_images_outside_0_1():
    """RandAugment's equalize, posterize and solarize work on pixels in [0, 1]; standardised images crashed
    deep in a histogram. The error names `x` and its range, before any training."""
    yp = partial(DIGITS.target[:300], 100)
    standardised = (IMAGES - IMAGES.mean()) / IMAGES.std()
    with pytest.raises(ValueError, match=r"`x` holds values from -0\.\d+ to \d+\.\d+.*\[0, 1\]"):
        fit_fixmatch(standardised.astype(np.float32), yp, epochs=1, device="cpu", verbose=False)
    model = fit_fixmatch((IMAGES / 255).astype(np.float32), yp, epochs=1, batch_size=64, mu=1, seed=0,
                         device="cpu", verbose=False)
    assert model.history[-1]["loss"] > 0


def test_fixmatch_continues_a_given_model():
    yp = partial(DIGITS.target[:300], 100)
    lab = yp >= 0
    base = ss.fit_supervised(IMAGES[lab], yp[lab], encoder="convnet", epochs=1, seed=0, device="cpu", verbose=False)
    before = ss.get_weights(base)["output.weight"].copy()
    out = fit_fixmatch(IMAGES, yp, model=base, epochs=1, mu=1, seed=0, device="cpu", verbose=False)
    assert out is base and out.task == "fixmatch" and len(out.history) == 2
    assert not np.array_equal(before, ss.get_weights(out)["output.weight"])


@pytest.mark.parametrize("selection, balanced, expected", [
    ("threshold", False, [0, 1, 2, 3, 5]),      # confidence >= 0.6
    ("threshold", True, [0, 1, 3, 5]),          # 2 each, as class 0 has: class 1 keeps 0.99 and 0.9, not 0.8
    ("curriculum", False, [0, 3]),              # the most confident 2 of 6 (share 1/3)
    ("curriculum", True, [0, 3]),               # 1 per class (share 1/3 of 6 over 2 classes)
])
def test_pseudo_label_selection_rules(selection, balanced, expected):
    probs = np.array([[0.95, 0.05], [0.7, 0.3], [0.2, 0.8], [0.01, 0.99], [0.55, 0.45], [0.1, 0.9]])
    keep, labels = select_pseudo_labels(probs, selection, 0.6, 1 / 3, balanced)
    assert keep.tolist() == expected and labels.tolist() == probs[expected].argmax(1).tolist()


def test_pseudo_label_fresh_restarts_from_the_first_weights():
    """fresh: each round starts again from the weights before round 0, so a fresh round trained on no
    pseudo-labels equals round 0 trained once more from the start."""
    yp = partial(DIGITS.target[:300], 100)
    kw = dict(threshold=0.0, rounds=1, epochs=1, round_epochs=1, seed=3, device="cpu", verbose=False)
    fresh = fit_pseudo_label(IMAGES, yp, fresh=True, **kw)
    continued = fit_pseudo_label(IMAGES, yp, fresh=False, **kw)
    assert [r["round"] for r in fresh.history] == [0, 1] and fresh.history[1]["pseudo_labelled"] > 0
    assert fresh.history[0] == continued.history[0]
    assert fresh.history[1]["loss"] != continued.history[1]["loss"]


def test_pseudo_label_fresh_restarts_batch_norm_statistics_too():
    """A fresh round restarts the whole network, buffers included: the convnet's batch count after round 1
    is round 1's batches alone (it was rounds 0 + 1 while only the weights were restored)."""
    yp = partial(DIGITS.target[:300], 100)
    model = fit_pseudo_label(IMAGES, yp, fresh=True, threshold=0.0, rounds=1, epochs=2, round_epochs=1,
                             batch_size=32, encoder="convnet", seed=3, device="cpu", verbose=False)
    batches = -(-(100 + model.history[-1]["pseudo_labelled"]) // 32)
    assert int(model.net.state_dict()["encoder.block1.bn.num_batches_tracked"]) == batches


def test_label_spreading_on_learned_features_uses_the_model():
    yp = partial(DIGITS.target[:300], 60)
    pre = ss.ssl_pretrain(IMAGES, "rotation", epochs=1, seed=0, device="cpu", verbose=False)
    on_features = label_spreading(IMAGES, yp, model=pre, layer="dense1", device="cpu")
    feats = ss.ssl_embed(pre, IMAGES, layer="dense1", device="cpu")
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    np.testing.assert_array_equal(on_features.distributions, label_spreading(feats, yp, device="cpu").distributions)
