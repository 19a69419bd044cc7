"""load_dataset: the three data sets, user-given folders and files, and clear errors."""
import gzip

import numpy as np
import pytest

import selfsup as ss
from selfsup.data import read_idx


def write_idx(path, arr, gz=False):
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def fake_mnist_folder(folder, gz):
    rng = np.random.default_rng(0)
    files = {"train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28)),
             "train-labels-idx1-ubyte": rng.integers(0, 10, 12),
             "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28)),
             "t10k-labels-idx1-ubyte": rng.integers(0, 10, 5)}
    for name, arr in files.items():
        write_idx(folder / (name + (".gz" if gz else "")), arr, gz)
    return files


def test_digits_are_keras_style_uint8_splits(digits):
    assert digits["train"]["x"].shape == (1437, 8, 8) and digits["test"]["x"].shape == (360, 8, 8)
    assert digits["train"]["x"].dtype == np.uint8 and digits["train"]["x"].max() == 255
    assert set(digits["train"]["y"]) == set(range(10)) and len(digits["classes"]) == 10


def test_fashion_mnist_reads_debian_package():
    d = ss.load_dataset("fashion_mnist")
    assert d["train"]["x"].shape == (60000, 28, 28) and d["test"]["x"].shape == (10000, 28, 28)
    assert np.bincount(d["train"]["y"]).tolist() == [6000] * 10  # the real data set is balanced
    assert d["classes"][9] == "Ankle boot"


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_user_idx_folder(tmp_path, gz):
    files = fake_mnist_folder(tmp_path, gz)
    d = ss.load_dataset("mnist", path=tmp_path)
    np.testing.assert_array_equal(d["train"]["x"], files["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(d["test"]["y"], files["t10k-labels-idx1-ubyte"])


def test_mnist_from_keras_npz(tmp_path):
    x = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=[1, 2], x_test=x[:1], y_test=[3])
    d = ss.load_dataset("mnist", path=tmp_path / "mnist.npz")
    assert d["train"]["x"].shape == (2, 28, 28) and d["test"]["y"].tolist() == [3]


def test_fashion_mnist_from_user_folder(tmp_path):
    fake_mnist_folder(tmp_path, gz=True)
    assert ss.load_dataset("fashion_mnist", path=tmp_path)["train"]["x"].shape == (12, 28, 28)


def test_read_idx_rejects_other_files(tmp_path):
    (tmp_path / "x").write_bytes(b"not an idx file")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "x")


@pytest.mark.parametrize("name, path, match", [
    ("cifar", None, "`name` must be one of"),
    ("fashion_mnist", "/nonexistent/folder", "`path` '/nonexistent/folder' does not exist"),
    ("mnist", "/nonexistent/folder", "does not exist"),
])
def test_bad_dataset_requests(name, path, match):
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        ss.load_dataset(name, path=path)


def test_mnist_without_files_says_where_to_put_them(monkeypatch):
    monkeypatch.delenv("SELFSUP_MNIST", raising=False)
    with pytest.raises(FileNotFoundError, match="mnist.npz"):
        ss.load_dataset("mnist")


def test_folder_missing_one_file_names_it(tmp_path):
    fake_mnist_folder(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        ss.load_dataset("mnist", path=tmp_path)
