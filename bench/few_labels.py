"""`make few-labels`: few labels, real gains (issue 11). Never part of `make test`.

Fashion-MNIST with 150 labels (the seminar's 0.25%) and with 1,000, the rest of the 60,000 training
images unlabelled; test accuracy on the 10,000 test images; median and spread over label draws
(balanced: n/10 per class, seeds DRAW_SEEDS). Rows:
- supervised baselines: logistic regression on pixels (C=1 as scikit-learn's default, and C tuned by
  cross-validation on the labels), the seminar CNN, the convnet with FixMatch's weak augmentation;
- every semi-supervised learner: label spreading (on pixel PCA and on SimCLR features), pseudo-labels,
  FixMatch;
- every image pretext task (pretrained once on the unlabelled images, shared by all draws), then its
  transfer: the linear probe (at the default layer, and at a second layer for rotation and SimCLR) and
  fine-tuning (ssl_finetune);
- the best pipeline from the parts: SimCLR pretraining -> fine-tune -> FixMatch from that model.
Every row says its budget; wall and CPU seconds per draw are measured (pretraining: once, shown apart).

Presets: "cpu" (sized for a 2-core machine), "gpu" (paper-scale budgets; needs a GPU, not run here),
"smoke" (minutes: checks the script end to end). Results go to --out (CSV, Markdown, and a JSONL log of
every (row, labels, draw) so an interrupted run resumes where it stopped; pretrained models are cached
there too).

    make few-labels                                   # = .venv/bin/python bench/few_labels.py --preset cpu
    .venv/bin/python bench/few_labels.py --preset gpu --device cuda
    .venv/bin/python bench/few_labels.py --curve 300,1000,3000   # the best pipeline's learning curve
    .venv/bin/python bench/few_labels.py --seminar    # best pipeline on the seminar's 150-label draws
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import selfsup as ss
from selfsup.self_supervised import linear_probe

HERE = Path(__file__).resolve().parent
DRAW_SEEDS = (0, 1, 2, 3, 4)
IMAGE_TASKS = ("rotation", "relative_position", "jigsaw", "inpainting", "superresolution", "autoencoder",
               "denoising", "masked_autoencoder", "simclr")   # colorization needs RGB images: not on Fashion-MNIST
PATCH_TASKS = ("relative_position", "jigsaw")

# One visible place for every budget. steps = gradient steps per fit; epochs where the unit is a pass.
SGD = dict(optimizer="sgd", lr=0.03, weight_decay=5e-4, schedule="cosine")       # FixMatch's recipe
CPU = dict(
    labels=(150, 1000), draws=3, threads=2, jobs=2,
    simclr=dict(n=60000, epochs=4, batch_size=256, lr=0.12, optimizer="sgd", weight_decay=5e-4, schedule="cosine"),
    rotation=dict(n=60000, epochs=2, batch_size=128, all_rotations=True, lr=0.03, optimizer="sgd",
                  weight_decay=5e-4, schedule="cosine"),
    # the patch tasks see small tiles, so an image costs them little: 60,000 images x 6 epochs took 35 s
    # (relative_position) and 127 s (jigsaw) on one thread (the thread rule's choice); at 10,000 x 2 (the
    # "other" budget) their probes beat the best supervised row on 1 of 3 draws at 150 labels, at 60,000 x 6
    # on all 3 (bench/few_labels-cpu.md)
    patch=dict(n=60000, epochs=6, batch_size=128),
    other=dict(n=10000, epochs=2, batch_size=128),       # the remaining pretext tasks, Adam
    supervised=dict(steps=400, batch_size=64, ema=0.99, **SGD),
    finetune=dict(freeze_steps=100, steps=300, batch_size=64, ema=0.99, **SGD),
    # the student continues from the teacher on strong views, ~3 epochs a round (measured, 150 labels, draws
    # 0 / 2, 1 epoch a round: fresh + weak 0.7152 / 0.6930, continued + weak 0.7310 / 0.6929, fresh + strong
    # 0.7112 / 0.6959, continued + strong 0.7352 / 0.7272; 3 epochs a round, continued + strong 0.7523 / 0.7438)
    pseudo=dict(steps=300, rounds=3, round_steps=900, batch_size=64, ema=0.99, fresh=False, augment="strong", **SGD),
    fixmatch=dict(steps=1000, batch_size=32, mu=7, teacher="ema", ema=0.99, **SGD),
    pipeline=dict(steps=1000, batch_size=32, mu=7, teacher="ema", ema=0.99, **SGD),
    ls=dict(pca=50, n_neighbors=10, alpha=0.99, max_iter=300),
)
GPU = dict(CPU, draws=5, threads=None, jobs=1,
           simclr=dict(CPU["simclr"], epochs=200, batch_size=512, lr=0.24),
           rotation=dict(CPU["rotation"], epochs=30),
           patch=dict(n=60000, epochs=20, batch_size=256), other=dict(n=60000, epochs=20, batch_size=256),
           supervised=dict(CPU["supervised"], steps=5000),
           finetune=dict(CPU["finetune"], freeze_steps=1000, steps=5000),
           pseudo=dict(CPU["pseudo"], steps=5000, rounds=5, round_steps=5000),
           fixmatch=dict(CPU["fixmatch"], steps=50000, batch_size=64, ema=0.999),
           pipeline=dict(CPU["pipeline"], steps=50000, batch_size=64, ema=0.999))
SMOKE = dict(CPU, labels=(150,), draws=1, jobs=1, train_n=3000, test_n=1000,
             simclr=dict(CPU["simclr"], n=3000, epochs=1), rotation=dict(CPU["rotation"], n=3000, epochs=1),
             patch=dict(n=1000, epochs=1, batch_size=128), other=dict(n=1000, epochs=1, batch_size=128),
             supervised=dict(CPU["supervised"], steps=20),
             finetune=dict(CPU["finetune"], freeze_steps=5, steps=10), pseudo=dict(CPU["pseudo"], steps=10, rounds=1,
                                                                                   round_steps=10),
             fixmatch=dict(CPU["fixmatch"], steps=5), pipeline=dict(CPU["pipeline"], steps=5))
PRESETS = {"cpu": CPU, "gpu": GPU, "smoke": SMOKE}


# ----------------------------------------------------------------------------------- helpers
def balanced_draw(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n labelled training images, n/10 of each class, seeded."""
    rng = np.random.default_rng(seed)
    per = n // len(np.unique(y))
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), per, replace=False) for c in np.unique(y)]))


def epochs_for(steps: int, n: int, batch_size: int) -> int:
    """Epochs over n samples that make at least `steps` steps of `batch_size`."""
    return max(1, math.ceil(steps / math.ceil(n / batch_size)))


def fit_kw(cfg: dict) -> dict:
    return {k: cfg[k] for k in ("lr", "optimizer", "weight_decay", "schedule", "ema") if k in cfg}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, cpu_seconds() - self.cpu


# ------------------------------------------------------------------------------ pretraining
def pretrain(task: str, x: np.ndarray, cfg: dict, device: str, cache: Path) -> tuple[ss.Model, dict]:
    """The task's pretrained convnet (cached in `cache`), and how long it took when trained."""
    path = cache / f"pretrained-{task}.safetensors"
    info_path = path.with_suffix(".json")
    if path.exists() and info_path.exists():
        return ss.load_model(path), json.loads(info_path.read_text())
    key = task if task in ("simclr", "rotation") else "patch" if task in PATCH_TASKS else "other"
    c = cfg[key]
    options = {"all_rotations": True} if task == "rotation" and c.get("all_rotations") else {}
    with Timer() as t, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ss.ssl_pretrain(x[:c["n"]], task, encoder="convnet", epochs=c["epochs"], batch_size=c["batch_size"],
                                seed=0, device=device, verbose=False, **fit_kw(c), **options)
    info = {"task": task, "wall": t.wall, "cpu": t.cpu,
            "budget": f"{c['n']} images x {c['epochs']} ep, batch {c['batch_size']}, "
                      f"{c.get('optimizer', 'adam')}" + (", all 4 rotations" if options else ""),
            "last": {k: round(v, 4) for k, v in model.history[-1].items() if k != "epoch"}}
    ss.save_model(model, path)
    info_path.write_text(json.dumps(info))
    return model, info


class Pretrained(dict):
    """task -> pretrained model, made (or read from the cache) the first time a row asks for it."""

    def __init__(self, x, cfg, device, out, infos):
        super().__init__()
        self.args, self.infos = (x, cfg, device, out), infos
        self.spent = (0.0, 0.0)           # wall and CPU seconds spent here (training or reading the cache)

    def __missing__(self, task):
        with Timer() as t:
            model, info = pretrain(task, *self.args)
        self.spent = (self.spent[0] + t.wall, self.spent[1] + t.cpu)
        self[task], self.infos[task] = model, info
        print(f"pretrained {task}: {info['wall']:.0f} s wall, {info['cpu']:.0f} s CPU; {info['budget']}; "
              f"last epoch {info['last']}", flush=True)
        return model


# -------------------------------------------------------------------------------------- rows
def rows_for(cfg: dict, tasks) -> list[tuple[str, str, callable]]:
    """(row name, kind, function(ctx) -> (accuracy, budget)) in the order of the table."""
    rows = [("logistic regression, pixels, C=1", "supervised", lambda c: logreg(c, C=1.0)),
            ("logistic regression, pixels, C tuned", "supervised", lambda c: logreg(c, C=None)),
            ("seminar CNN, Adam", "supervised", lambda c: supervised(c, "cnn", augment=False)),
            ("convnet + weak aug", "supervised", lambda c: supervised(c, "convnet", augment=True)),
            ("random convnet: linear probe", "supervised", random_probe),
            ("label spreading, pixel PCA", "semi-supervised", spreading_pixels),
            ("label spreading, SimCLR features", "semi-supervised", spreading_simclr),
            ("pseudo-labels (convnet)", "semi-supervised", pseudo_labels),
            ("FixMatch (convnet, scratch)", "semi-supervised", fixmatch_scratch)]
    tasks = sorted(tasks, key=lambda t: (t != "simclr", t != "rotation"))    # the main two first
    for task in tasks:
        rows.append((f"{task}: linear probe", "self-supervised", lambda c, t=task: probe(c, t, None)))
        if task in ("rotation", "simclr"):
            rows.append((f"{task}: linear probe, gap", "self-supervised", lambda c, t=task: probe(c, t, "gap")))
        rows.append((f"{task}: fine-tune", "self-supervised", lambda c, t=task: finetune(c, t)))
        if task == "simclr":
            rows.append(("best pipeline: SimCLR -> fine-tune -> FixMatch", "pipeline", pipeline))
    return rows


def logreg(c, C):
    x = c["x"][c["idx"]].reshape(len(c["idx"]), -1) / 255.0
    clf, chosen = linear_probe(x, c["y"][c["idx"]], C=C)
    acc = float((clf.predict(c["xt"].reshape(len(c["xt"]), -1) / 255.0) == c["yt"]).mean())
    return acc, f"lbfgs, C={chosen:g}"


def supervised(c, encoder, augment):
    cfg, n = c["cfg"]["supervised"], len(c["idx"])
    epochs = epochs_for(cfg["steps"], n, cfg["batch_size"])
    kw = dict(augment="weak", flip=True, **fit_kw(cfg)) if augment else {}
    m = ss.fit_supervised(c["x"][c["idx"]], c["y"][c["idx"]], classes=10, encoder=encoder, epochs=epochs,
                          batch_size=cfg["batch_size"], seed=c["seed"], device=c["device"], verbose=False, **kw)
    recipe = "SGD+cos+EMA, weak aug" if augment else "Adam"
    return c["evaluate"](m), f"{epochs * math.ceil(n / cfg['batch_size'])} steps b{cfg['batch_size']}, {recipe}"


def random_probe(c):
    """The pretext probes' protocol on an untrained convnet (pool2): what the layer gives without pretraining."""
    model = ss.build_model(c["x"].shape[1:], 10, encoder="convnet", seed=c["seed"])
    r = ss.ssl_evaluate(model, c["x"][c["idx"]], c["y"][c["idx"]], c["xt"], c["yt"], device=c["device"])
    return r["accuracy"], f"layer {r['layer']} ({r['n_features']} features), C={r['C']:g}, random weights"


def spreading_pixels(c):
    cfg = c["cfg"]["ls"]
    if "pca" not in c["cache"]:
        both = np.concatenate([c["x"], c["xt"]])
        c["cache"]["pca"] = ss.pca(both, cfg["pca"], device=c["device"]).scores.astype(np.float32)
    return _spread(c, c["cache"]["pca"], f"PCA {cfg['pca']}")


def spreading_simclr(c):
    """On the SimCLR encoder's probe layer (pool2, 3,136 features), reduced to PCA 50 as the pixels are
    (measured on draw 0: 0.7536 with Euclidean neighbours, 0.7420 cosine; gap features, cosine: 0.6748)."""
    cfg = c["cfg"]["ls"]
    if "simclr_feats" not in c["cache"]:
        feats = ss.ssl_embed(c["pretrained"]["simclr"], np.concatenate([c["x"], c["xt"]]), device=c["device"])
        c["cache"]["simclr_feats"] = ss.pca(feats, cfg["pca"], device=c["device"]).scores.astype(np.float32)
    return _spread(c, c["cache"]["simclr_feats"], f"SimCLR pool2 features, PCA {cfg['pca']}")


def _spread(c, feats, what):
    """Transductive: training and test images in one graph, the test images unlabelled."""
    cfg = c["cfg"]["ls"]
    y = np.full(len(feats), -1)
    y[c["idx"]] = c["y"][c["idx"]]
    r = ss.label_spreading(feats, y, n_neighbors=cfg["n_neighbors"], alpha=cfg["alpha"], max_iter=cfg["max_iter"],
                           device=c["device"])
    acc = float((r.labels[len(c["x"]):] == c["yt"]).mean())
    return acc, f"{what}, k={cfg['n_neighbors']}, alpha={cfg['alpha']}, {r.iterations} it"


def _partial(c):
    y = np.full(len(c["x"]), -1)
    y[c["idx"]] = c["y"][c["idx"]]
    return y


def pseudo_labels(c, model=None):
    cfg, n = c["cfg"]["pseudo"], len(c["idx"])
    epochs = epochs_for(cfg["steps"], n, cfg["batch_size"])
    n_unl = len(c["x"]) - n
    # each round: about round_steps steps over labelled + pseudo-labelled images (up to all of them)
    round_epochs = max(1, round(cfg["round_steps"] / math.ceil((n + n_unl / cfg["rounds"]) / cfg["batch_size"])))
    m = ss.fit_pseudo_label(c["x"], _partial(c), selection="curriculum", balanced=True, fresh=cfg["fresh"],
                            rounds=cfg["rounds"], round_epochs=round_epochs, augment=cfg["augment"], flip=True,
                            encoder="convnet", epochs=epochs, batch_size=cfg["batch_size"], seed=c["seed"],
                            device=c["device"], verbose=False, **fit_kw(cfg))
    return c["evaluate"](m), (f"{epochs * math.ceil(n / cfg['batch_size'])} steps + {cfg['rounds']} curriculum "
                              f"rounds x {round_epochs} ep, balanced, {'fresh' if cfg['fresh'] else 'continued'}, "
                              f"{cfg['augment']} aug, b{cfg['batch_size']}")


def fixmatch_scratch(c):
    return _fixmatch(c, c["cfg"]["fixmatch"], None)


def _fixmatch(c, cfg, model):
    n = len(c["idx"])
    epochs = epochs_for(cfg["steps"], n, cfg["batch_size"])
    m = ss.fit_fixmatch(c["x"], _partial(c), model=model, encoder="convnet", mu=cfg["mu"], flip=True,
                        teacher=cfg["teacher"], epochs=epochs, batch_size=cfg["batch_size"], seed=c["seed"],
                        device=c["device"], verbose=False, **fit_kw(cfg))
    steps = epochs * math.ceil(n / cfg["batch_size"])
    return c["evaluate"](m), (f"{steps} steps b{cfg['batch_size']} mu{cfg['mu']}, {cfg['teacher']} teacher, "
                              f"mask {m.history[-1]['mask_rate']:.2f}")


def probe(c, task, layer):
    r = ss.ssl_evaluate(c["pretrained"][task], c["x"][c["idx"]], c["y"][c["idx"]], c["xt"], c["yt"], layer=layer,
                        device=c["device"])
    return r["accuracy"], f"layer {r['layer']} ({r['n_features']} features), C={r['C']:g}"


def _finetuned(c, task):
    cfg, n = c["cfg"]["finetune"], len(c["idx"])
    freeze = epochs_for(cfg["freeze_steps"], n, cfg["batch_size"])
    tune = epochs_for(cfg["steps"], n, cfg["batch_size"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # patch-level encoders: their dense layers start fresh (reported)
        m = ss.ssl_finetune(c["pretrained"][task], c["x"][c["idx"]], c["y"][c["idx"]], classes=10,
                            freeze_epochs=freeze, finetune_epochs=tune, batch_size=cfg["batch_size"], augment="weak",
                            flip=True, seed=c["seed"], device=c["device"], verbose=False, **fit_kw(cfg))
    steps = (freeze + tune) * math.ceil(n / cfg["batch_size"])
    return m, f"{steps} steps ({freeze} ep frozen) b{cfg['batch_size']}, SGD+cos+EMA, weak aug"


def finetune(c, task):
    m, budget = _finetuned(c, task)
    return c["evaluate"](m), budget


def pipeline(c):
    m, budget = _finetuned(c, "simclr")
    acc, fm_budget = _fixmatch(c, c["cfg"]["pipeline"], m)
    return acc, f"fine-tune {budget.split(',')[0]}; FixMatch {fm_budget}"


# ------------------------------------------------------------------------------------ runner
def load(cfg):
    d = ss.load_dataset("fashion_mnist")
    x, y, xt, yt = d["train"]["x"], d["train"]["y"], d["test"]["x"], d["test"]["y"]
    if "train_n" in cfg:
        x, y, xt, yt = x[:cfg["train_n"]], y[:cfg["train_n"]], xt[:cfg["test_n"]], yt[:cfg["test_n"]]
    return x, y, xt, yt


def threads(args, cfg):
    n = args.threads or cfg["threads"]
    if n:
        torch.set_num_threads(n)


def setup(args) -> tuple[dict, Path]:
    """The preset and the output folder of a run, with torch's threads set."""
    cfg = PRESETS[args.preset]
    threads(args, cfg)
    out = Path(args.out or HERE / "results" / f"few_labels-{args.preset}")
    out.mkdir(parents=True, exist_ok=True)
    return cfg, out


def context(data, idx, seed, cfg, device, pretrained, cache=None) -> dict:
    """What a row's function reads: the data, the labelled indices `idx` of this draw, its seed, budgets."""
    x, y, xt, yt = data
    return dict(x=x, y=y, xt=xt, yt=yt, idx=idx, seed=seed, cfg=cfg, device=device,
                cache={} if cache is None else cache, pretrained=pretrained,
                evaluate=lambda m: ss.evaluate(m, xt, yt, device=device)["accuracy"])


def run(args):
    cfg, out = setup(args)
    log_path = out / "draws.jsonl"
    x, y, xt, yt = load(cfg)
    tasks = [t for t in IMAGE_TASKS if not args.tasks or t in args.tasks.split(",")]
    rows = [r for r in rows_for(cfg, tasks) if not args.rows or any(s in r[0] for s in args.rows.split(","))]
    units = [(n, draw) for n in ([int(v) for v in args.labels.split(",")] if args.labels else cfg["labels"])
             for draw in (range(cfg["draws"]) if args.draw is None else [args.draw])]
    print(f"preset {args.preset}: {cfg}\ndevice {ss.resolve_device(args.device)}, train {x.shape}, test {xt.shape}, "
          f"out {out}", flush=True)
    infos: dict = {}
    pretrained = Pretrained(x, cfg, args.device, out, infos)   # each task pretrained when a row first needs it
    done = _done(log_path)
    if args.jobs > 1:
        for task in pretrained_tasks(rows, tasks):             # once, here; the workers read the cache
            pretrained[task]
        run_in_workers(args, [u for u in units if not all(key in done for key in _keys(rows, *u))])
    else:
        cache: dict = {}
        for n_labels, draw in units:
            seed = DRAW_SEEDS[draw]
            ctx = context((x, y, xt, yt), balanced_draw(y, n_labels, seed), seed, cfg, args.device, pretrained, cache)
            for name, kind, fn in rows:
                if (name, n_labels, draw) in done:
                    continue
                before = pretrained.spent
                with Timer() as t:
                    acc, budget = fn(ctx)
                spent = np.subtract(pretrained.spent, before)   # pretraining that a row set off is shown apart
                rec = dict(row=name, kind=kind, labels=n_labels, draw=draw, seed=seed, accuracy=acc, budget=budget,
                           wall=t.wall - spent[0], cpu=t.cpu - spent[1])
                done[(name, n_labels, draw)] = rec
                with open(log_path, "a") as fh:                 # one short line: appends from workers stay whole
                    fh.write(json.dumps(rec) + "\n")
                print(f"{n_labels:>5} labels, draw {draw}: {name:<48} {acc:.4f}  {t.wall:6.0f} s  {budget}", flush=True)
    if args.draw is not None:                                   # a worker: the parent writes the tables
        return
    # the table shows every row in the log, whichever rows this run selected
    table, csv_rows = summarise(list(_done(log_path).values()), [r[0] for r in rows_for(cfg, IMAGE_TASKS)], cfg, infos)
    (out / "results.md").write_text(f"Preset {args.preset}; device {ss.resolve_device(args.device)}\n{table}")
    with open(out / "results.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["labels", "learner", "kind", "median", "min", "max", "draws", "accuracies", "wall_s_per_draw",
                         "cpu_s_per_draw", "budget"])
        writer.writerows(csv_rows)
    print("\n" + table, flush=True)


def _done(log_path: Path) -> dict:
    """(row, labels, draw) -> record, for every row already in the log (the last record of each wins)."""
    if not log_path.exists():
        return {}
    recs = (json.loads(line) for line in log_path.read_text().splitlines() if line.strip())
    return {(r["row"], r["labels"], r["draw"]): r for r in recs}


def _keys(rows, n_labels, draw):
    return [(name, n_labels, draw) for name, _, _ in rows]


def pretrained_tasks(rows, tasks) -> list[str]:
    """The pretext tasks the selected rows read (SimCLR also for label spreading and the pipeline)."""
    names = [r[0] for r in rows]
    needed = [t for t in tasks if any(n.startswith(f"{t}:") for n in names)]
    return needed + (["simclr"] if "simclr" not in needed and any("SimCLR" in n for n in names) else [])


def run_in_workers(args, units) -> None:
    """Each (labels, draw) unit in its own process on one thread, `args.jobs` at a time: on a CPU two
    one-thread processes do more than one process on two threads (small batches split badly)."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor
    base = [sys.executable, __file__, "--preset", args.preset, "--device", args.device, "--threads", "1",
            "--rows", args.rows, "--tasks", args.tasks] + (["--out", args.out] if args.out else [])
    commands = [base + ["--labels", str(n_labels), "--draw", str(draw)] for n_labels, draw in units]
    with ThreadPoolExecutor(args.jobs) as pool:
        for command, code in zip(commands, pool.map(lambda c: subprocess.run(c).returncode, commands)):
            if code:
                raise SystemExit(f"a worker failed ({code}): {' '.join(command)}")


def summarise(records: list[dict], order: list[str], cfg: dict, infos: dict) -> str:
    """Median and spread per (row, labels); CSV beside the Markdown returned."""
    lines = []
    csv_rows = []
    for n_labels in sorted({r["labels"] for r in records}):
        base, per_draw = _best_baseline(records, n_labels), _best_per_draw(records, n_labels)
        lines += [f"\n### {n_labels} labels (median over draws; baseline = best supervised row, median {base:.4f}; "
                  "draws won = draws on which the row beats that draw's best supervised row)\n",
                  "| learner | kind | median | min-max | vs baseline | draws won | s/draw (wall) | s/draw (CPU) | budget |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name in order:
            recs = [r for r in records if r["row"] == name and r["labels"] == n_labels]
            if not recs:
                continue
            accs = np.array([r["accuracy"] for r in recs])
            med = float(np.median(accs))
            wall, cpu = np.mean([r["wall"] for r in recs]), np.mean([r["cpu"] for r in recs])
            won = "-" if recs[0]["kind"] == "supervised" else \
                f"{sum(r['accuracy'] > per_draw.get(r['draw'], 1.0) for r in recs)}/{len(recs)}"
            lines.append(f"| {name} | {recs[0]['kind']} | {med:.4f} | {accs.min():.4f}-{accs.max():.4f} | "
                         f"{med - base:+.4f} | {won} | {wall:.0f} | {cpu:.0f} | {recs[0]['budget']} |")
            csv_rows.append([n_labels, name, recs[0]["kind"], f"{med:.4f}", f"{accs.min():.4f}", f"{accs.max():.4f}",
                             len(recs), " ".join(f"{a:.4f}" for a in accs), f"{wall:.1f}", f"{cpu:.1f}",
                             recs[0]["budget"]])
    lines += ["\nPretraining (once, shared by every draw and both label counts; convnet encoder):\n",
              "| task | wall s | CPU s | budget | last epoch |", "|---|---|---|---|---|"]
    lines += [f"| {t} | {i['wall']:.0f} | {i['cpu']:.0f} | {i['budget']} | {i['last']} |" for t, i in infos.items()]
    return "\n".join(lines) + "\n", csv_rows


def _best_baseline(records, n_labels) -> float:
    meds = [np.median([r["accuracy"] for r in records if r["row"] == name and r["labels"] == n_labels])
            for name in {r["row"] for r in records if r["kind"] == "supervised" and r["labels"] == n_labels}]
    return float(max(meds)) if meds else float("nan")


def _best_per_draw(records, n_labels) -> dict[int, float]:
    """draw -> the best supervised row's accuracy on that draw."""
    best: dict[int, float] = {}
    for r in records:
        if r["kind"] == "supervised" and r["labels"] == n_labels:
            best[r["draw"]] = max(best.get(r["draw"], 0.0), r["accuracy"])
    return best


# ------------------------------------------------------------------- learning curve, seminar
CURVE_LEARNERS = {"pipeline": "best pipeline: SimCLR -> fine-tune -> FixMatch",
                  "fixmatch": "FixMatch (convnet, scratch)"}


def curve(args):
    """Test accuracy against FixMatch steps: one full fit (its own cosine schedule) per budget."""
    cfg, out = setup(args)
    data = load(cfg)
    pretrained = Pretrained(data[0], cfg, args.device, out, {})
    log_path = out / f"curve-{args.curve_learner}.jsonl"
    for steps in [int(v) for v in args.curve.split(",")]:
        for draw in range(args.curve_draws):
            seed = DRAW_SEEDS[draw]
            key = "pipeline" if args.curve_learner == "pipeline" else "fixmatch"
            run_cfg = dict(cfg, **{key: dict(cfg[key], steps=steps)})
            ctx = context(data, balanced_draw(data[1], args.curve_labels, seed), seed, run_cfg, args.device, pretrained)
            with Timer() as t:
                if steps == 0 and key == "pipeline":
                    acc, budget = finetune(ctx, "simclr")
                else:
                    acc, budget = (pipeline if key == "pipeline" else fixmatch_scratch)(ctx)
            rec = dict(learner=CURVE_LEARNERS[args.curve_learner], labels=args.curve_labels, steps=steps, draw=draw,
                       accuracy=acc, budget=budget, wall=t.wall, cpu=t.cpu)
            with open(log_path, "a") as fh:
                fh.write(json.dumps(rec) + "\n")
            print(f"{steps:>6} steps, draw {draw}: {acc:.4f}  {t.wall:.0f} s wall, {t.cpu:.0f} s CPU  {budget}", flush=True)


# what --seminar can run on the seminar's draws: (row name, function(ctx) -> (accuracy, budget))
SEMINAR_LEARNERS = {"pipeline": (CURVE_LEARNERS["pipeline"], lambda c: pipeline(c)),
                    "probe": ("SimCLR -> linear probe (pool2)", lambda c: probe(c, "simclr", None))}
SEMINAR_COLUMNS = ["data", "pipeline", "n_labelled", "n", "median", "iqr", "min", "max", "accuracies", "budget",
                   "preset", "seconds"]


def seminar(args):
    """The best pipelines on the seminar's own 150-label draws (selfsup.seminar.replicate_draw, seed 1),
    one CSV row each, which the seminar report shows beside the seminar's table. Rows already in the
    CSV for other learners are kept (so learners can be run one at a time)."""
    from selfsup.seminar import replicate_draw
    cfg, out = setup(args)
    data = load(cfg)
    pretrained = Pretrained(data[0], cfg, args.device, out, {})
    path = Path(args.seminar_out)
    rows = {r["pipeline"]: r for r in csv.DictReader(open(path))} if path.exists() else {}
    for key in args.seminar_learners.split(","):
        name, fn = SEMINAR_LEARNERS[key]
        accs, budget = [], ""
        with Timer() as t:
            for r in range(1, args.seminar_draws + 1):
                ctx = context(data, replicate_draw(len(data[0]), 150, 1, r), 1 + r, cfg, args.device, pretrained)
                acc, budget = fn(ctx)
                accs.append(acc)
                print(f"seminar draw {r}, {name}: {acc:.4f}  {budget}", flush=True)
        a = np.asarray(accs)
        q25, q75 = np.percentile(a, [25, 75])
        rows[name] = dict(zip(SEMINAR_COLUMNS, [
            "fashion_mnist", name, 150, len(a), f"{np.median(a):.6f}", f"{q75 - q25:.6f}", f"{a.min():.6f}",
            f"{a.max():.6f}", " ".join(f"{v:.4f}" for v in a), budget, args.preset, f"{t.wall:.0f}"]))
        print(f"{name}: median {np.median(a):.4f} over the seminar's draws 1..{len(a)}", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, SEMINAR_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows.values())
    print(f"wrote {path}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=list(PRESETS), default="cpu")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--out", default=None, help="folder for results, the draw log and cached pretrained models")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: the preset's)")
    p.add_argument("--jobs", type=int, default=None, help="(labels, draw) units run at once, each in its own "
                   "process on one thread (default: the preset's)")
    p.add_argument("--draw", type=int, default=None, help=argparse.SUPPRESS)   # a worker's one draw
    p.add_argument("--rows", default="", help="comma-separated substrings: run only rows whose name has one")
    p.add_argument("--labels", default="", help="comma-separated label counts (default: the preset's)")
    p.add_argument("--tasks", default="", help="comma-separated pretext tasks (default: every image task)")
    p.add_argument("--curve", default="", help="comma-separated FixMatch step budgets: the learning curve")
    p.add_argument("--curve-learner", choices=list(CURVE_LEARNERS), default="pipeline")
    p.add_argument("--curve-labels", type=int, default=150)
    p.add_argument("--curve-draws", type=int, default=1)
    p.add_argument("--seminar", action="store_true", help="the best pipelines on the seminar's 150-label draws")
    p.add_argument("--seminar-draws", type=int, default=5, help="the seminar's replicates 1..N (quick preset: 5)")
    p.add_argument("--seminar-out", default="seminar-output/best-pipeline.csv")
    p.add_argument("--seminar-learners", default="pipeline,probe", help=f"comma-separated: {', '.join(SEMINAR_LEARNERS)}")
    args = p.parse_args()
    if args.jobs is None:
        args.jobs = 1 if args.draw is not None else PRESETS[args.preset].get("jobs", 1)
    if args.curve:
        curve(args)
    elif args.seminar:
        seminar(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
