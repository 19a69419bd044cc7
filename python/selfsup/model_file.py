"""The file behind `save_model()` / `load_model()`: one safetensors file, written safely, read in one
go, and checked before anything is built from it.

Writing (`write_atomic`): the file's bytes are made in memory, written to a temp file beside the
target and named after it (".<name>.selfsup-<pid>-<random>.tmp", created O_EXCL), flushed to
disk, then renamed over the target: readers see the old file or the new one, never a mix. The
temp file is removed on any exception and on SIGTERM; one left by a process that was killed
outright (kill -9, power loss) is swept by the next save of the same path, once that process is
gone. The new file gets the umask's mode, or the mode of the file it replaces; a symlink is
followed (its target is replaced, the link stays).

Reading (`read_bytes`, `decode`): the file is read once and everything comes from those bytes.
(safetensors' `safe_open` reopens the file by name for the tensors: a save in between gave one
save's metadata with the other's weights.) The metadata is checked against the tensors' names,
shapes and dtypes, with the network built on torch's "meta" device (shapes only, no memory),
before anything real is allocated.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import json
import math
import os
import re
import secrets
import signal
import stat
import threading
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from torch.overrides import TorchFunctionMode

from ._validate import MAX_SEED
from .nets import ENCODERS, HEADS, Net

FORMAT = "selfsup-model/1"
META_KEYS = ("spec", "classes", "history", "task", "frozen")
MAX_HEADER = 100_000_000   # bytes; safetensors' own limit


class InvalidModelFile(ValueError):
    """The file is readable but is not a valid selfsup model."""


class _Why(Exception):
    """Why a file is not a valid model; `decode` adds the path."""


# ------------------------------------------------------------------------------------- writing
def _temp_pattern(target: Path) -> re.Pattern:
    return re.compile(re.escape(f".{target.name}.selfsup-") + r"(\d+)-[0-9a-f]{8}\.tmp")


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.selfsup-{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):   # exists, owned by someone else / not a pid: keep it
        return True
    return True


def sweep_stale_temps(target: Path) -> list[Path]:
    """Remove temp files of saves of `target` whose process is gone; returns what was removed.

    Only our own names (`_temp_pattern`) and only dead writers: a live process's temp file (even
    this process's, from another thread) is left alone. A reused pid keeps a stale file until that
    process ends, which errs on the safe side.
    """
    pattern, removed = _temp_pattern(target), []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        match = pattern.fullmatch(name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(target.parent / name)
                removed.append(target.parent / name)
    return removed


def write_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` through a temp file and a rename (see the module docstring).

    Errors name `path`, not the temp file. Returns the file actually written (a symlink's target).
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        old_mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        old_mode = None
    sweep_stale_temps(target)
    tmp = _temp_name(target)
    with _remove_on_sigterm(tmp):
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # the umask applies
            try:
                if old_mode is not None:
                    os.fchmod(fd, old_mode)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException as err:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
            if isinstance(err, OSError):
                raise _write_error(path, target, err) from None
            raise
    _fsync_folder(target.parent)
    return target


def _write_error(path, target: Path, err: OSError) -> OSError:
    folder = err.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT)
    where = f"its folder {str(target.parent)!r}" if folder else "it"
    reason = err.strerror or type(err).__name__
    return type(err)(f"`path` {str(path)!r} cannot be written: {reason} ({where}).")


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot open a folder: then skip."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# The temp files of saves in progress, removed by the SIGTERM handler.
_live_temps: set[Path] = set()
_lock = threading.Lock()
_previous_handler = None
_installed = 0


@contextlib.contextmanager
def _remove_on_sigterm(tmp: Path):
    """While the block runs, SIGTERM first removes `tmp` and then does what it did before.

    Installed only from the main thread (Python's rule) and only over a handler we can restore:
    the default, or one set from Python. Otherwise the next save's sweep cleans up.
    """
    global _previous_handler, _installed
    install = threading.current_thread() is threading.main_thread()
    with _lock:
        _live_temps.add(tmp)
        if install and _installed == 0:
            previous = signal.getsignal(signal.SIGTERM)
            if previous is None or previous is signal.SIG_IGN:
                install = False
            else:
                _previous_handler = previous
                signal.signal(signal.SIGTERM, _on_sigterm)
        if install:
            _installed += 1
    try:
        yield
    finally:
        with _lock:
            _live_temps.discard(tmp)
            if install:
                _installed -= 1
                if _installed == 0:
                    signal.signal(signal.SIGTERM, _previous_handler)


def _on_sigterm(signum, frame):
    previous = _previous_handler
    if callable(previous):
        # e.g. one that raises SystemExit: the exception's way out removes the temp file
        previous(signum, frame)
        return
    for tmp in list(_live_temps):
        with contextlib.suppress(OSError):
            os.remove(tmp)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)   # terminate as we would have without the handler


# ------------------------------------------------------------------------------------- reading
def read_bytes(path: Path) -> bytes:
    """The whole file, in one read of one open file."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except PermissionError:
        raise PermissionError(f"`path` {str(path)!r} cannot be read: permission denied.") from None
    except FileNotFoundError:
        raise FileNotFoundError(f"`path` {str(path)!r} does not exist or is not a file.") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"`path` {str(path)!r} is a folder, not a model file.") from None


def decode(data: bytes, path) -> tuple[dict, Net]:
    """(metadata, network with the file's weights) from a file's bytes, every part checked first.

    Raises InvalidModelFile: "`path` ... is not a valid selfsup model: <why>."
    """
    try:
        header = _header(data)
        meta = check_metadata(header.pop("__metadata__", None))
        entries = _tensor_entries(header)
        layers = _layers(json.dumps(meta["spec"], sort_keys=True), tuple(sorted(entries.items())))
        check_against_layers(meta, layers)
        tensors = _tensors(data)
    except _Why as why:
        raise InvalidModelFile(f"`path` {str(path)!r} is not a valid selfsup model: {why}.") from None
    with torch.random.fork_rng(devices=[]):   # the initial weights drawn here must not move the user's stream
        net = Net(meta["spec"])                # now for real: its sizes are the file's own
    net.load_state_dict(tensors)
    return meta, net


def _tensors(data: bytes) -> dict[str, torch.Tensor]:
    try:
        tensors = load_tensors(data)
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise _Why(f"its tensors cannot be read ({err})") from None
    for name, t in tensors.items():
        if not torch.isfinite(t).all():
            raise _Why(f"weight {name!r} contains NaN/Inf")
        if not t.is_floating_point() and (t < 0).any():   # batch norm's num_batches_tracked: a count
            raise _Why(f"weight {name!r} is a count, but holds negative numbers")
    return tensors


def _header(data: bytes) -> dict:
    """The safetensors header: 8 bytes of length (little-endian), then that much JSON."""
    if len(data) < 8:
        raise _Why(f"it has {len(data)} bytes, too few for a safetensors file")
    n = int.from_bytes(data[:8], "little")
    if n > min(MAX_HEADER, len(data) - 8):
        raise _Why("it is not a safetensors file (its first 8 bytes give no valid header length)")
    try:
        header = json.loads(data[8:8 + n])
    except (ValueError, RecursionError):
        raise _Why("it is not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise _Why("it is not a safetensors file (its header is not a JSON object)")
    return header


def check_metadata(header_meta) -> dict:
    """The selfsup metadata of the header, with the type of every part checked."""
    if not isinstance(header_meta, dict) or header_meta.get("format") != FORMAT:
        raise _Why(f"it is a safetensors file without selfsup's metadata (format {FORMAT!r})")
    if not isinstance(header_meta.get("selfsup"), str):
        raise _Why("its header lacks the selfsup metadata (key 'selfsup')")
    try:
        meta = json.loads(header_meta["selfsup"])
    except (ValueError, RecursionError):
        raise _Why("its selfsup metadata is not JSON") from None
    if not isinstance(meta, dict):
        raise _Why("its selfsup metadata is not a JSON object")
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise _Why(f"its metadata lacks {', '.join(map(repr, missing))}")
    _check_spec(meta["spec"])
    classes = meta["classes"]
    if classes is not None and not (_list_of(classes, str) and len(classes) >= 2
                                    and len(set(classes)) == len(classes)):
        raise _Why("its `classes` must be null or at least 2 distinct class names")
    if not isinstance(meta["task"], str):
        raise _Why("its `task` must be a string")
    if not _list_of(meta["frozen"], str):
        raise _Why("its `frozen` must be a list of layer names")
    history = meta["history"]
    if not isinstance(history, list) or not all(
            isinstance(row, dict) and all(_is_number(val) for val in row.values()) for row in history):
        raise _Why("its `history` must be a list of rows of numbers (one row per epoch)")
    return meta


def _check_spec(spec) -> None:
    if not isinstance(spec, dict) or not isinstance(spec.get("encoder"), dict) \
            or not isinstance(spec.get("head"), dict):
        raise _Why("its `spec` must hold an `encoder` and a `head`")
    for part, table in (("encoder", ENCODERS), ("head", HEADS)):
        name = spec[part].get("name")
        if not isinstance(name, str) or name not in table:
            raise _Why(f"its {part} {name!r} is not one of {', '.join(map(repr, table))}")
        _check_options(part, spec[part], table[name])
    shape = spec["encoder"].get("input_shape")
    if not _list_of(shape, int) or not 1 <= len(shape) <= 3 or min(shape) < 1:
        raise _Why(f"its encoder's `input_shape` must be 1 to 3 positive whole numbers; got {shape!r}")
    seed = spec.get("seed")
    if seed is not None and (not _list_of([seed], int) or not 0 <= seed <= MAX_SEED):
        raise _Why(f"its `spec.seed` must be null or a whole number 0..2**64-1; got {seed!r}")
    pretext = spec.get("pretext")
    if pretext is not None:
        _check_pretext(pretext)


def _check_options(part: str, options: dict, builder) -> None:
    """Options must be the builder's own (not the first, which the network passes: the input
    shape of an encoder, the feature count of a head); every whole number in them is a size >= 1."""
    params = list(inspect.signature(builder).parameters)[1:]
    if part == "encoder":
        params.append("input_shape")
    unknown = [k for k in options if k != "name" and k not in params]
    if unknown:
        raise _Why(f"its {part} {options['name']!r} has no option {', '.join(map(repr, unknown))} "
                   f"(its options: {', '.join(params)})")
    for key, value in options.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, int) and not isinstance(item, bool) and item < 1:
                raise _Why(f"its {part} option {key!r} holds {item}; sizes must be at least 1")
            if isinstance(item, float) and not math.isfinite(item):
                raise _Why(f"its {part} option {key!r} holds {item}; it must be finite")


def _check_pretext(pretext) -> None:
    from .pretext import TASKS   # the pretext package imports the training loop; only needed here
    if not isinstance(pretext, dict) or pretext.get("name") not in TASKS \
            or not isinstance(pretext.get("options"), dict):
        raise _Why("its `spec.pretext` must name a pretext task and hold its options")
    shape = pretext.get("data_shape")
    if shape is not None and (not _list_of(shape, int) or min(shape, default=1) < 1):
        raise _Why(f"its pretext `data_shape` must be positive whole numbers; got {shape!r}")
    try:
        TASKS[pretext["name"]](**pretext["options"])
    except (TypeError, ValueError) as err:
        raise _Why(f"its pretext task's options are not valid ({str(err).rstrip('.')})") from None


def _tensor_entries(header: dict) -> dict[str, tuple[tuple[int, ...], str]]:
    """{name: (shape, dtype)} of the header's tensors; `_layers` checks them against the network."""
    entries = {}
    for name, info in header.items():
        if not isinstance(info, dict) or not _list_of(info.get("shape"), int) \
                or not isinstance(info.get("dtype"), str):
            raise _Why(f"it is not a safetensors file (tensor {name!r} has no valid shape or dtype)")
        entries[name] = (tuple(info["shape"]), info["dtype"])
    return entries


# safetensors' names of the dtypes a selfsup network holds: float32 weights and buffers, and the
# int64 batch count of batch norm (`num_batches_tracked`).
DTYPES = {torch.float32: ("F32", "float32"), torch.int64: ("I64", "int64")}


class _BuildBudget(TorchFunctionMode):
    """Stops building a network after `limit` torch calls: a spec with a depth of a million layers
    would otherwise keep us busy even on the meta device. Legit networks need a few dozen calls per
    weight tensor."""

    def __init__(self, limit: int):
        super().__init__()
        self.left = limit

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.left -= 1
        if self.left < 0:
            raise _Why("its network spec describes a much larger network than the file holds")
        return func(*args, **(kwargs or {}))


@functools.lru_cache(maxsize=32)
def _layers(spec_json: str, entries: tuple) -> tuple[str, ...]:
    """The layer names of the network of a spec, built on the meta device (shapes only, no memory),
    which must have exactly the file's weights (`entries`: (name, (shape, dtype)) pairs, the dtype
    as safetensors names it: "F32", "I64"). Remembered: the
    meta build takes milliseconds, and files of one kind are often loaded again and again."""
    entries = dict(entries)
    try:
        with torch.device("meta"), _BuildBudget(limit=50 * (len(entries) + 10)):
            net = Net(json.loads(spec_json))
    except _Why:
        raise
    except Exception as err:  # any builder error: the spec is broken, whatever the builder says
        raise _Why(f"its network spec does not build ({type(err).__name__}: {str(err).rstrip('.')})") from None
    wanted = {name: (tuple(t.shape), t.dtype) for name, t in net.state_dict().items()}
    missing = [k for k in wanted if k not in entries]
    extra = [k for k in entries if k not in wanted]
    if missing or extra:
        parts = [f"lacks weights {', '.join(missing[:5])}" if missing else "",
                 f"has weights its network does not have: {', '.join(extra[:5])}" if extra else ""]
        raise _Why("it " + " and ".join(p for p in parts if p))
    for name, (shape, dtype) in wanted.items():
        if entries[name][0] != shape:
            raise _Why(f"weight {name!r} has shape {entries[name][0]}, but its network spec needs {shape}")
        code, word = DTYPES.get(dtype, (str(dtype), str(dtype)))
        if entries[name][1] != code:
            raise _Why(f"weight {name!r} is {entries[name][1]}, but its network spec needs {word} ({code})")
    return tuple(name for name, _ in net.layers())


def check_against_layers(meta: dict, layers: tuple[str, ...]) -> None:
    """Parts of the metadata that refer to the network: frozen layer names and the class count."""
    unknown = [name for name in meta["frozen"] if name not in layers]
    if unknown:
        raise _Why(f"its `frozen` names layers its network does not have: {', '.join(unknown)}")
    if meta["classes"] is not None:
        n_out = meta["spec"]["head"].get("n_outputs")
        if n_out != len(meta["classes"]):
            raise _Why(f"it has {len(meta['classes'])} class names but {n_out} outputs")


def _list_of(value, kind) -> bool:
    return isinstance(value, list) and all(isinstance(v, kind) and not isinstance(v, bool) for v in value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
