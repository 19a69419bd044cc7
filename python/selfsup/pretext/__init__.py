"""Pretext tasks: one module per task, each registered in `TASKS` by its name.

A pretext task makes pseudo-labelled batches from unlabelled data, on the device, and says what
network head, loss and metrics go with them. See `base.Pretext` for the contract.

Every module of this package is imported here (modules starting with "_" are helpers), so a new
task only needs its own file with a `@register`-ed class. `ORDER` is the order `ssl_tasks()`
lists them in (the seminar's table); tasks not named there follow alphabetically.
"""
import importlib
import pkgutil

from .base import TASKS, ClassificationPretext, Pretext, register

ORDER = ("rotation", "relative_position", "jigsaw", "inpainting", "colorization", "superresolution",
         "autoencoder", "denoising", "masked_token", "future_frame", "restoration", "simclr",
         "masked_autoencoder")

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_") and _info.name != "base":
        importlib.import_module(f"{__name__}.{_info.name}")


def task_names() -> list[str]:
    """Registered task names, in the seminar's order."""
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(TASKS, key=lambda name: (rank.get(name, len(ORDER)), name))


__all__ = ["TASKS", "ClassificationPretext", "Pretext", "register", "task_names", "ORDER"]
