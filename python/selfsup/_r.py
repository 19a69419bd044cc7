"""The one door the R package calls Python through (R's `py_call()`); Python users never need it.

- Progress: the call reports through R (a bar drawn by R, each summary line sent through R's
  `message()`), so `suppressMessages()` and knitr see it.
- Warnings: recorded (the filters in force still apply) and handed back with the result; R raises
  each as an R warning, so `suppressWarnings()` and `withCallingHandlers()` see them.
- Errors: an `Exception` comes back as its message and the names of its Python classes; R raises an
  R error with that message alone (no "ValueError:" prefix, no traceback) and classes
  selfsup_<name> for the class and its bases (e.g. selfsup_OutOfMemory, selfsup_MemoryError), then
  selfsup_error, error, condition; nothing on the R side has to take a Python exception apart.
- Positions in messages count from 1, and list elements are written `x[[1]]` (`_validate.one_based`).
- Interrupts: a `KeyboardInterrupt` is not caught. reticulate turns it into an R interrupt.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable

from . import _validate, progress


def call(fun: Callable, args: list, kwargs: dict, bar: Callable | None, line: Callable, width: int) -> list:
    """`fun(*args, **kwargs)` for R. Returns [value, warnings, error, error_types]: the result (None
    after an error), the messages of the warnings raised, the error's message (None when there was
    none) and the names of its class and bases, most specific first, below Exception.

    `bar(desc, done, total, seconds)` draws the progress bar (None: no bar, e.g. under knitr) and
    `line(text)` shows one summary line; `width` is R's console width.
    """
    def reporter() -> progress.Silent:
        return progress.Callback(bar, line, width)

    value, error, types = None, None, []
    with progress.installed(reporter), _validate.one_based(), warnings.catch_warnings(record=True) as caught:
        try:
            value = fun(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - every error goes back to R as an R error
            error = str(e) or type(e).__name__
            types = error_types(e)
    return [value, [str(w.message) for w in caught], error, types]


def error_types(err: Exception) -> list[str]:
    """Names of `err`'s class and its bases up to Exception, most specific first (R's condition
    classes): OutOfMemory -> ["OutOfMemory", "MemoryError"]."""
    return [cls.__name__ for cls in type(err).__mro__
            if issubclass(cls, Exception) and cls is not Exception]



def model_to_bytes(model) -> bytes:
    """The bytes `save_model()` writes for `model` (R keeps them so that saveRDS() can store a model)."""
    from .model import model_bytes
    return model_bytes(model)


def model_from_bytes(data):
    """The model of `model_to_bytes()`'s bytes (after readRDS() in R; R hands them over as a bytearray)."""
    from .model import model_from_bytes
    return model_from_bytes(bytes(data), "the model's saved bytes")
