"""`load_dataset()` and the readers behind it.

Every data set comes back keras-style: ``{"train": {"x", "y"}, "test": {"x", "y"}, "classes"}``
with images as uint8 arrays of shape (n, height, width) and labels as int64 0..k-1. Nothing is
downloaded: files are read from disk, and a missing file says what to install or where to put it.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ._validate import check_choice

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian: dataset-fashion-mnist
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGIT_CLASSES = [str(i) for i in range(10)]
DATASETS = ("fashion_mnist", "mnist", "digits")
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def load_dataset(name: str, path: str | os.PathLike | None = None) -> dict:
    """Load a data set as keras-style train/test splits.

    Parameters
    ----------
    name : {"fashion_mnist", "mnist", "digits"}
        "fashion_mnist" reads Debian's `dataset-fashion-mnist` files (or IDX files in `path`);
        "mnist" reads IDX files or a keras ``mnist.npz`` from `path` (or $SELFSUP_MNIST);
        "digits" is scikit-learn's 8x8 digits, split 80/20 stratified with a fixed seed.
    path : str, optional
        A folder of IDX files (``.gz`` or not) or an ``.npz`` file.

    Returns
    -------
    dict with "train" and "test" (each a dict of "x": uint8 (n, h, w), "y": int64 (n,)) and
    "classes" (list of class names, index = label).
    """
    check_choice(name, "name", DATASETS)
    if name == "digits":
        return _digits()
    if name == "fashion_mnist":
        folder = Path(path) if path is not None else FASHION_MNIST_DIR
        hint = ("install Debian's package: apt-get install dataset-fashion-mnist"
                if path is None else "put the four Fashion-MNIST IDX files there")
        return _from_disk(folder, FASHION_MNIST_CLASSES, hint)
    path = path if path is not None else os.environ.get("SELFSUP_MNIST")
    if path is None:
        raise FileNotFoundError(
            "MNIST is not shipped with selfsup and cannot be downloaded here. Pass `path` = a folder "
            "with train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
            "t10k-labels-idx1-ubyte[.gz], or a keras mnist.npz file (or set SELFSUP_MNIST).")
    return _from_disk(Path(path), DIGIT_CLASSES, "put the MNIST IDX files or mnist.npz there")


def _from_disk(path: Path, classes: list[str], hint: str) -> dict:
    if path.suffix == ".npz" and path.is_file():
        with np.load(path) as npz:  # keras layout: x_train, y_train, x_test, y_test
            return _splits(npz["x_train"], npz["y_train"], npz["x_test"], npz["y_test"], classes)
    if not path.is_dir():
        raise FileNotFoundError(f"`path` {str(path)!r} does not exist; {hint}.")
    arrays = []
    for split in ("train", "test"):
        for stem in IDX_FILES[split]:
            arrays.append(read_idx(_find_idx(path, stem, hint)))
    return _splits(*arrays, classes)


def _find_idx(folder: Path, stem: str, hint: str) -> Path:
    for candidate in (folder / stem, folder / f"{stem}.gz", folder / stem.replace("-idx", ".idx")):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"`path` {str(folder)!r} has no {stem}[.gz]; {hint}.")


def read_idx(file: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, as a numpy array."""
    opener = gzip.open if str(file).endswith(".gz") else open
    with opener(file, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{str(file)!r} is not an IDX file of unsigned bytes.")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{str(file)!r} is truncated: expected {int(np.prod(dims))} values, found {data.size}.")
    return data.reshape(tuple(dims)).copy()


def _splits(x_train, y_train, x_test, y_test, classes) -> dict:
    return {
        "train": {"x": np.asarray(x_train, dtype=np.uint8), "y": np.asarray(y_train, dtype=np.int64)},
        "test": {"x": np.asarray(x_test, dtype=np.uint8), "y": np.asarray(y_test, dtype=np.int64)},
        "classes": list(classes),
    }


def _digits() -> dict:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    # 0..16 intensities to 0..255 so every image data set shares one pixel scale.
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, digits.target, test_size=0.2, stratify=digits.target, random_state=0)
    return _splits(x_tr, y_tr, x_te, y_te, DIGIT_CLASSES)


def sample_indices(n: int, size: int, *, replace: bool = False, seed: int | None = None) -> np.ndarray:
    """`size` random integers from 0..n-1 (without replacement unless `replace`).

    The seminar's random draws (which 150 images are labelled, which rotation each image gets)
    come from here, so R and Python draw the same ones for the same seed.
    """
    from ._validate import check_int, check_seed
    n, size = check_int(n, "n"), check_int(size, "size", minimum=0)
    if size > n and not replace:
        raise ValueError(f"`size` ({size}) is larger than `n` ({n}); set replace=True to draw with replacement.")
    return np.random.default_rng(check_seed(seed)).choice(n, size, replace=replace).astype(np.int64)
