"""R and Python give the same answers: each R wrapper, called through rpy2 in this process,
against the direct Python call with the same seed, on the CPU. Exact equality throughout."""
import numpy as np
import pytest

import selfsup as ss

N, K, SEED = 200, 60, 11
FIT_R = f"epochs = 2, batch_size = 32, validation_split = 0.2, seed = {SEED}, device = 'cpu', verbose = FALSE"
FIT_PY = dict(epochs=2, batch_size=32, validation_split=0.2, seed=SEED, device="cpu", verbose=False)


@pytest.fixture(scope="module")
def fitted(r, digits):
    """The same fit from R and from Python."""
    r(f"d <- load_dataset('digits'); x <- d$train$x[1:{N},,]; y <- d$train$y[1:{N}]; "
      f"xt <- d$test$x[1:{K},,]; yt <- d$test$y[1:{K}]")
    r(f"m <- fit_supervised(x, y, {FIT_R})")
    tr = digits["train"]
    py = ss.fit_supervised(tr["x"][:N], tr["y"][:N], **FIT_PY)
    return py


def r_weights(r, model="m"):
    names = list(r(f"names(get_weights({model}))"))
    return {name: r.get(f"get_weights({model})[['{name}']]") for name in names}


def test_load_dataset_agrees(r, digits):
    r("d <- load_dataset('digits')")
    np.testing.assert_array_equal(r.get("d$train$x"), digits["train"]["x"])
    np.testing.assert_array_equal(r.get("as.integer(d$test$y) - 1L"), digits["test"]["y"])
    assert list(r("d$classes")) == digits["classes"]
    assert list(r("levels(d$train$y)")) == digits["classes"]


def test_fit_supervised_weights_identical(r, fitted):
    got = r_weights(r)
    want = ss.get_weights(fitted)
    assert list(got) == list(want)
    for name in want:
        assert got[name].shape == want[name].shape
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_history_identical(r, fitted):
    for col in fitted.history[0]:
        np.testing.assert_array_equal(r.get(f"m$history${col}"), [row[col] for row in fitted.history])


def test_predict_and_evaluate_identical(r, fitted, digits):
    xt, yt = digits["test"]["x"][:K], digits["test"]["y"][:K]
    np.testing.assert_array_equal(r.get("as.integer(predict(m, xt)) - 1L"), ss.predict(fitted, xt, device="cpu"))
    np.testing.assert_array_equal(r.get("predict(m, xt, type = 'prob', device = 'cpu')"),
                                  ss.predict(fitted, xt, type="prob", device="cpu"))
    assert r.get("unlist(evaluate(m, xt, yt, device = 'cpu'))").tolist() == \
        list(ss.evaluate(fitted, xt, yt, device="cpu").values())


def test_build_freeze_set_weights_agree(r, digits):
    r("b <- build_model(c(8, 8), 10, seed = 3); w0 <- get_weights(b); freeze_weights(b, to_layer = 6)")
    py = ss.freeze_weights(ss.build_model((8, 8), 10, seed=3), to_layer=5)
    assert list(r("b$layers$trainable")) == [row["trainable"] for row in py.layers()]
    r("w <- w0; w[['output.bias']] <- seq(0.1, 1, by = 0.1); set_weights(b, w)")
    np.testing.assert_allclose(r.get("get_weights(b)[['output.bias']]"), np.arange(1, 11) / 10, rtol=1e-7)
    np.testing.assert_array_equal(r.get("get_weights(b)[['conv1.weight']]"), ss.get_weights(py)["conv1.weight"])


def test_continued_training_from_r_matches_python(r, digits):
    r(f"c2 <- build_model(c(8, 8), 10, seed = 5); fit_supervised(x, y, model = c2, {FIT_R})")
    tr = digits["train"]
    py = ss.fit_supervised(tr["x"][:N], tr["y"][:N], model=ss.build_model((8, 8), 10, seed=5), **FIT_PY)
    np.testing.assert_array_equal(r.get("get_weights(c2)[['dense1.weight']]"), ss.get_weights(py)["dense1.weight"])


def test_seeds_beyond_r_integers_pass_exactly(r, digits):
    """R's 3e9 is a double; it must reach Python as the seed 3_000_000_000, not as a coerced integer."""
    tr = digits["train"]
    r(f"big <- fit_supervised(x, y, {FIT_R.replace(f'seed = {SEED}', 'seed = 3e9')})")
    py = ss.fit_supervised(tr["x"][:N], tr["y"][:N], **dict(FIT_PY, seed=3_000_000_000))
    for name, want in ss.get_weights(py).items():
        np.testing.assert_array_equal(r.get(f"get_weights(big)[['{name}']]"), want, err_msg=name)


def test_seed_null_follows_set_seed(r, digits):
    """seed = NULL draws the seed from R's random numbers: set.seed() makes R code reproducible."""
    r("set.seed(5); a <- fit_supervised(x, y, epochs = 1, device = 'cpu', verbose = FALSE)")
    r("set.seed(5); b <- fit_supervised(x, y, epochs = 1, device = 'cpu', verbose = FALSE)")
    assert r.get("identical(get_weights(a), get_weights(b))")[0]


def test_model_saved_in_r_loads_in_python(r, fitted, tmp_path, digits):
    path = tmp_path / "from_r.safetensors"
    r(f"save_model(m, '{path}')")
    back = ss.load_model(path)
    xt = digits["test"]["x"][:K]
    np.testing.assert_array_equal(ss.predict(back, xt, type="prob", device="cpu"),
                                  ss.predict(fitted, xt, type="prob", device="cpu"))
    assert r.get(f"nrow(load_model('{path}')$history)")[0] == 2


def test_golden_from_r(r, golden):
    s = golden["settings"]
    r("d <- load_dataset('digits')")
    r(f"g <- fit_supervised(d$train$x[1:{s['n_train']},,], d$train$y[1:{s['n_train']}], epochs = {s['epochs']}, "
      f"batch_size = {s['batch_size']}, validation_split = {s['validation_split']}, seed = {s['seed']}, "
      "device = 'cpu', verbose = FALSE)")
    np.testing.assert_allclose(r.get("g$history$val_loss"), [h["val_loss"] for h in golden["history"]],
                               rtol=s["tolerance"])
    assert r.get(f"as.integer(predict(g, d$test$x[1:{s['n_test']},,])) - 1L").tolist() == golden["predict"]


# Bad input from R: an R error naming the R argument, no Python traceback, nothing changed.
R_BAD_INPUT = [
    ("fit_supervised(x, y[1:7])", "`y` has 7 labels but `x` has 200 samples"),
    ("fit_supervised(x, factor(rep('cat', 200)), model = m)",
     "`y` has label(s) cat that are not among the classes"),
    ("{x2 <- x * 1.0; x2[1, 1, 1] <- NA; fit_supervised(x2, y)}", "`x` contains 1 NA/NaN value(s)"),
    ("{x2 <- x * 1.0; x2[1, 1, 1] <- Inf; fit_supervised(x2, y)}", "`x` contains 1 NA/NaN/Inf value(s)"),
    ("fit_supervised(as.numeric(x[1, , ]), y[1:64])", "`x` must have 3 or 4 dimensions"),
    ("fit_supervised(array(0, c(2, 2, 2, 2, 2)), y[1:2])", "`x` must have 3 or 4 dimensions"),
    ("fit_supervised(matrix('a', 2, 2), y[1:2])", "`x` must be a numeric array; got a character array"),
    ("fit_supervised(x[0, , ], y[0])", "`x` is empty"),
    ("fit_supervised(x, y, validation_split = 1)", "`validation_split` must be in [0.0, 1.0)"),
    ("load_dataset('cifar')", '`name` must be one of "fashion_mnist", "mnist", "digits"'),
    ("load_dataset('fashion_mnist', path = '/nonexistent')", "`path` '/nonexistent' does not exist"),
    ("fit_supervised(x, y, device = 'cuda')", '`device` is "cuda" but no CUDA GPU is available'),
    ("load_model('/etc/hostname')", "is not a valid selfsup model"),
    ("freeze_weights(m, to_layer = 11)", "`to_layer` must be a position 1..10 of the 10 layers; got 11."),
    ("fit_supervised(x, y, epochs = 2.5)", "`epochs` must be a single whole number"),
]


@pytest.mark.parametrize("code, message", R_BAD_INPUT)
def test_bad_input_is_a_clear_r_error(r, fitted, code, message):
    before = r.get("get_weights(m)[['output.bias']]")
    n_epochs = r.get("nrow(m$history)")[0]
    got = r.error(code)
    assert message in got, got
    assert "Traceback" not in got and "py_last_error" not in got
    np.testing.assert_array_equal(r.get("get_weights(m)[['output.bias']]"), before)
    assert r.get("nrow(m$history)")[0] == n_epochs


def test_fit_replicates_from_r_matches_python(r, digits):
    """R's 1-based subsets reach Python as the same draws; side by side in R = side by side in Python."""
    tr = digits["train"]
    draws = [ss.sample_indices(len(tr["x"]), 20, seed=s) for s in (1, 2)]
    r("first <- build_model(c(8, 8), 10, seed = 7); reps <- list(first, clone_model(first)); "
      "draws <- lapply(1:2, function(s) sample_indices(nrow(d$train$x), 20, seed = s)); "
      "fit_replicates(reps, d$train$x, d$train$y, draws, seeds = c(3, 4), epochs = 2, batch_size = 4, "
      "validation_split = 0.2, side_by_side = TRUE, device = 'cpu', verbose = FALSE)")
    first = ss.build_model((8, 8), 10, seed=7)
    py = ss.fit_replicates([first, ss.clone_model(first)], tr["x"], tr["y"], draws, seeds=[3, 4], epochs=2,
                           batch_size=4, validation_split=0.2, side_by_side=True, device="cpu", verbose=False)
    for i, model in enumerate(py, start=1):
        got = r_weights(r, f"reps[[{i}]]")
        for name, want in ss.get_weights(model).items():
            np.testing.assert_array_equal(got[name], want, err_msg=f"replicate {i} {name}")
        np.testing.assert_array_equal(r.get(f"reps[[{i}]]$history$val_loss"), [h["val_loss"] for h in model.history])
