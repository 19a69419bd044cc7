"""`python -m selfsup ...`: train from the command line, e.g. on a cluster under torchrun.

    python -m selfsup pretrain --task rotation --data images.npy --epochs 10 --out model.safetensors
    torchrun --nproc_per_node 4 -m selfsup pretrain --task rotation --data images.npy --out model.safetensors
    python -m selfsup fit --data x.npy --labels y.npy --epochs 10 --out classifier.safetensors

`--data` is a ``.npy`` file (memory-mapped: only what training touches is read), an ``.npz``
file with ``:key`` (``arrays.npz:x_train``), or a data set of `load_dataset` with ``:split``
(``fashion_mnist:train``; labels come with it). Under torchrun every rank trains its share and
rank 0 alone prints, writes `--history` and saves `--out`; the saved model loads in Python and R
(``load_model()``) like any other. `torchrun_command()` writes such a command line from code (R too).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import _validate as v
from . import distributed
from .data import DATASETS, load_dataset
from .model import save_model

UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.timeout is not None:
        os.environ[distributed.TIMEOUT_ENV] = str(args.timeout)
    import torch.distributed as dist
    joined = lambda: dist.is_available() and dist.is_initialized()   # noqa: E731
    try:
        status = _run(args)
        if joined():
            # every rank leaves together: a rank that tore down gloo while rank 0 was still saving died
            # now and then with "terminate called without an active exception" (1 run in 15 under load)
            dist.barrier()
        return status
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as err:
        print(f"selfsup {args.command}: error: {err}", file=sys.stderr)
        return 1
    finally:
        if joined():
            dist.destroy_process_group()


def _run(args) -> int:
    import selfsup as ss

    world = distributed.world()
    x, y = read_data(args.data, args.labels, args.command == "fit")
    common = dict(epochs=args.epochs, batch_size=args.batch_size, validation_split=args.validation_split,
                  lr=args.lr, seed=args.seed, device=args.device, verbose=not args.quiet)
    start = time.perf_counter()
    if args.command == "pretrain":
        model = ss.ssl_pretrain(x, args.task, encoder=args.encoder, device_budget=args.device_budget, **common,
                                **dict(args.option))
    else:
        model = ss.fit_supervised(x, y, encoder=args.encoder, **common)
    seconds = time.perf_counter() - start
    if world.main:
        path = save_model(model, args.out)
        if args.history:
            write_history(model.history, args.history)
        if not args.quiet:
            last = " ".join(f"{k}={v:.4f}" for k, v in model.history[-1].items() if k != "epoch")
            ranks = f" on {world.size} ranks" if world.parallel else ""
            print(f"selfsup {args.command}: {len(x)} samples, {args.epochs} epochs{ranks} in {seconds:.1f} s; "
                  f"last epoch: {last}; saved {path}")
    return 0


def read_data(spec: str, labels: str | None, need_labels: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(x, y) from `--data` and `--labels` (see the module docstring)."""
    name, _, part = spec.partition(":")
    y = None
    if name in DATASETS and not Path(spec).exists():
        data = load_dataset(name)
        split = part or "train"
        if split not in ("train", "test"):
            raise ValueError(f"`--data` {spec!r}: the split must be train or test; got {split!r}.")
        x, y = data[split]["x"], data[split]["y"]
    else:
        x = _read_array(spec, "--data")
    if labels is not None:
        y = _read_array(labels, "--labels")
    if need_labels and y is None:
        raise ValueError("`--labels` is needed: a .npy file of class indices 0..k-1, one per sample of `--data` "
                         "(or give a data set such as --data fashion_mnist:train).")
    return x, y


def _read_array(spec: str, flag: str) -> np.ndarray:
    path, _, key = spec.partition(":") if ".npz:" in spec else (spec, "", "")
    if not Path(path).is_file():
        raise FileNotFoundError(f"`{flag}` {path!r} is not a file (a .npy or .npz file, or one of: "
                                f"{', '.join(DATASETS)}).")
    if path.endswith(".npz"):
        with np.load(path) as npz:
            if not key:
                if len(npz.files) != 1:
                    raise ValueError(f"`{flag}` {path!r} holds {', '.join(npz.files)}: name one as {path}:NAME.")
                key = npz.files[0]
            if key not in npz.files:
                raise ValueError(f"`{flag}` {path!r} has no array {key!r}; it has {', '.join(npz.files)}.")
            return npz[key]
    try:
        return np.load(path, mmap_mode="r")        # read lazily: the file may be larger than memory
    except ValueError as err:
        raise ValueError(f"`{flag}` {path!r} is not a numpy .npy file ({err}).") from None


def write_history(history: list[dict], path: str) -> None:
    """One row per epoch: CSV, or JSON when `path` ends in .json."""
    if path.endswith(".json"):
        Path(path).write_text(json.dumps(history, indent=1))
        return
    names = list(dict.fromkeys(k for row in history for k in row))
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        writer.writerows(history)


def _bytes(text: str) -> int:
    """'512M', '2G', '1048576' -> bytes."""
    raw = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = raw[-1] if raw and raw[-1] in UNITS else ""
    try:
        value = float(raw[:-1] if unit else raw) * UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a size such as 512M or 2G; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive; got {text!r}")
    return int(value)


def _option(text: str) -> tuple[str, object]:
    """'name=value' of a task option; the value is read as JSON when it can be (numbers, true/false)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"must be NAME=VALUE; got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m selfsup", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pretrain = sub.add_parser("pretrain", help="ssl_pretrain(): pretrain an encoder on a pretext task")
    pretrain.add_argument("--task", default="rotation", help="pretext task (default rotation)")
    pretrain.add_argument("--option", type=_option, action="append", default=[], metavar="NAME=VALUE",
                          help="a task option, e.g. --option all_rotations=true (repeat for more)")
    pretrain.add_argument("--device-budget", type=_bytes, default=None, metavar="SIZE",
                          help="data kept on the device at once, e.g. 2G; larger data stream through in chunks")
    fit = sub.add_parser("fit", help="fit_supervised(): train a classifier")
    fit.add_argument("--labels", help=".npy file of class indices 0..k-1 (not needed for a named data set)")
    for p in (pretrain, fit):
        p.add_argument("--data", required=True, help=".npy / .npz:KEY file, or a data set name[:train|test]")
        p.add_argument("--out", required=True, help="where to save the model (.safetensors)")
        p.add_argument("--encoder", default="cnn", help="cnn (the seminar CNN, default) or mlp")
        p.add_argument("--epochs", type=int, default=10)
        p.add_argument("--batch-size", type=int, default=64, help="the global batch: all ranks together")
        p.add_argument("--lr", type=float, default=1e-3)
        p.add_argument("--validation-split", type=float, default=0.0)
        p.add_argument("--seed", type=int, default=None)
        p.add_argument("--device", default="auto", help="auto, cpu or cuda (under torchrun: this rank's GPU)")
        p.add_argument("--history", help="also write the history, one row per epoch (.csv or .json)")
        p.add_argument("--timeout", type=float, default=None,
                       help=f"seconds a rank waits for the others before giving up (default ${distributed.TIMEOUT_ENV} "
                            f"or {distributed.DEFAULT_TIMEOUT:g})")
        p.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    pretrain.set_defaults(labels=None)
    return parser


# --------------------------------------------------------------------- the command line from code
COMMON_FLAGS = ("encoder", "epochs", "batch_size", "lr", "validation_split", "seed", "device", "history", "timeout",
                "quiet")
SETTING_FLAGS = {"pretrain": ("task", "device_budget", *COMMON_FLAGS), "fit": ("labels", *COMMON_FLAGS)}


def torchrun_command(data, out, *, command: str = "pretrain", nproc_per_node: int = 1, nnodes: int = 1,
                     rdzv_endpoint: str | None = None, rdzv_id: str = "selfsup", python: str | None = None,
                     options: dict | None = None, **settings) -> list[str]:
    """The command line that runs ``python -m selfsup <command>`` under torchrun, as a list of words.

    Run it on every node (``subprocess.run(cmd)``; in R ``system2(cmd[1], cmd[-1])``), then load
    `out` with ``load_model()``. One node (`nnodes` = 1): ``--standalone``, torchrun finds a free
    port itself. Several nodes: every node runs the same command and they meet at `rdzv_endpoint`
    ("host:port" of a machine all of them reach, e.g. the first node and port 29400).

    Parameters
    ----------
    data, out : str
        `--data` (a .npy file, .npz:KEY, or a data set name[:split]) and `--out` (.safetensors).
    command : {"pretrain", "fit"}
    nproc_per_node : int, default=1
        Processes per node: one per GPU (or a few CPU processes).
    nnodes : int, default=1
    rdzv_endpoint, rdzv_id : str
        Where the nodes meet and the job's name there (several nodes only).
    python : str, optional
        The Python that has selfsup and torch; default this one (``sys.executable``).
    options : dict, optional
        Options of the pretext task (``--option``), e.g. ``{"all_rotations": True}``.
    **settings
        Flags of the command, as ``python -m selfsup <command> --help`` lists them: encoder, epochs,
        batch_size, lr, validation_split, seed, device, history, timeout, quiet; task and
        device_budget (bytes, or "2G") for pretrain; labels for fit.
    """
    v.check_choice(command, "command", ("pretrain", "fit"))
    nproc_per_node, nnodes = v.check_int(nproc_per_node, "nproc_per_node"), v.check_int(nnodes, "nnodes")
    unknown = sorted(set(settings) - set(SETTING_FLAGS[command]))
    if unknown:
        raise TypeError(f"command {command!r} has no setting {', '.join(map(repr, unknown))}; its settings are: "
                        f"{', '.join(SETTING_FLAGS[command])}.")
    if command == "fit" and options:
        raise ValueError("`options` are options of a pretext task: command \"pretrain\" only.")
    launch = ["--standalone"] if nnodes == 1 else _rendezvous(nnodes, rdzv_endpoint, rdzv_id)
    words = [python or sys.executable, "-m", "torch.distributed.run", *launch, "--nproc_per_node", str(nproc_per_node),
             "-m", "selfsup", command, "--data", str(data), "--out", str(out)]
    for name, value in settings.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        words += [flag] if value is True else [flag, _word(value)]
    for name, value in (options or {}).items():
        words += ["--option", f"{name}={json.dumps(value)}"]          # read back as JSON: types survive
    return words


def _rendezvous(nnodes: int, endpoint, rdzv_id) -> list[str]:
    if not isinstance(endpoint, str) or ":" not in endpoint:
        raise ValueError(f"`rdzv_endpoint` must be \"host:port\" when `nnodes` > 1 (a machine every node reaches, "
                         f"e.g. the first node and port 29400); got {endpoint!r}.")
    return ["--nnodes", str(nnodes), "--rdzv_backend", "c10d", "--rdzv_endpoint", endpoint, "--rdzv_id", str(rdzv_id)]


def _word(value) -> str:
    """A setting as the command line takes it; R's whole doubles (10) as integers ("10", not "10.0")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
