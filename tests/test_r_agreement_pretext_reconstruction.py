"""R and Python agree for the reconstruction, text, video and audio pretext tasks and their demo
data: the R wrappers, called through rpy2 in this process, against the direct Python calls with the
same seed, on the CPU. Exact equality: R's arrays, matrices and character vectors must reach the
Python core exactly as numpy arrays and lists of strings would."""
import numpy as np
import pytest

from selfsup import demo_data as dd
from selfsup.model import get_weights
from selfsup.self_supervised import ssl_embed, ssl_pretrain

SEED = 5
FIT_R = f"epochs = 1, batch_size = 16, seed = {SEED}, device = 'cpu', verbose = FALSE"
FIT_PY = dict(epochs=1, batch_size=16, seed=SEED, device="cpu", verbose=False)


def assert_same_model(r, py_model, r_model="m"):
    for col in py_model.history[0]:
        np.testing.assert_array_equal(r.get(f"{r_model}$history${col}"), [row[col] for row in py_model.history])
    want = get_weights(py_model)
    names = list(r(f"names(get_weights({r_model}))"))
    assert names == list(want)
    for name in ("conv1.weight", "dense1.weight", "embedding.words.weight"):
        if name in want:
            np.testing.assert_array_equal(r.get(f"get_weights({r_model})[['{name}']]"), want[name], err_msg=name)


def test_demo_data_agree(r):
    np.testing.assert_array_equal(r.get("moving_digits(3, frames = 4, size = 24, seed = 2)"),
                                  dd.moving_digits(3, frames=4, size=24, seed=2))
    np.testing.assert_array_equal(r.get("audio_signals(3, samples = 32, seed = 2)"),
                                  dd.audio_signals(3, samples=32, seed=2))
    np.testing.assert_array_equal(r.get("photo_crops(2, size = 8, seed = 2)"), dd.photo_crops(2, size=8, seed=2))
    assert list(r("austen_text('persuasion')")) == dd.austen_text("persuasion")


def test_future_frame_from_an_r_array_agrees(r):
    r("v <- moving_digits(16, frames = 4, size = 24, seed = 3)")
    r(f"m <- ssl_pretrain(v, 'future_frame', {FIT_R})")
    assert_same_model(r, ssl_pretrain(dd.moving_digits(16, frames=4, size=24, seed=3), "future_frame", **FIT_PY))


def test_restoration_from_an_r_matrix_agrees(r):
    r("s <- audio_signals(32, samples = 32, seed = 3)")
    r(f"m <- ssl_pretrain(s, 'restoration', gap = 0.25, {FIT_R})")
    assert_same_model(r, ssl_pretrain(dd.audio_signals(32, samples=32, seed=3), "restoration", gap=0.25, **FIT_PY))


def test_colorization_from_an_r_array_agrees(r):
    r("p <- photo_crops(32, size = 8, seed = 3)")
    r(f"m <- ssl_pretrain(p, 'colorization', {FIT_R})")
    assert_same_model(r, ssl_pretrain(dd.photo_crops(32, size=8, seed=3), "colorization", **FIT_PY))


@pytest.mark.parametrize("n_texts", [80, 1])
def test_masked_token_from_a_character_vector_agrees(r, n_texts):
    texts = dd.austen_text("persuasion")[:n_texts]
    r(f"txt <- austen_text('persuasion')[1:{n_texts}]")
    r(f"m <- ssl_pretrain(txt, 'masked_token', seq_len = 16, min_count = 1, {FIT_R})")
    py = ssl_pretrain(texts, "masked_token", seq_len=16, min_count=1, **FIT_PY)
    assert_same_model(r, py)
    assert list(r("unlist(m$py$spec$pretext$options$vocab)")) == py.spec["pretext"]["options"]["vocab"]
    np.testing.assert_array_equal(r.get("ssl_embed(m, head(txt, 3), device = 'cpu')"),
                                  ssl_embed(py, texts[:3], device="cpu"))
