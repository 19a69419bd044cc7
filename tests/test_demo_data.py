"""Demonstration data: moving digits, Jane Austen's novels, the tokeniser, audio-like signals, photo crops."""
import numpy as np
import pytest

from selfsup import demo_data as dd


def test_moving_digits_shape_determinism_and_motion():
    a = dd.moving_digits(5, frames=6, size=24, seed=1)
    assert a.shape == (5, 6, 24, 24) and a.dtype == np.uint8
    assert np.array_equal(a, dd.moving_digits(5, frames=6, size=24, seed=1))
    assert not np.array_equal(a, dd.moving_digits(5, frames=6, size=24, seed=2))
    assert (a.reshape(5, 6, -1).max(2) > 0).all()                 # the object is in every frame
    assert not np.array_equal(a[:, 0], a[:, -1])                  # and it moves
    ink = a.reshape(5, 6, -1).astype(int).sum(2)
    assert (ink == ink[:, :1]).all()                              # one object never leaves the canvas


def test_moving_fashion_items_and_bad_size():
    v = dd.moving_digits(2, frames=3, size=28, source="fashion_mnist", objects=2, seed=0)
    assert v.shape == (2, 3, 28, 28)
    with pytest.raises(ValueError, match=r"`size` must be at least 16"):
        dd.moving_digits(2, size=10)
    with pytest.raises(ValueError, match=r"`source` must be one of"):
        dd.moving_digits(2, source="mnist")


def test_austen_text_is_the_six_novels_as_paragraphs():
    emma = dd.austen_text("emma")
    assert emma[0].startswith("Emma Woodhouse, handsome, clever, and rich")
    assert all(p != p.upper() for p in emma)                     # headings dropped
    everything = dd.austen_text()
    assert 9000 < len(everything) < 11000
    assert 700_000 < sum(len(dd.tokenize(p)) for p in everything) < 750_000
    with pytest.raises(ValueError, match=r"`books` must be one of"):
        dd.austen_text(["ulysses"])


def test_tokenize_vocab_and_encode():
    assert dd.tokenize("Don't panic, Mr. Darcy -- 1813!") == ["don't", "panic", "mr", "darcy"]
    texts = ["the cat sat", "the cat ran", "a dog"]
    vocab = dd.build_vocab(texts, min_count=2)
    assert vocab == ["[PAD]", "[UNK]", "[MASK]", "the", "cat"]
    ids = dd.encode_text(texts + ["", "the the the the the"], vocab, seq_len=2)
    assert ids.tolist() == [[3, 4], [1, 0], [3, 4], [1, 0], [1, 1], [3, 3], [3, 3], [3, 0]]
    assert dd.build_vocab(texts, max_size=4, min_count=1)[3:] == ["the"]


def test_audio_signals():
    s = dd.audio_signals(20, samples=128, seed=3)
    assert s.shape == (20, 128) and s.dtype == np.float32
    assert np.array_equal(s, dd.audio_signals(20, samples=128, seed=3))
    assert 0.2 < np.abs(s).max(1).min() and np.abs(s).max() < 2
    quiet = dd.audio_signals(20, samples=128, noise=0.0, seed=3)
    assert np.abs(quiet[:, 0]).max() < 1e-6 or (np.abs(quiet) < 1e-6).any(1).all()  # silence before the onset


def test_photo_crops():
    c = dd.photo_crops(6, size=28, seed=0)
    assert c.shape == (6, 28, 28, 3) and c.dtype == np.uint8
    assert np.array_equal(c, dd.photo_crops(6, size=28, seed=0))
    assert (c.std(axis=(1, 2)) > 0).any()                          # colour, not gray
    assert not np.allclose(c[..., 0], c[..., 1])
    with pytest.raises(ValueError, match=r"`size` 200 is larger than the shrunk photos"):
        dd.photo_crops(2, size=200)
