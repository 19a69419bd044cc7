"""R and Python agree for unsupervised and semi-supervised learning: each R wrapper, called
through rpy2 in this process, against the direct Python call with the same seed, on the CPU.
Exact equality, with R's 1-based clusters and NA-for-unlabelled mapped back."""
import numpy as np
import pytest

import selfsup as ss
from selfsup.semi_supervised import fit_fixmatch, fit_pseudo_label, label_spreading
from selfsup.unsupervised import encode, fit_autoencoder, k_means, pca, pca_inverse, pca_transform, reconstruct

N, N_LABELLED, SEED = 200, 60, 7
FIT_R = f"epochs = 2, batch_size = 32, seed = {SEED}, device = 'cpu', verbose = FALSE"
FIT_PY = dict(epochs=2, batch_size=32, seed=SEED, device="cpu", verbose=False)


@pytest.fixture(scope="module")
def data(r, digits):
    """The same images in R and Python; labels with NA (R) / -1 (Python) after the first N_LABELLED."""
    r(f"d <- load_dataset('digits'); x <- d$train$x[1:{N},,]; y <- d$train$y[1:{N}]; "
      f"yp <- y; yp[-(1:{N_LABELLED})] <- NA; xt <- d$test$x[1:20,,]")
    x, y = digits["train"]["x"][:N], digits["train"]["y"][:N]
    yp = y.copy()
    yp[N_LABELLED:] = -1
    return x, y, yp, digits["test"]["x"][:20]


def test_k_means_identical(r, data):
    x = data[0]
    r(f"km <- k_means(x, 5, n_init = 3, seed = {SEED}, device = 'cpu')")
    py = k_means(x, 5, n_init=3, seed=SEED, device="cpu")
    np.testing.assert_array_equal(r.get("km$cluster") - 1, py.labels)
    np.testing.assert_array_equal(r.get("km$centers"), py.centers)
    assert r.get("km$inertia")[0] == py.inertia
    assert r.get("km$iterations")[0] == py.iterations
    np.testing.assert_array_equal(r.get("summary(km)$within_ss"), py.within_ss)


def test_pca_transform_inverse_identical(r, data):
    x, xt = data[0], data[3]
    r("p <- pca(x, 6, device = 'cpu'); s <- pca_transform(p, xt); b <- pca_inverse(p, s)")
    py = pca(x, 6, device="cpu")
    for field in ("scores", "components", "explained_variance", "explained_variance_ratio", "mean"):
        np.testing.assert_array_equal(r.get(f"unname(p${field})"), getattr(py, field), err_msg=field)
    np.testing.assert_array_equal(r.get("unname(s)"), pca_transform(py, xt))
    np.testing.assert_array_equal(r.get("b"), pca_inverse(py, pca_transform(py, xt)))


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_autoencoder_identical(r, data, kind):
    x, xt = data[0], data[3]
    r(f"ae <- fit_autoencoder(x, latent_dim = 3, kind = '{kind}', {FIT_R})")
    py = fit_autoencoder(x, latent_dim=3, kind=kind, **FIT_PY)
    np.testing.assert_array_equal(r.get("ae$history$loss"), [row["loss"] for row in py.history])
    np.testing.assert_array_equal(r.get("encode(ae, xt, device = 'cpu')"), encode(py, xt, device="cpu"))
    np.testing.assert_array_equal(r.get("reconstruct(ae, xt, device = 'cpu')"), reconstruct(py, xt, device="cpu"))


def test_label_spreading_identical(r, data):
    x, _, yp, _ = data
    r("ls <- label_spreading(x, yp, n_neighbors = 5, alpha = 0.5, device = 'cpu')")
    py = label_spreading(x, yp, n_neighbors=5, alpha=0.5, device="cpu")
    np.testing.assert_array_equal(r.get("as.integer(ls$labels) - 1L"), py.labels)
    np.testing.assert_array_equal(r.get("unname(ls$distributions)"), py.distributions)
    assert list(r("colnames(ls$distributions)")) == py.classes
    np.testing.assert_array_equal(r.get("ls$history$change"), [h["change"] for h in py.history])


def test_pseudo_label_identical(r, data):
    x, _, yp, xt = data
    r(f"pl <- fit_pseudo_label(x, yp, threshold = 0.1, rounds = 2, {FIT_R})")
    py = fit_pseudo_label(x, yp, threshold=0.1, rounds=2, **FIT_PY)
    for col in py.history[0]:
        np.testing.assert_array_equal(r.get(f"pl$history${col}"), [row[col] for row in py.history], err_msg=col)
    np.testing.assert_array_equal(r.get("predict(pl, xt, type = 'prob', device = 'cpu')"),
                                  ss.predict(py, xt, type="prob", device="cpu"))


def test_fixmatch_identical(r, data):
    x, _, yp, xt = data
    r(f"fm <- fit_fixmatch(x, yp, threshold = 0.5, mu = 2, flip = TRUE, {FIT_R})")
    py = fit_fixmatch(x, yp, threshold=0.5, mu=2, flip=True, **FIT_PY)
    for col in py.history[0]:
        np.testing.assert_array_equal(r.get(f"fm$history${col}"), [row[col] for row in py.history], err_msg=col)
    w_r = r.get("get_weights(fm)[['output.weight']]")
    np.testing.assert_array_equal(w_r, ss.get_weights(py)["output.weight"])


def test_recipe_options_identical(r, data):
    """issue 11's options from R: the convnet, weak augmentation, SGD + decay + cosine + EMA, FixMatch from a
    given model with an EMA teacher, curriculum pseudo-labels (fresh restarts; the same model on strong
    views), spreading on features."""
    x, _, yp, xt = data
    recipe_r = "optimizer = 'sgd', weight_decay = 5e-4, schedule = 'cosine', ema = 0.9"
    recipe_py = dict(optimizer="sgd", weight_decay=5e-4, schedule="cosine", ema=0.9)
    r(f"lab <- which(!is.na(yp)); m0 <- fit_supervised(x[lab,,], yp[lab], encoder = 'convnet', augment = 'weak', "
      f"flip = TRUE, {recipe_r}, {FIT_R})")
    lab = np.flatnonzero(yp >= 0)
    m0 = ss.fit_supervised(x[lab], yp[lab], encoder="convnet", augment="weak", flip=True, **recipe_py, **FIT_PY)
    np.testing.assert_array_equal(r.get("m0$history$loss"), [row["loss"] for row in m0.history])
    r(f"fm <- fit_fixmatch(x, yp, model = clone_model(m0), teacher = 'ema', n_ops = 1, threshold = 0.3, mu = 2, {FIT_R})")
    py = fit_fixmatch(x, yp, model=ss.clone_model(m0), teacher="ema", n_ops=1, threshold=0.3, mu=2, **FIT_PY)
    np.testing.assert_array_equal(r.get("as.numeric(na.omit(fm$history$mask_rate))"),  # the FixMatch epochs
                                  [row["mask_rate"] for row in py.history if "mask_rate" in row])
    np.testing.assert_array_equal(r.get("predict(fm, xt, type = 'prob', device = 'cpu')"),
                                  ss.predict(py, xt, type="prob", device="cpu"))
    r(f"pl <- fit_pseudo_label(x, yp, selection = 'curriculum', fresh = TRUE, rounds = 2, augment = 'weak', "
      f"encoder = 'convnet', {recipe_r}, {FIT_R})")
    py = fit_pseudo_label(x, yp, selection="curriculum", fresh=True, rounds=2, augment="weak", encoder="convnet",
                          **recipe_py, **FIT_PY)
    for col in ("loss", "pseudo_labelled", "round"):
        np.testing.assert_array_equal(r.get(f"pl$history${col}"), [row[col] for row in py.history], err_msg=col)
    # the recipe the few-labels benchmark keeps: the same model further, on strong views
    r(f"pl <- fit_pseudo_label(x, yp, selection = 'curriculum', rounds = 2, augment = 'strong', flip = TRUE, "
      f"encoder = 'convnet', {recipe_r}, {FIT_R})")
    py = fit_pseudo_label(x, yp, selection="curriculum", rounds=2, augment="strong", flip=True, encoder="convnet",
                          **recipe_py, **FIT_PY)
    np.testing.assert_array_equal(r.get("pl$history$loss"), [row["loss"] for row in py.history])
    np.testing.assert_array_equal(r.get("predict(pl, xt, type = 'prob', device = 'cpu')"),
                                  ss.predict(py, xt, type="prob", device="cpu"))
    r("ls <- label_spreading(x, yp, model = m0, layer = 3, n_neighbors = 5, device = 'cpu')")
    py = label_spreading(x, yp, model=m0, layer=2, n_neighbors=5, device="cpu")
    np.testing.assert_array_equal(r.get("unname(ls$distributions)"), py.distributions)


R_BAD_INPUT = [
    ("k_means(x, 201)", "`k` is 201 but the number of samples in `x` is 200"),
    ("k_means(x, 0)", "`k` must be at least 1; got 0"),
    ("pca(x, 65)", "`n_components` is 65 but the number of features in `x` is 64"),
    ("label_spreading(x, factor(rep(NA, 200), levels = levels(y)))", "`y` has no labelled samples"),
    ("fit_fixmatch(x, factor(ifelse(y == '3', '3', NA), levels = levels(y)))", "`y` labels only one class ('3')"),
    ("fit_pseudo_label(x, y)", "`y` has no unlabelled samples"),
    ("fit_autoencoder(x, kind = 'vae')", '`kind` must be one of "dense", "conv"'),
    ("fit_fixmatch(x, yp, teacher = 'ema', ema = 0)", '`teacher` "ema" needs a moving average of the weights'),
    ("fit_pseudo_label(x, yp, selection = 'best')", '`selection` must be one of "threshold", "curriculum"'),
    ("fit_supervised(x, y, optimizer = 'lion')", '`optimizer` must be one of "adam", "sgd"'),
]


@pytest.mark.parametrize("code, message", R_BAD_INPUT)
def test_bad_input_is_a_clear_r_error(r, data, code, message):
    got = r.error(code)
    assert message in got, got
    assert "Traceback" not in got and "py_last_error" not in got
