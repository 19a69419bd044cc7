"""Progress of long calls: one summary line per epoch that shows every metric, and a bar that never hides it.

Loops talk to a small reporter, always in this order::

    with progress.reporter(verbose) as rep:
        for epoch in ...:
            rep.start(total=n_batches, desc="Epoch 3/10", unit="batch")
            for batch in ...:
                rep.update()
            rep.epoch_end("Epoch 3/10", {"loss": ..., "accuracy": ...}, seconds)

The bar is transient (it lives while a phase runs and is wiped before the summary line), so a
narrow console shows a short bar and then the whole summary line, wrapped at the console's width
rather than cut off. Where no bar can be drawn (a log file, a 0-width terminal, knitr) only the
summary lines appear. Loops without epochs (tabular RL, DQN) report in blocks of a tenth of the run.

Who draws: Python's console by default (tqdm for the bar, the summary lines on stdout); calls made
from R install R's reporter (`selfsup._r`), which draws the bar on R's console and sends each
summary line through R's `message()`. Only rank 0 of a distributed run reports.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import shutil
import sys
import time
from collections.abc import Callable

from tqdm.auto import tqdm

MIN_BAR_WIDTH = 40   # narrower consoles (and the 0 columns some terminals report) get no bar
BLOCKS = 10          # loops without epochs print a summary line after every tenth of the run


def format_value(value) -> str:
    """4 decimals for metrics, whole numbers as they are, huge or tiny values in scientific notation."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)
    return f"{value:.4f}" if value == 0 or 1e-3 <= abs(value) < 1e5 else f"{value:.4g}"


def format_line(desc: str, row: dict, seconds: float, width: int = 80) -> str:
    """`desc - 6.9s - loss: 1.9965 - accuracy: 0.4210 - ...`, every entry of `row` but "epoch".

    Lines longer than `width` break between entries (continuation lines indented), so every
    metric is visible whole at any console width.
    """
    items = [desc, f"{seconds:.1f}s"] + [f"{k}: {format_value(v)}" for k, v in row.items() if k != "epoch"]
    lines, current = [], items[0]
    for item in items[1:]:
        if len(current) + 3 + len(item) > max(width, 20):
            lines.append(current)
            current = "    " + item
        else:
            current += " - " + item
    return "\n".join(lines + [current])


class Silent:
    """Reports nothing (`verbose=False`, ranks other than 0). The base of every reporter."""

    def start(self, total: int, desc: str, unit: str = "batch") -> None:
        """A phase of `total` steps begins (the batches of an epoch, a block of episodes)."""

    def update(self, n: int = 1) -> None:
        """`n` more steps of the phase are done."""

    def epoch_end(self, desc: str, row: dict, seconds: float) -> None:
        """The phase ended: wipe the bar and show one summary line with every entry of `row`."""

    def close(self) -> None:
        """Wipe any bar (also after an error or an interrupt)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Console(Silent):
    """Python's default: a tqdm bar on stderr while a phase runs, the summary lines on stdout."""

    def __init__(self, bar: bool | None = None):
        self.bar_wanted = _console_has_room() if bar is None else bar
        self.bar = None

    def start(self, total, desc, unit="batch"):
        self.close()
        if self.bar_wanted:
            self.bar = tqdm(total=total, desc=desc, unit=unit, leave=False, mininterval=0.5,
                            ncols=min(_width(), 100))

    def update(self, n=1):
        if self.bar is not None:
            self.bar.update(n)

    def epoch_end(self, desc, row, seconds):
        self.close()
        print(format_line(desc, row, seconds, _width()), flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Callback(Silent):
    """Drawn by someone else (R): `bar(desc, done, total, seconds)` at most every `interval`
    seconds while a phase runs, `bar(None, 0, 0, 0)` to wipe it, `line(text)` for each summary line.
    With `bar=None` only the summary lines are shown."""

    def __init__(self, bar: Callable | None, line: Callable, width: int = 80, interval: float = 0.2):
        self.bar, self.line, self.width, self.interval = bar, line, int(width), interval
        self.drawn = False
        self.desc, self.done, self.total, self.t0, self.last = "", 0, 0, 0.0, 0.0

    def start(self, total, desc, unit="batch"):
        self.close()
        self.desc, self.done, self.total = desc, 0, int(total)
        self.t0 = self.last = time.perf_counter()

    def update(self, n=1):
        self.done += n
        if self.bar is None:
            return
        now = time.perf_counter()
        if now - self.last >= self.interval:
            self.last = now
            self.drawn = True
            self.bar(self.desc, self.done, self.total, now - self.t0)

    def epoch_end(self, desc, row, seconds):
        self.close()
        self.line(format_line(desc, row, seconds, self.width))

    def close(self):
        if self.drawn:
            self.drawn = False
            self.bar(None, 0, 0, 0.0)


_installed: contextvars.ContextVar[Callable[[], Silent] | None] = contextvars.ContextVar("selfsup_progress",
                                                                                          default=None)


def reporter(verbose: bool) -> Silent:
    """The reporter a long call uses: silent unless `verbose`, on rank 0 only, R's for calls made from R."""
    if not verbose or _rank() != 0:
        return Silent()
    make = _installed.get()
    return make() if make is not None else Console()


@contextlib.contextmanager
def installed(make: Callable[[], Silent]):
    """Calls inside this block report through `make()` (how R installs its reporter for one call)."""
    token = _installed.set(make)
    try:
        yield
    finally:
        _installed.reset(token)


class Blocks:
    """Progress of a loop without epochs (episodes, environment steps): a bar through each tenth of
    the run and then its summary line, `summary(first, end)` of the steps first..end-1 (0-based)."""

    def __init__(self, rep: Silent, total: int, label: str, unit: str, summary: Callable[[int, int], dict]):
        self.rep, self.total, self.label, self.unit, self.summary = rep, total, label, unit, summary
        self.size = max(1, -(-total // BLOCKS))
        self.done = 0
        self.t0 = time.perf_counter()
        self._start()

    def _start(self) -> None:
        end = min(self.done + self.size, self.total)
        self.rep.start(end - self.done, f"{self.label} {end:,}/{self.total:,}", self.unit)

    def update(self) -> None:
        """One more step; at the end of a block, its summary line."""
        self.done += 1
        self.rep.update()
        if self.done % self.size == 0 or self.done == self.total:
            first = (self.done - 1) // self.size * self.size
            self.rep.epoch_end(f"{self.label} {self.done:,}/{self.total:,}", self.summary(first, self.done),
                               time.perf_counter() - self.t0)
            if self.done < self.total:
                self._start()


def _rank() -> int:
    """This process's rank in a distributed run (0 when there is none)."""
    if "torch.distributed" in sys.modules:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank()
    return int(os.environ.get("RANK", "0") or 0)


def _width() -> int:
    return shutil.get_terminal_size((80, 24)).columns or 80


def _console_has_room() -> bool:
    """A bar only where it can be redrawn in place: a terminal at least MIN_BAR_WIDTH wide, or Jupyter."""
    if "ipykernel" in sys.modules and not sys.stderr.isatty():
        return True
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and shutil.get_terminal_size((0, 0)).columns >= MIN_BAR_WIDTH
