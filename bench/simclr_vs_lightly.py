"""selfsup's SimCLR against lightly's recipe: same images, epochs, batch size and encoder (issue 11).

Both pretrain the convnet encoder (selfsup.nets "convnet": 3 conv-BN-ReLU blocks, global average) on
the first --n Fashion-MNIST training images for --epochs epochs at batch --batch, seed 0:
- selfsup: ``ssl_pretrain(x, "simclr", encoder="convnet", optimizer="sgd", lr=0.06 * batch / 128,
  weight_decay=5e-4, schedule="cosine")`` -- views made on the device, every option at its default.
- lightly (only here, from the peers' venv: $SELFSUP_PEERS_VENV, default /work/peers-venv; never a
  package dependency): lightly's own pieces as its CIFAR-10 benchmark uses them --
  ``SimCLRTransform(input_size=28, cj_strength=0.5, gaussian_blur=0, normalize=None)`` on PIL images
  through a DataLoader, ``SimCLRProjectionHead(128, 128, 128)``, ``NTXentLoss()`` (temperature 0.5),
  SGD momentum 0.9 lr 0.06 * batch / 128, weight decay 5e-4,
  cosine decay; the same convnet written in plain torch with selfsup's layer names.
Then the linear probe of each encoder (selfsup.ssl_evaluate: standardised features, L2 penalty tuned
by 5-fold cross-validation on the labels only) on --probe-labels random labelled training images
(seed 7), tested on the 10,000 test images; and a never-trained encoder as the floor.

    .venv/bin/python bench/simclr_vs_lightly.py [--n 12000 --epochs 2 --batch 256]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PEERS = Path(os.environ.get("SELFSUP_PEERS_VENV", "/work/peers-venv")) / "bin" / "python"   # the peers' Python


# ------------------------------------------------------------------- lightly side (peers venv)
def train_lightly(n: int, epochs: int, batch: int, out: str) -> None:
    """Runs inside the peers venv: lightly's SimCLR on the convnet; saves the encoder's weights."""
    from collections import OrderedDict

    import numpy as np
    import torch
    from lightly.loss import NTXentLoss
    from lightly.models.modules import SimCLRProjectionHead
    from lightly.transforms import SimCLRTransform
    from PIL import Image
    from torch import nn

    torch.manual_seed(0)
    torch.set_num_threads(2)
    import gzip
    with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:n]

    def block(c_in, c_out):
        return nn.Sequential(OrderedDict(conv=nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                                         bn=nn.BatchNorm2d(c_out), relu=nn.ReLU()))

    class GlobalAvgPool(nn.Module):
        def forward(self, x):
            return x.mean((2, 3))

    encoder = nn.Sequential(OrderedDict(block1=block(1, 32), pool1=nn.MaxPool2d(2), block2=block(32, 64),
                                        pool2=nn.MaxPool2d(2), block3=block(64, 128), gap=GlobalAvgPool()))
    head = SimCLRProjectionHead(128, 128, 128)
    transform = SimCLRTransform(input_size=28, cj_strength=0.5, gaussian_blur=0.0, normalize=None)

    class Views(torch.utils.data.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            return transform(Image.fromarray(images[i], mode="L"))

    loader = torch.utils.data.DataLoader(Views(), batch_size=batch, shuffle=True, drop_last=False)
    params = list(encoder.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.06 * batch / 128, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * len(loader))
    loss_fn = NTXentLoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        total = 0.0
        for v0, v1 in loader:
            loss = loss_fn(head(encoder(v0)), head(encoder(v1)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(v0)
        print(f"lightly epoch {epoch + 1}: loss {total / len(images):.4f} ({time.perf_counter() - start:.0f} s)",
              flush=True)
    torch.save(encoder.state_dict(), out)


# ------------------------------------------------------------------------- selfsup side, probe
def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=12000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--probe-labels", default="2000,150")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "simclr_vs_lightly"))
    p.add_argument("--lightly-child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.lightly_child:
        return train_lightly(args.n, args.epochs, args.batch, args.lightly_child)

    import numpy as np
    import torch

    import selfsup as ss
    from selfsup.model import Model
    from selfsup.nets import build_net

    torch.set_num_threads(2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    d = ss.load_dataset("fashion_mnist")
    x, y, xt, yt = d["train"]["x"], d["train"]["y"], d["test"]["x"], d["test"]["y"]
    lr = 0.06 * args.batch / 128
    print(f"SimCLR on the first {args.n} images, {args.epochs} epochs, batch {args.batch}, SGD lr {lr}", flush=True)

    t0 = time.perf_counter()
    ours = ss.ssl_pretrain(x[:args.n], "simclr", encoder="convnet", epochs=args.epochs, batch_size=args.batch,
                           optimizer="sgd", lr=lr, weight_decay=5e-4, schedule="cosine", seed=0, device="cpu",
                           verbose=False)
    t_ours = time.perf_counter() - t0
    print(f"selfsup: {t_ours:.0f} s; history {ours.history}", flush=True)

    weights = out / "lightly-encoder.pt"
    t0 = time.perf_counter()
    subprocess.run([str(PEERS), __file__, "--n", str(args.n), "--epochs", str(args.epochs), "--batch",
                    str(args.batch), "--lightly-child", str(weights)], check=True)
    t_lightly = time.perf_counter() - t0
    spec = {"encoder": {"name": "convnet", "input_shape": [28, 28]}, "head": {"name": "linear", "n_outputs": 10}}
    theirs = Model(build_net(spec, seed=1), classes=[str(i) for i in range(10)])
    theirs.net.encoder.load_state_dict(torch.load(weights))
    floor = Model(build_net(spec, seed=1), classes=[str(i) for i in range(10)])

    rows = []
    for n_labels in [int(v) for v in args.probe_labels.split(",")]:
        idx = np.random.default_rng(7).choice(len(x), n_labels, replace=False)
        for name, model in (("selfsup", ours), ("lightly", theirs), ("random encoder", floor)):
            r = ss.ssl_evaluate(model, x[idx], y[idx], xt, yt, device="cpu")
            rows.append({"probe_labels": n_labels, "recipe": name, "accuracy": r["accuracy"], "C": r["C"]})
            print(f"probe on {n_labels} labels: {name:<15} {r['accuracy']:.4f} (C={r['C']:g})", flush=True)
    result = {"n": args.n, "epochs": args.epochs, "batch": args.batch, "lr": lr, "seconds": {
        "selfsup": t_ours, "lightly": t_lightly}, "rows": rows}
    (out / f"result-n{args.n}-e{args.epochs}-b{args.batch}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
