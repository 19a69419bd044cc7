"""Declared options of pretext tasks: name, type, range and default, checked once.

A task lists its options as ``schema = {"factor": Option(2, "int", low=2), ...}``. `Pretext.__init__`
rejects unknown names, checks every value against its Option and keeps the CHECKED value (a plain
Python int, float, bool, str or list of str), so that `task.options` is what the task uses, what
`ssl_pretrain` saves with the model (JSON) and what a loaded model rebuilds its task from.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _validate as v

KINDS = ("int", "number", "bool", "choice", "words")


@dataclass(frozen=True)
class Option:
    """One option. `kind`: "int" (whole number, at least `low`), "number" (finite float in `low`..`high`,
    inclusive unless said), "bool", "choice" (one of `choices`), "words" (a list of strings).
    `none` allows None (the task then derives the value from the data)."""
    default: Any
    kind: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    choices: tuple = ()
    none: bool = False

    def check(self, value, name: str):
        """`value` checked; returns it as a plain Python value (np.float32(0.3) -> 0.3...)."""
        if value is None and self.none:
            return None
        if self.kind == "int":
            return v.check_int(value, name, minimum=int(self.low) if self.low is not None else -(2**63))
        if self.kind == "number":
            return v.check_number(value, name, self.low, self.high, low_inclusive=self.low_inclusive,
                                  high_inclusive=self.high_inclusive)
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"`{name}` must be True or False; got {value!r}.")
            return bool(value)
        if self.kind == "choice":
            return v.check_choice(value, name, self.choices)
        return _words(value, name)


def _words(value, name: str) -> list[str]:
    if isinstance(value, str) or isinstance(value, numbers.Number) or not hasattr(value, "__iter__"):
        raise TypeError(f"`{name}` must be a list of words (strings); got {type(value).__name__}.")
    words = list(value)
    bad = next((w for w in words if not isinstance(w, (str, np.str_))), None)
    if bad is not None:
        raise TypeError(f"`{name}` must be a list of words (strings); it holds {bad!r}.")
    return [str(w) for w in words]


def check_options(task: str, schema: dict[str, Option], given: dict) -> dict:
    """The task's options: defaults merged with `given`, each checked; unknown names are an error."""
    unknown = sorted(set(given) - set(schema))
    if unknown:
        valid = ", ".join(schema) or "none"
        raise TypeError(f"task \"{task}\" has no option {', '.join(map(repr, unknown))}; its options are: {valid}.")
    return {name: option.check(given.get(name, option.default), name) for name, option in schema.items()}
