"""k_means, pca and the autoencoder: agreement with scikit-learn, shapes, errors."""
import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from selfsup.model import load_model, save_model
from selfsup.train import forward_all
from selfsup.unsupervised import (KMeansResult, PCAResult, encode, fit_autoencoder, k_means, pca, pca_inverse,
                                  pca_transform, reconstruct)

DIGITS = load_digits().data            # (1797, 64) float, values 0..16
IMAGES = load_digits().images[:200]    # (200, 8, 8)
PIXELS = (IMAGES * 15).astype(np.uint8)
RTOL_INERTIA = 0.01
ATOL_RATIO = 1e-5


@pytest.mark.parametrize("n_components", [2, 10, 64])
def test_pca_explained_variance_ratio_matches_sklearn(n_components):
    ours = pca(DIGITS, n_components, device="cpu")
    ref = PCA(n_components).fit(DIGITS)
    np.testing.assert_allclose(ours.explained_variance_ratio, ref.explained_variance_ratio_, atol=ATOL_RATIO)
    np.testing.assert_allclose(ours.explained_variance, ref.explained_variance_, rtol=1e-6, atol=1e-10)
    # same subspace: scores agree up to each component's sign
    np.testing.assert_allclose(np.abs(ours.scores), np.abs(ref.transform(DIGITS)), atol=1e-6)


def test_pca_transform_and_inverse_round_trip():
    res = pca(IMAGES, 5, device="cpu")
    assert isinstance(res, PCAResult) and res.sample_shape == (8, 8)
    np.testing.assert_allclose(pca_transform(res, IMAGES), res.scores, atol=1e-8)
    back = pca_inverse(res, res.scores)
    assert back.shape == IMAGES.shape
    ref = PCA(5).fit(IMAGES.reshape(200, -1))
    np.testing.assert_allclose(back.reshape(200, -1), ref.inverse_transform(ref.transform(IMAGES.reshape(200, -1))),
                               atol=1e-8)
    full = pca(IMAGES, 64, device="cpu")
    np.testing.assert_allclose(pca_inverse(full, full.scores), IMAGES, atol=1e-8)


@pytest.mark.parametrize("k", [3, 10])
def test_k_means_inertia_within_one_percent_of_sklearn(k):
    ours = k_means(DIGITS, k, n_init=5, seed=0, device="cpu")
    ref = KMeans(k, n_init=5, random_state=0).fit(DIGITS)
    assert abs(ours.inertia - ref.inertia_) <= RTOL_INERTIA * ref.inertia_
    # the reported inertia is the one of the reported labels and centres
    assert np.isclose(ours.inertia, ((DIGITS - ours.centers[ours.labels]) ** 2).sum(), rtol=1e-5)


def test_k_means_result_shapes_and_determinism():
    a = k_means(IMAGES, 4, n_init=2, seed=3, device="cpu")
    b = k_means(IMAGES, 4, n_init=2, seed=3, device="cpu")
    assert isinstance(a, KMeansResult)
    assert a.labels.shape == (200,) and a.labels.dtype == np.int64 and set(a.labels) <= set(range(4))
    assert a.centers.shape == (4, 8, 8) and 1 <= a.iterations <= 300
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.inertia == b.inertia


def test_k_means_with_k_equal_n_has_zero_inertia():
    assert k_means(DIGITS[:6], 6, seed=0, device="cpu").inertia == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_autoencoder_embeds_reconstructs_and_saves(kind, tmp_path):
    model = fit_autoencoder(PIXELS, latent_dim=2, kind=kind, epochs=2, seed=1, device="cpu", verbose=False)
    assert model.task == "autoencoder" and len(model.history) == 2
    assert model.history[1]["loss"] < model.history[0]["loss"]
    codes = encode(model, PIXELS)
    assert codes.shape == (200, 2) and np.isfinite(codes).all()
    rec = reconstruct(model, PIXELS[:5])
    # the net's sigmoid outputs (5, 1, 8, 8) back on the pixels' 0..255 scale, shaped like the input
    out = forward_all(model.net, PIXELS[:5], torch.device("cpu")).numpy()
    assert rec.shape == (5, 8, 8) and rec.max() > 1
    np.testing.assert_allclose(rec, out.reshape(5, 8, 8) * 255, rtol=1e-6)
    again = load_model(save_model(model, tmp_path / "ae.safetensors"))
    np.testing.assert_array_equal(encode(again, PIXELS), codes)


def test_autoencoder_on_feature_matrix_and_seed():
    a = fit_autoencoder(DIGITS[:100], latent_dim=3, epochs=1, seed=2, device="cpu", verbose=False)
    b = fit_autoencoder(DIGITS[:100], latent_dim=3, epochs=1, seed=2, device="cpu", verbose=False)
    np.testing.assert_array_equal(encode(a, DIGITS[:100]), encode(b, DIGITS[:100]))
    assert reconstruct(a, DIGITS[:3]).shape == (3, 64)


@pytest.mark.parametrize("call, match", [
    (lambda: k_means(DIGITS[:5], 6), r"`k` is 6 but the number of samples in `x` is 5"),
    (lambda: k_means(DIGITS, 0), r"`k` must be at least 1; got 0"),
    (lambda: k_means(DIGITS, 2.5), r"`k` must be a whole number"),
    (lambda: k_means(DIGITS[0], 2), r"`x` must have 2 or 3 or 4 dimensions"),
    (lambda: pca(DIGITS, 65), r"`n_components` is 65 but the number of features in `x` is 64"),
    (lambda: pca(DIGITS[:3], 4), r"`n_components` is 4 but the number of samples in `x` is 3"),
    (lambda: pca(DIGITS, 0), r"`n_components` must be at least 1"),
    (lambda: pca_transform(pca(DIGITS, 2), DIGITS[:, :10]), r"`x` has 10 features per sample"),
    (lambda: pca_inverse(pca(DIGITS, 2), np.zeros((3, 5))), r"`scores` must have shape \(n, 2\)"),
    (lambda: fit_autoencoder(DIGITS, kind="vae"), r'`kind` must be one of "dense", "conv"'),
    (lambda: fit_autoencoder(DIGITS, kind="conv"), r"`x` must have 3 or 4 dimensions"),
    (lambda: fit_autoencoder(DIGITS, latent_dim=0), r"`latent_dim` must be at least 1"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_encode_needs_an_autoencoder():
    from selfsup.model import build_model
    with pytest.raises(ValueError, match="need fit_autoencoder"):
        encode(build_model((8, 8), 3, seed=0), PIXELS)
