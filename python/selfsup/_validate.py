"""Every check of user input, and its message.

Public functions validate once at the boundary with these helpers and trust their inputs
afterwards. Messages name the argument, say what was expected and what was given, and the fix
when it is obvious. The R package uses the same argument names, so the same message reads
right in both languages.
"""
from __future__ import annotations

import contextlib
import contextvars
import difflib
import functools
import inspect
import math
import numbers
import warnings
from typing import Iterable, Sequence

import numpy as np


# Positions in messages: 0-based for Python callers; calls made from R (selfsup._r) count from 1.
_one_based = contextvars.ContextVar("selfsup_one_based", default=False)


@contextlib.contextmanager
def one_based():
    """Messages raised inside this block count positions from 1 and name elements `x[[1]]` (R)."""
    token = _one_based.set(True)
    try:
        yield
    finally:
        _one_based.reset(token)


def shown(i: int) -> int:
    """A 0-based position as the caller counts it: `i` in Python, `i + 1` in R."""
    return int(i) + 1 if _one_based.get() else int(i)


def element(name: str, i: int) -> str:
    """Element `i` (0-based) of argument `name` as the caller writes it: `models[0]`, or `models[[1]]` in R."""
    return f"{name}[[{int(i) + 1}]]" if _one_based.get() else f"{name}[{int(i)}]"


def check_position(value, name: str, n: int, what: str) -> int:
    """A whole-number position 0..n-1 into `n` things (1..n in messages to R); `what` names them."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value):
        raise TypeError(f"`{name}` must be a whole number or a name; got {value!r}.")
    value = int(value)
    if not 0 <= value < n:
        raise ValueError(f"`{name}` must be a position {shown(0)}..{shown(n - 1)} of the {n} {what}; "
                         f"got {shown(value)}.")
    return value


def shape_text(x) -> str:
    """An array's shape as messages write it: "(784,)", "(10, 28, 28)"."""
    return "(" + ", ".join(str(d) for d in x.shape) + ("," if x.ndim == 1 else "") + ")"


def as_numeric_array(x, name: str, c_order: bool = True) -> np.ndarray:
    """`x` as a numeric numpy array, C-ordered unless `c_order` is False (a copy only when needed)."""
    try:
        arr = np.asarray(x)
    except Exception as err:  # ragged lists and the like
        raise TypeError(f"`{name}` must be a numeric array; could not convert it ({err}).") from None
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"`{name}` must be a numeric array (integers or floats); got dtype {arr.dtype}.")
    # R hands numpy a read-only Fortran-ordered view: copy to C order once, here (or where the dtype
    # changes too: check_images converts and reorders in one copy).
    return np.ascontiguousarray(arr) if c_order else arr


def check_unit_pixels(x: np.ndarray, name: str, why: str) -> np.ndarray:
    """Float images (from check_images) must lie in [0, 1] where an operation needs pixels (`why`)."""
    if x.dtype != np.uint8:
        lo, hi = float(x.min()), float(x.max())
        if lo < 0 or hi > 1:
            raise ValueError(f"`{name}` holds values from {lo:.3g} to {hi:.3g}; {why} needs float pixels in "
                             "[0, 1] (or integers 0..255). Rescale it, e.g. (x - min(x)) / (max(x) - min(x)).")
    return x


def check_images(x, name: str = "x", ndims: Sequence[int] = (3, 4), pixels: bool = True) -> np.ndarray:
    """Validate an image array (n, height, width[, channels]); returns uint8 or float32.

    Integer arrays are pixel intensities and must lie in 0..255 (they are stored as uint8);
    float arrays are used as given and must be finite. With `pixels` (the networks' inputs),
    float images that look like unscaled pixel intensities get a warning.
    """
    arr = as_numeric_array(x, name, c_order=False)   # the one copy below makes it C-ordered
    if arr.ndim not in ndims:
        dims = " or ".join(str(d) for d in ndims)
        layout = "(n, features)" if 2 in ndims else "(n, height, width[, channels])"
        raise ValueError(f"`{name}` must have {dims} dimensions {layout}; got shape {shape_text(arr)}.")
    if arr.shape[0] == 0 or arr.size == 0:
        raise ValueError(f"`{name}` is empty (shape {shape_text(arr)}); it needs at least one sample.")
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                f"`{name}` holds integers outside 0..255 (min {lo}, max {hi}); integer images are "
                "pixel intensities. Pass floats to use other values as they are.")
        return arr.astype(np.uint8, order="C", copy=False)
    arr = as_float32(arr, name)
    if pixels and arr.ndim >= 3:
        warn_unscaled(arr, name)
    return arr


def as_float32(arr: np.ndarray, name: str) -> np.ndarray:
    """A float array as C-ordered float32; it must be finite, before and after (1e300 is finite but not
    in float32)."""
    with np.errstate(over="ignore"):
        small = arr.astype(np.float32, order="C", copy=False)
    if not np.isfinite(small).all():
        bad = int((~np.isfinite(arr)).sum())
        if bad:
            raise ValueError(f"`{name}` contains {bad} NA/NaN/Inf value(s); remove or impute them first.")
        big = float(np.abs(arr).max())
        raise ValueError(f"`{name}` holds values too large for float32 (largest magnitude {big:.3g}; float32 "
                         f"holds up to {float(np.finfo(np.float32).max):.3g}); rescale them first.")
    return small


def warn_unscaled(arr: np.ndarray, name: str) -> None:
    """Float images holding whole numbers in 0..255 beyond 1 are pixel intensities that nobody
    scaled (R's numbers are doubles): the networks would see them 255 times too bright."""
    hi = float(arr.max())
    if 1 < hi <= 255 and float(arr.min()) >= 0 and np.array_equal(arr, np.round(arr)):
        warnings.warn(f"`{name}` holds floating-point pixel values up to {hi:g}: floats are used as given, not "
                      "scaled to [0, 1] as integer pixels are. Divide by 255, or pass integers (0..255).",
                      stacklevel=3)


def check_labels(y, n: int, name: str = "y", n_classes: int | None = None,
                 allow_unlabelled: bool = False) -> np.ndarray:
    """Validate class labels 0..k-1 (and -1 for unlabelled when allowed); returns int64."""
    arr = as_numeric_array(y, name)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be a vector of class labels; got shape {shape_text(arr)}.")
    if arr.shape[0] != n:
        raise ValueError(f"`{name}` has {arr.shape[0]} labels but `x` has {n} samples; they must match.")
    if np.issubdtype(arr.dtype, np.floating):
        if np.isnan(arr).any() and not allow_unlabelled:
            raise ValueError(f"`{name}` contains NA/NaN labels; every sample needs a label here.")
        arr = np.where(np.isnan(arr), -1, arr)
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"`{name}` must hold whole-number class labels; got fractional values.")
    arr = arr.astype(np.int64)
    lowest = -1 if allow_unlabelled else 0
    if arr.min() < lowest:
        what = "-1 (unlabelled) or " if allow_unlabelled else ""
        raise ValueError(f"`{name}` must hold {what}class indices 0..k-1; got {int(arr.min())}.")
    if n_classes is not None and arr.max() >= n_classes:
        raise ValueError(
            f"`{name}` holds class {int(arr.max())}, but the model has {n_classes} classes "
            f"(0..{n_classes - 1}).")
    return arr


def check_classes(classes, y: np.ndarray, name: str = "classes") -> list[str]:
    """Class names: given as names, as a count, or inferred as 0..max(y)."""
    if classes is None:
        return [str(i) for i in range(int(y.max()) + 1)]
    if isinstance(classes, numbers.Integral) and not isinstance(classes, bool):
        names = [str(i) for i in range(int(classes))]
    elif isinstance(classes, str):
        raise TypeError(f"`{name}` must be a number of classes or a list of class names; got a string.")
    else:
        names = [str(c) for c in classes]
    if len(names) < 2:
        raise ValueError(f"`{name}` needs at least 2 classes; got {len(names)}.")
    if len(set(names)) != len(names):
        raise ValueError(f"`{name}` has duplicated names.")
    if y.size and y.max() >= len(names):
        raise ValueError(f"`y` holds class {int(y.max())}, but `{name}` names only {len(names)} classes.")
    return names


def check_int(value, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    if not _whole(value):
        raise TypeError(f"`{name}` must be a whole number; got {value!r}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}; got {int(value)}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"`{name}` must be at most {maximum}; got {int(value)}.")
    return int(value)


def _whole(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return isinstance(value, numbers.Integral) or (math.isfinite(value) and value == int(value))


def check_number(value, name: str, low: float | None = None, high: float | None = None,
                 high_inclusive: bool = True, low_inclusive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"`{name}` must be a finite number; got {value!r}.")
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        raise ValueError(f"`{name}` must be in {left}{low}, {high}{right}; got {value}.")
    return float(value)


def check_fraction(value, name: str = "validation_split") -> float:
    """A fraction in [0, 1): the share of samples held out."""
    return check_number(value, name, 0.0, 1.0, high_inclusive=False)


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        valid = ", ".join(f'"{c}"' for c in choices)
        raise ValueError(f"`{name}` must be one of {valid}; got {value!r}.")
    return value


# torch's generators take seeds 0 .. 2**64 - 1
MAX_SEED = 2**64 - 1


def check_seed(seed, name: str = "seed") -> int | None:
    if seed is None:
        return None
    return check_int(seed, name, minimum=0, maximum=MAX_SEED)


def check_indices(idx, n: int, name: str) -> np.ndarray:
    """A non-empty vector of 0-based positions into n samples, as int64."""
    arr = np.asarray(idx)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"`{name}` must be a non-empty vector of sample positions; got shape {arr.shape}.")
    if arr.dtype.kind not in "iuf" or (arr.dtype.kind == "f" and not np.all(arr == np.round(arr))):
        raise TypeError(f"`{name}` must hold whole numbers (sample positions); got {arr.dtype} values.")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"`{name}` must hold positions {shown(0)}..{shown(n - 1)} of the {n} samples; got "
                         f"{shown(arr.min())}..{shown(arr.max())}.")
    return arr.astype(np.int64)


def check_image_size(x: np.ndarray, min_height: int, min_width: int, who: str, name: str = "x") -> None:
    """Images (n, height, width[, c]) at least min_height x min_width; `who` says what needs it."""
    h, w = x.shape[1], x.shape[2]
    if h < min_height or w < min_width:
        raise ValueError(f"`{name}` images are {h}x{w} pixels, too small for {who}: "
                         f"they must be at least {min_height}x{min_width}.")


def check_features(x, name: str = "x") -> np.ndarray:
    """Samples as rows of a float matrix: (n, features) as given, images (n, h, w[, c]) flattened."""
    arr = check_images(x, name, ndims=(2, 3, 4), pixels=False)
    return arr.reshape(len(arr), -1).astype(np.float32, copy=False)


def check_at_most(value: int, name: str, limit: int, what: str) -> int:
    """`value` (already a whole number) must not exceed `limit`; `what` says what the limit is."""
    if value > limit:
        raise ValueError(f"`{name}` is {value} but {what} is {limit}; `{name}` can be at most {limit}.")
    return value


def check_partial_labels(y, n: int, name: str = "y", n_classes: int | None = None,
                         classes=None) -> np.ndarray:
    """Labels of semi-supervised learning: 0..k-1, and -1 (NA in R) for unlabelled samples.

    At least two classes must be labelled: with none or one there is nothing to spread or learn.
    `classes` (names, optional) only makes the message name the class as the user knows it.
    """
    arr = check_labels(y, n, name, n_classes=n_classes, allow_unlabelled=True)
    labelled = np.unique(arr[arr >= 0])
    if labelled.size == 0:
        raise ValueError(f"`{name}` has no labelled samples (all {n} are -1/NA); label at least one sample "
                         "of each of two or more classes.")
    if labelled.size == 1:
        c = int(labelled[0])
        named = classes is not None and not isinstance(classes, (str, numbers.Integral)) and c < len(classes)
        shown = repr(str(list(classes)[c])) if named else str(c)
        raise ValueError(f"`{name}` labels only one class ({shown}); semi-supervised learning "
                         "needs labelled samples of at least 2 classes.")
    return arr


def keywords_named(fn):
    """Decorator: a call of `fn` with a keyword it does not take raises a TypeError that names the
    valid ones (Python's own names only the bad one). `fn`'s signature and help are unchanged."""
    params = inspect.signature(fn).parameters
    valid = [name for name, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        unknown = [name for name in kwargs if name not in valid]
        if unknown:
            close = [match for name in unknown for match in difflib.get_close_matches(name, valid, n=1)]
            hint = f" (did you mean {', '.join(f'`{c}`' for c in close)}?)" if close else ""
            raise TypeError(f"{fn.__name__}() has no argument {', '.join(f'`{u}`' for u in unknown)}{hint}; "
                            f"its arguments are: {', '.join(valid)}.")
        return fn(*args, **kwargs)
    return checked
