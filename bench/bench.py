"""`make bench`: selfsup against plain-PyTorch references, same model, data and settings, one run.

Each (case, variant) runs in a fresh subprocess so that its peak memory and warm-up are its own.
Variants:
  selfsup       the package's public function
  ref_device    a hand-written loop with the data already on the device (batches by index)
  ref_tutorial  the tutorial way: torchvision.datasets.FashionMNIST + ToTensor + DataLoader
  keras         the peer the seminar itself used: keras 3 on the torch backend, compile/fit as the
                seminar does (bench/peers.py, run in the peers' own Python: the venv at
                $SELFSUP_PEERS_VENV, default /work/peers-venv, or the Python BENCH_PEERS_PYTHON names).
                Without it the keras rows are skipped with a line saying how to install it:
                python3 -m venv $SELFSUP_PEERS_VENV &&
                $SELFSUP_PEERS_VENV/bin/pip install torch==2.14.1 torchvision==0.29.1 keras
  one_by_one    (replicates) fit_replicates(side_by_side=False); "selfsup" there is side_by_side=True
  fast          (replicates) fit_replicates(exact=False): the models as one grouped network
  cpu_levers    the seminar CNN at batch 64 (fit on --n images, then evaluate on the test set) with
                all CPU levers ("selfsup") and with one lever off at a time (no_*), none ("no_levers"),
                evaluation under inference_mode, and torch.compile of the network
Output: a Markdown table on stdout and JSON (bench/results/bench-<device>.json).

Usage: .venv/bin/python bench/bench.py [--device cpu|cuda] [--epochs N] [--n N] [--cases a,b] [--threads T]
  --threads T pins torch's threads in every run, peers included (default: each as it comes: torch's
  default for the references and keras, selfsup's per-call rule for selfsup).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import selfsup as ss

HERE = Path(__file__).resolve().parent
LEVERS = ["no_channels_last", "no_pool_before_relu", "no_uniform_masks", "no_memory_reuse", "no_levers",
          "inference_mode", "torch_compile"]
CASES = {  # case -> (variants, batch size)
    "supervised_b64": (["selfsup", "ref_device", "ref_tutorial", "keras"], 64),
    "supervised_b512": (["selfsup", "ref_device", "ref_tutorial"], 512),
    "rotation_4views": (["selfsup", "ref_device"], 64),
    "simclr": (["selfsup", "ref_device"], 256),
    "bridge_r_vs_python": (["python", "r"], 64),
    # the seminar's steps 3 and 5: 20 models, 150 labels each (120 trained on), batch 1
    "replicates_b1": (["selfsup", "one_by_one", "fast", "ref_device", "keras"], 1),
    "cpu_levers": (["selfsup"] + LEVERS, 64),
}
PEERS = {"keras"}   # variants run by bench/peers.py in the peers' Python
PEERS_VENV = Path(os.environ.get("SELFSUP_PEERS_VENV", "/work/peers-venv"))   # the peers' own venv
PEERS_PYTHON = os.environ.get("BENCH_PEERS_PYTHON", str(PEERS_VENV / "bin" / "python"))
REPLICATES, LABELLED = 20, 150


# ------------------------------------------------------------------------------ references
def reference_cnn(n_out: int = 10) -> nn.Module:
    """The seminar CNN written plainly (keras 'same' padding for a 2x2 kernel: pad right/bottom)."""
    return nn.Sequential(
        nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(1, 64, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
        nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(64, 32, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, n_out))


def ref_device_loop(model, x, y, epochs, batch_size, device, make_batch=None, loss_fn=None):
    """Data on the device, batches by index; `make_batch` turns a uint8 batch into (inputs, targets)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    make_batch = make_batch or (lambda xb, yb: (xb.float() / 255, yb))
    loss_fn = loss_fn or F.cross_entropy
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), device=device)
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            inputs, targets = make_batch(x[idx], None if y is None else y[idx])
            loss = loss_fn(model(inputs), targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model


def ref_tutorial_loop(model, n, epochs, batch_size, device):
    """torchvision's FashionMNIST dataset decoding images on the CPU every epoch, as tutorials do."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms
    root = _torchvision_root()
    data = datasets.FashionMNIST(root, train=True, transform=transforms.ToTensor())
    loader = DataLoader(Subset(data, range(n)), batch_size=batch_size, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model


def _torchvision_root() -> str:
    """torchvision wants <root>/FashionMNIST/raw/<unzipped IDX files>: unzip Debian's copies once."""
    import gzip
    import shutil
    root = Path(tempfile.gettempdir()) / "selfsup-bench-tv"
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for gz in ss.data.FASHION_MNIST_DIR.glob("*.gz"):
        target = raw / gz.stem
        if not target.exists():
            with gzip.open(gz) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return str(root)


def rotate4(xb, _y):
    """All four rotations of each image: (B, 1, H, W) uint8 -> (4B, 1, H, W) floats, labels 0..3."""
    x = xb.float() / 255
    views = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])
    labels = torch.arange(4, device=x.device).repeat_interleave(len(x))
    return views, labels


def simclr_views(xb, _y):
    """Two random views per image: shifted crop (pad 4) and horizontal flip; (2B, 1, H, W)."""
    x = xb.float() / 255
    views = []
    for _ in range(2):
        padded = F.pad(x, (4, 4, 4, 4))
        dx, dy = np.random.randint(0, 9, size=2)
        v = padded[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]]
        flip = torch.rand(len(x), device=x.device) < 0.5
        views.append(torch.where(flip[:, None, None, None], v.flip(3), v))
    return torch.cat(views), None


def nt_xent(z, _targets, temperature=0.5):
    z = F.normalize(z.float(), dim=1)
    n = len(z) // 2
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, targets)


# ------------------------------------------------------------------------------- one variant
def run_one(case: str, variant: str, args) -> dict:
    torch.manual_seed(0)
    np.random.seed(0)
    device = torch.device(args.device)
    d = ss.load_dataset("fashion_mnist")
    x, y = d["train"]["x"][:args.n], d["train"]["y"][:args.n]
    batch = CASES[case][1]
    start = time.perf_counter()
    accuracy = float("nan")
    images = args.n * args.epochs
    if case.startswith("supervised"):
        if variant == "selfsup":
            model = ss.fit_supervised(x, y, epochs=args.epochs, batch_size=batch, seed=0,
                                      device=args.device, verbose=False)
            _sync(device)
            seconds = time.perf_counter() - start
            accuracy = ss.evaluate(model, d["test"]["x"], d["test"]["y"], device=args.device)["accuracy"]
        else:
            net = reference_cnn().to(device)
            if variant == "ref_device":
                xs = torch.from_numpy(x).to(device).unsqueeze(1)
                ref_device_loop(net, xs, torch.from_numpy(y).to(device), args.epochs, batch, device)
            else:
                ref_tutorial_loop(net, args.n, args.epochs, batch, device)
            _sync(device)
            seconds = time.perf_counter() - start
            accuracy = _ref_accuracy(net, d, device)
    elif case == "rotation_4views":
        images *= 4
        if variant == "selfsup":
            ss.ssl_pretrain(x, task="rotation", all_rotations=True, epochs=args.epochs, batch_size=batch,
                            seed=0, device=args.device, verbose=False)
        else:
            net = reference_cnn(4).to(device)
            ref_device_loop(net, torch.from_numpy(x).to(device).unsqueeze(1), None, args.epochs, batch,
                            device, make_batch=rotate4)
        _sync(device)
        seconds = time.perf_counter() - start
    elif case == "simclr":
        images *= 2
        if variant == "selfsup":
            ss.ssl_pretrain(x, task="simclr", epochs=args.epochs, batch_size=batch, seed=0,
                            device=args.device, verbose=False)
        else:
            net = nn.Sequential(reference_cnn(256), nn.ReLU(), nn.Linear(256, 128)).to(device)
            ref_device_loop(net, torch.from_numpy(x).to(device).unsqueeze(1), None, args.epochs, batch,
                            device, make_batch=simclr_views, loss_fn=nt_xent)
        _sync(device)
        seconds = time.perf_counter() - start
    elif case == "cpu_levers":
        seconds, accuracy = _levers(variant, x, y, d, args)
    elif case == "replicates_b1":
        images = REPLICATES * int(LABELLED * 0.8) * args.epochs
        seconds = _replicates(variant, x, y, args, device)
    else:  # bridge: the whole call, conversion of the array included, from R vs from Python
        seconds = _bridge(variant, args)
    return {"case": case, "variant": variant, "device": args.device, "epochs": args.epochs, "n": args.n,
            "batch_size": batch, "seconds": seconds, "images_per_s": images / seconds,
            "s_per_epoch": seconds / args.epochs, "peak_mem_mb": _peak_mb(device), "test_accuracy": accuracy}


def _levers(variant: str, x, y, d, args) -> tuple[float, float]:
    """fit_supervised at batch 64, then evaluate on the test set, with `variant`'s lever off or on."""
    from selfsup import cpu, nets
    from selfsup.nets import layers
    if variant in ("no_channels_last", "no_levers"):
        layers.CHANNELS_LAST = False
    if variant in ("no_pool_before_relu", "no_levers"):
        layers.POOL_BEFORE_RELU = False
    if variant in ("no_uniform_masks", "no_levers"):
        layers.UNIFORM_MASKS = False
    if variant in ("no_memory_reuse", "no_levers"):
        cpu._kept = True    # keep_freed_memory() then does nothing: glibc's defaults stay
    if variant == "inference_mode":
        import contextlib
        import selfsup.train as train

        @contextlib.contextmanager
        def eval_inference(module):
            was = module.training
            module.eval()
            try:
                with torch.inference_mode():
                    yield module
            finally:
                module.train(was)
        train.eval_mode = eval_inference
    model = ss.build_model(x.shape[1:], 10, seed=0)
    start = time.perf_counter()
    if variant == "torch_compile":
        model.net = torch.compile(model.net)   # compile time is part of the call
    ss.fit_supervised(x, y, model=model, epochs=args.epochs, batch_size=64, seed=0, device=args.device,
                      verbose=False)
    accuracy = ss.evaluate(model, d["test"]["x"], d["test"]["y"], device=args.device)["accuracy"]
    _sync(torch.device(args.device))
    del nets
    return time.perf_counter() - start, accuracy


def _replicates(variant: str, x, y, args, device) -> float:
    """Training time of 20 models on 20 draws of 150 labels: 120 trained on; selfsup also scores the
    other 30 after each epoch (validation split 0.2, as the seminar)."""
    draws = [ss.sample_indices(len(x), LABELLED, seed=r) for r in range(REPLICATES)]
    if variant == "ref_device":  # a plain loop over the models, each trained as in ref_device_loop
        nets = [reference_cnn().to(device) for _ in draws]
        data = [(torch.from_numpy(x[i]).to(device).unsqueeze(1)[:int(LABELLED * 0.8)],
                 torch.from_numpy(y[i]).to(device)[:int(LABELLED * 0.8)]) for i in draws]
        start = time.perf_counter()
        for net, (xs, ys) in zip(nets, data):
            ref_device_loop(net, xs, ys, args.epochs, 1, device)
    else:
        first = ss.build_model(x.shape[1:], 10, seed=0)
        models = [first] + [ss.clone_model(first) for _ in draws[1:]]
        start = time.perf_counter()
        ss.fit_replicates(models, x, y, draws, seeds=list(range(REPLICATES)), epochs=args.epochs, batch_size=1,
                          validation_split=0.2, side_by_side=variant != "one_by_one", exact=variant != "fast",
                          device=args.device, verbose=False)
    _sync(device)
    return time.perf_counter() - start


def _bridge(variant: str, args) -> float:
    call = (f"ssl_pretrain(x, task = 'rotation', epochs = {args.epochs}, batch_size = 64, seed = 0, "
            f"device = '{args.device}', verbose = FALSE)")
    if variant == "python":
        x = ss.load_dataset("fashion_mnist")["train"]["x"][:args.n]
        start = time.perf_counter()
        ss.ssl_pretrain(x, task="rotation", epochs=args.epochs, batch_size=64, seed=0, device=args.device,
                        verbose=False)
        return time.perf_counter() - start
    script = (f"suppressPackageStartupMessages(library(selfsup)); x <- load_dataset('fashion_mnist')$train$x[1:{args.n},,]; "
              "invisible(selfsup:::selfsup_py$device); "  # start Python before timing, as the Python run has
              f"t <- system.time({call})[['elapsed']]; cat(sprintf('SECONDS %.6f\\n', t))")
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True).stdout
    return float(out.split("SECONDS")[1])


@torch.no_grad()
def _ref_accuracy(net, d, device) -> float:
    net.eval()
    x = torch.from_numpy(d["test"]["x"]).to(device).unsqueeze(1).float() / 255
    pred = torch.cat([net(x[i:i + 1024]).argmax(1) for i in range(0, len(x), 1024)])
    return float((pred.cpu().numpy() == d["test"]["y"]).mean())


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _peak_mb(device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ------------------------------------------------------------------------------------- peers
def _peers_data(args) -> str:
    """The data of the selfsup rows, for the peers' Python (which has no selfsup): an .npz file."""
    d = ss.load_dataset("fashion_mnist")
    x, y = d["train"]["x"][:args.n], d["train"]["y"][:args.n]
    draws = np.stack([ss.sample_indices(len(x), LABELLED, seed=r) for r in range(REPLICATES)])
    path = Path(tempfile.gettempdir()) / f"selfsup-bench-peers-{os.getpid()}.npz"
    np.savez(path, x=x, y=y, xt=d["test"]["x"], yt=d["test"]["y"], draws=draws)
    return str(path)


def _peer_row(case: str, variant: str, out: dict, args) -> dict:
    images = REPLICATES * int(LABELLED * 0.8) * args.epochs if case == "replicates_b1" else args.n * args.epochs
    return {"case": case, "variant": variant, "device": "cpu", "epochs": args.epochs, "n": args.n,
            "batch_size": CASES[case][1], "seconds": out["seconds"], "images_per_s": images / out["seconds"],
            "s_per_epoch": out["seconds"] / args.epochs, "peak_mem_mb": float("nan"),
            "test_accuracy": out["test_accuracy"], "peer": out["peer"]}


# ------------------------------------------------------------------------------------- main
RATIO_BASE = {"r": "python", "python": None, "selfsup": None}   # every other variant: / selfsup


def table(rows: list[dict]) -> str:
    lines = ["| case | variant | images/s | s/epoch | peak MB | test acc | time / selfsup time (r: / python) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    by_key = {(r["case"], r["variant"]): r for r in rows}
    for r in rows:
        base = by_key.get((r["case"], RATIO_BASE.get(r["variant"], "selfsup")))
        ratio = f"{r['seconds'] / base['seconds']:.2f}x" if base else ""
        acc = "" if r["test_accuracy"] != r["test_accuracy"] else f"{r['test_accuracy']:.4f}"
        mem = "" if r["peak_mem_mb"] != r["peak_mem_mb"] else f"{r['peak_mem_mb']:,.0f}"
        lines.append(f"| {r['case']} | {r['variant']} | {r['images_per_s']:,.0f} | {r['s_per_epoch']:.2f} | "
                     f"{mem} | {acc} | {ratio} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--n", type=int, default=60000, help="training images used (first n)")
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--threads", type=int, default=0, help="torch threads in every run (0: each as it comes)")
    p.add_argument("--one", nargs=2, metavar=("CASE", "VARIANT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one:
        print("RESULT " + json.dumps(run_one(*args.one, args)))
        return
    rows, notes = [], []
    peers_data = None
    for case in args.cases.split(","):
        for variant in CASES[case][0]:
            if variant in PEERS:
                if not Path(PEERS_PYTHON).exists():
                    notes.append(f"{case}/{variant} skipped: no peers' Python at {PEERS_PYTHON}. Install: "
                                 f"python3 -m venv {PEERS_VENV} && {PEERS_VENV}/bin/pip install "
                                 "torch==2.14.1 torchvision==0.29.1 keras (or set SELFSUP_PEERS_VENV)")
                    print("  " + notes[-1], file=sys.stderr, flush=True)
                    continue
                peers_data = peers_data or _peers_data(args)
                cmd = [PEERS_PYTHON, str(HERE / "peers.py"), case, peers_data, "--epochs", str(args.epochs),
                       "--threads", str(args.threads)]
            else:
                cmd = [sys.executable, __file__, "--one", case, variant, "--device", args.device,
                       "--epochs", str(args.epochs), "--n", str(args.n), "--threads", str(args.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode:
                if variant == "torch_compile":   # a lever that cannot run here is a finding, not a crash
                    notes.append(f"{case}/{variant} failed: {out.stderr.strip().splitlines()[-1][:300]}")
                    print("  " + notes[-1], file=sys.stderr, flush=True)
                    continue
                sys.exit(f"{case}/{variant} failed:\n{out.stderr[-3000:]}")
            row = json.loads(out.stdout.split("RESULT ", 1)[1])
            if variant in PEERS:
                row = _peer_row(case, variant, row, args)
            rows.append(row)
            print(f"  {case:20s} {variant:20s} {rows[-1]['seconds']:8.2f} s", file=sys.stderr, flush=True)
    print(f"\nselfsup benchmark: device={args.device}, epochs={args.epochs}, n={args.n}, "
          f"threads={args.threads or 'each as it comes'}, torch {torch.__version__}, {os.cpu_count()} CPU cores\n")
    print(table(rows))
    for note in notes:
        print(f"\n- {note}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    path = Path(args.out) / f"bench-{args.device}.json"
    path.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"\nJSON: {path}")


if __name__ == "__main__":
    main()
