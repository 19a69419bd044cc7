"""Self-supervised learning from R and from Python give the same answers: each R wrapper, called
through rpy2 in this process, against the direct Python call with the same seed, on the CPU.
Exact equality throughout (tiny data, one epoch)."""
import numpy as np
import pytest

import selfsup as ss
from selfsup.self_supervised import (ssl_embed, ssl_evaluate, ssl_finetune, ssl_pretrain, ssl_show, ssl_tasks)

N, SEED = 48, 5
FIT_R = f"epochs = 1, batch_size = 16, seed = {SEED}, device = 'cpu', verbose = FALSE"
FIT_PY = dict(epochs=1, batch_size=16, seed=SEED, device="cpu", verbose=False)
TEXT = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog met"] * 6


def task_data(task, digits):
    """Tiny data of the kind each task takes (int32 so that R receives integers)."""
    rng = np.random.default_rng(0)
    if task == "colorization":
        return rng.integers(0, 256, (12, 16, 16, 3)).astype(np.int32)
    if task == "masked_token":
        return TEXT
    if task == "future_frame":
        return rng.random((8, 3, 16, 16))
    if task == "restoration":
        return np.sin(np.linspace(0, 6 * np.pi, 64)[None, :] * np.arange(1, 9)[:, None] / 4)
    return np.kron(digits["train"]["x"][:N], np.ones((1, 2, 2), dtype=np.uint8)).astype(np.int32)


def put(r, name, value):
    if isinstance(value, list):
        r.assign(name, np.array(value))
        r(f"{name} <- as.character({name})")
    else:
        r.assign(name, value)


def r_weights(r, model):
    names = list(r(f"names(get_weights({model}))"))
    return {name: r.get(f"get_weights({model})[['{name}']]") for name in names}


def assert_same_model(r, r_model, py_model):
    got, want = r_weights(r, r_model), ss.get_weights(py_model)
    assert list(got) == list(want)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    for col in py_model.history[0]:
        np.testing.assert_array_equal(r.get(f"{r_model}$history${col}"), [row[col] for row in py_model.history])


@pytest.fixture(scope="module")
def big(r, digits):
    x = task_data("rotation", digits)
    put(r, "big", x)
    r(f"d <- load_dataset('digits'); yb <- d$train$y[1:{N}]")
    # the same images built in R, the way an R user would: R's indexing, not numpy's
    assert (r.get("d$train$x[1:48, rep(1:8, each = 2), rep(1:8, each = 2)]") == x).all()
    return x, digits["train"]["y"][:N]


def test_ssl_tasks_agree(r):
    rows = ssl_tasks()
    for col in ("name", "modality", "input", "predicts", "reference"):
        assert list(r(f"ssl_tasks()${col}")) == [row[col] for row in rows]


@pytest.mark.parametrize("task", [t["name"] for t in ssl_tasks()])
def test_ssl_pretrain_identical_for_every_task(r, digits, task):
    x = task_data(task, digits)
    put(r, "xt", x)
    r(f"pm <- ssl_pretrain(xt, '{task}', {FIT_R})")
    py = ssl_pretrain(x, task, **FIT_PY)
    assert r("pm$task")[0] == task
    assert_same_model(r, "pm", py)


def test_task_options_from_r_agree(r, big):
    r(f"jm <- ssl_pretrain(big, 'jigsaw', n_permutations = 6, patch_size = 4, hidden = 32, {FIT_R})")
    py = ssl_pretrain(big[0], "jigsaw", n_permutations=6, patch_size=4, hidden=32, **FIT_PY)
    assert_same_model(r, "jm", py)
    r(f"sm <- ssl_pretrain(big, 'simclr', temperature = 0.2, flip = FALSE, validation_split = 0.25, {FIT_R})")
    py = ssl_pretrain(big[0], "simclr", temperature=0.2, flip=False, validation_split=0.25, **FIT_PY)
    assert_same_model(r, "sm", py)


@pytest.fixture(scope="module")
def rotation_pair(r, big):
    r(f"rot <- ssl_pretrain(big, 'rotation', all_rotations = TRUE, {FIT_R})")
    return ssl_pretrain(big[0], "rotation", all_rotations=True, **FIT_PY)


def test_ssl_finetune_identical(r, big, rotation_pair):
    r("ft <- ssl_finetune(rot, big, yb, freeze_epochs = 1, finetune_epochs = 1, batch_size = 16, "
      f"validation_split = 0.25, seed = {SEED}, device = 'cpu', verbose = FALSE)")
    py = ssl_finetune(rotation_pair, big[0], big[1], freeze_epochs=1, finetune_epochs=1, batch_size=16,
                      validation_split=0.25, seed=SEED, device="cpu", verbose=False)
    assert_same_model(r, "ft", py)
    assert list(r("ft$classes")) == py.classes


def test_ssl_finetune_from_patches_identical_and_warns_in_r(r, big):
    r(f"rp <- ssl_pretrain(big, 'relative_position', {FIT_R})")
    msg = r("tryCatch({ ssl_finetune(rp, big, yb, freeze_epochs = 1, finetune_epochs = 0, seed = 1, "
            "device = 'cpu', verbose = FALSE); '' }, warning = function(w) conditionMessage(w))")[0]
    assert "dense1.weight, dense1.bias" in msg and "Traceback" not in msg
    r("rpf <- suppressWarnings(ssl_finetune(rp, big, yb, freeze_epochs = 1, finetune_epochs = 1, seed = 1, "
      "device = 'cpu', verbose = FALSE))")
    py_pre = ssl_pretrain(big[0], "relative_position", **FIT_PY)
    with pytest.warns(UserWarning):
        py = ssl_finetune(py_pre, big[0], big[1], freeze_epochs=1, finetune_epochs=1, seed=1, device="cpu",
                          verbose=False)
    assert_same_model(r, "rpf", py)


def test_ssl_embed_and_evaluate_identical(r, big, rotation_pair):
    np.testing.assert_array_equal(r.get("ssl_embed(rot, big, device = 'cpu')"),
                                  ssl_embed(rotation_pair, big[0], device="cpu"))
    x, y = big
    for protocol in ("linear", "knn"):
        got = r.get(f"unlist(ssl_evaluate(rot, big[1:32,,], yb[1:32], big[33:48,,], yb[33:48], "
                    f"protocol = '{protocol}', n_neighbors = 3, device = 'cpu')[c('accuracy', 'train_accuracy')])")
        want = ssl_evaluate(rotation_pair, x[:32], y[:32], x[32:], y[32:], protocol=protocol, n_neighbors=3,
                            device="cpu")
        assert got.tolist() == [want["accuracy"], want["train_accuracy"]]


def test_ssl_layer_and_probe_penalty_from_r_agree(r, big, rotation_pair):
    """`layer` is 1-based in R (4 = conv2, 0-based 3 in Python); a given or cross-validated C."""
    np.testing.assert_array_equal(r.get("ssl_embed(rot, big, layer = 4, device = 'cpu')"),
                                  ssl_embed(rotation_pair, big[0], layer=3, device="cpu"))
    x, y = big
    for c_r, c_py in (("NULL", None), ("0.01", 0.01)):
        got = r(f"ssl_evaluate(rot, big[1:32,,], yb[1:32], big[33:48,,], yb[33:48], layer = 'dense1', C = {c_r}, "
                f"device = 'cpu')")
        want = ssl_evaluate(rotation_pair, x[:32], y[:32], x[32:], y[32:], layer="dense1", C=c_py, device="cpu")
        assert got.rx2("accuracy")[0] == want["accuracy"] and got.rx2("C")[0] == want["C"]
        assert got.rx2("layer")[0] == "dense1"


@pytest.mark.parametrize("task", ["rotation", "relative_position", "jigsaw", "simclr"])
def test_ssl_show_identical(r, big, task):
    r(f"sh <- ssl_show(big, '{task}', n = 4, seed = 3)")
    py = ssl_show(big[0], task, n=4, seed=3)
    np.testing.assert_array_equal(r.get("sh$inputs"), py["inputs"])
    # named pseudo-labels are factors in R; simclr's partner views are positions, 1-based in R
    code = "as.integer(sh$targets) - 1L" if "target_names" in py else "sh$targets - 1L" if py.get("positions") else \
        "sh$targets"
    targets = r.get(code)
    np.testing.assert_array_equal(np.asarray(targets).reshape(py["targets"].shape), py["targets"])
    assert r.get("sh$pieces")[0] == py["pieces"]


def test_ssl_show_with_model_identical(r, big, rotation_pair):
    py = ssl_show(big[0], model=rotation_pair, n=5, seed=2)
    assert py["outputs"].shape == (5, 4)  # all_rotations: each image in 4 orientations
    r("so <- ssl_show(big, model = rot, n = 5, seed = 2)$outputs")
    assert list(r("dim(so)")) == [5, 4]
    got = np.asarray(r.get("as.integer(so) - 1L")).reshape(5, 4, order="F")  # R is column-major
    np.testing.assert_array_equal(got, py["outputs"])


R_BAD_INPUT = [
    ("ssl_pretrain(big, 'rotate')", '`task` must be one of "rotation", "relative_position"'),
    ("ssl_pretrain(big[, 1:8, 1:8], 'jigsaw')", "too small for task \"jigsaw\""),
    ("ssl_pretrain(big, 'rotation', grid = 2)", "has no option 'grid'"),
    ("ssl_pretrain(big, 'colorization')", "RGB"),
    ("ssl_pretrain(big, 'masked_token')", "masked_token"),
    ("ssl_pretrain(big, 'future_frame')", "future_frame"),
    ("ssl_evaluate(rot, big, yb, big, yb, protocol = 'svm')", '`protocol` must be one of "linear", "knn"'),
    ("ssl_finetune(rot, big, yb, freeze_epochs = 0, finetune_epochs = 0)", "both 0"),
]


@pytest.mark.parametrize("code, message", R_BAD_INPUT)
def test_bad_input_is_a_clear_r_error(r, big, rotation_pair, code, message):
    got = r.error(code)
    assert message in got, got
    assert "Traceback" not in got and "py_last_error" not in got
