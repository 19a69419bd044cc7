"""`python -m selfsup pretrain|fit`: the command line, alone and under torchrun (2 CPU ranks, gloo)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import selfsup as ss
from selfsup import cli

SETTINGS = ["--epochs", "1", "--seed", "3", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def digits_npy(tmp_path_factory, digits):
    path = tmp_path_factory.mktemp("cli") / "digits.npy"
    np.save(path, digits["train"]["x"])
    return path


def weights_of(model):
    return ss.get_weights(model)


def test_pretrain_saves_what_ssl_pretrain_trains(digits_npy, tmp_path):
    out = tmp_path / "m.safetensors"
    assert cli.main(["pretrain", "--task", "rotation", "--data", str(digits_npy), "--out", str(out),
                     "--history", str(tmp_path / "h.csv"), *SETTINGS]) == 0
    saved = ss.load_model(out)
    want = ss.ssl_pretrain(np.load(digits_npy), "rotation", epochs=1, seed=3, device="cpu", verbose=False)
    for name, value in weights_of(want).items():
        np.testing.assert_array_equal(weights_of(saved)[name], value, err_msg=name)
    assert saved.history == want.history
    assert (tmp_path / "h.csv").read_text().splitlines()[0] == "epoch,loss,accuracy"


def test_task_options_and_streaming(digits_npy, tmp_path):
    out = tmp_path / "m.safetensors"
    assert cli.main(["pretrain", "--data", str(digits_npy), "--out", str(out), "--option", "all_rotations=true",
                     "--device-budget", "16K", *SETTINGS]) == 0
    saved = ss.load_model(out)
    assert saved.spec["pretext"]["options"] == {"all_rotations": True}
    want = ss.ssl_pretrain(np.load(digits_npy), "rotation", epochs=1, seed=3, device="cpu", verbose=False,
                           all_rotations=True)
    assert saved.history == want.history


def test_fit_on_a_named_data_set(tmp_path):
    out = tmp_path / "c.safetensors"
    assert cli.main(["fit", "--data", "digits:train", "--out", str(out), "--encoder", "mlp", *SETTINGS]) == 0
    d = ss.load_dataset("digits")["train"]
    want = ss.fit_supervised(d["x"], d["y"], encoder="mlp", epochs=1, seed=3, device="cpu", verbose=False)
    assert ss.load_model(out).history == want.history


@pytest.mark.parametrize("args, message", [
    (["pretrain", "--data", "/nonexistent.npy", "--out", "m"], "`--data` '/nonexistent.npy' is not a file"),
    (["fit", "--data", "{npy}", "--out", "m"], "`--labels` is needed: a .npy file of class indices"),
    (["pretrain", "--data", "digits:valid", "--out", "m"], "the split must be train or test; got 'valid'"),
    (["pretrain", "--data", "{npy}", "--out", "m", "--task", "nope"], "`task` must be one of"),
])
def test_errors_are_one_line_naming_the_flag(args, message, digits_npy, capsys):
    args = [a.replace("{npy}", str(digits_npy)) for a in args]
    assert cli.main([*args, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"selfsup {args[0]}: error: ") and message in err, err


def test_bad_sizes_are_usage_errors(digits_npy):
    with pytest.raises(SystemExit):
        cli.main(["pretrain", "--data", str(digits_npy), "--out", "m", "--device-budget", "lots"])
    assert cli._bytes("512M") == 512 * 2**20 and cli._bytes("2GiB") == 2 * 2**30 and cli._bytes("100") == 100


def test_under_torchrun_on_two_ranks_and_loaded_in_r(digits_npy, tmp_path, r):
    """torchrun -m selfsup pretrain, as torchrun_command() writes it: rank 0 saves one model, which R
    and Python load alike and which is one process's model up to float rounding (test_distributed.py
    says why)."""
    out = tmp_path / "m.safetensors"
    cmd = ss.torchrun_command(digits_npy, out, nproc_per_node=2, epochs=1, seed=3, device="cpu", quiet=True)
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=240,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stdout + run.stderr
    saved = ss.load_model(out)
    alone = ss.ssl_pretrain(np.load(digits_npy), "rotation", epochs=1, seed=3, device="cpu", verbose=False)
    for name, value in weights_of(alone).items():
        np.testing.assert_allclose(weights_of(saved)[name], value, rtol=0, atol=1e-4, err_msg=name)
    r(f"m <- load_model('{out}')")
    for name, value in weights_of(saved).items():
        np.testing.assert_array_equal(r.get(f"get_weights(m)[['{name}']]"), value)
    assert r.get("nrow(m$history)")[0] == 1


def test_torchrun_command_words():
    cmd = ss.torchrun_command("x.npy", "m.safetensors", nproc_per_node=2, epochs=3.0, device_budget="2G",
                              quiet=True, options={"region": 0.25})
    assert cmd == [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
                   "selfsup", "pretrain", "--data", "x.npy", "--out", "m.safetensors", "--epochs", "3",
                   "--device-budget", "2G", "--quiet", "--option", "region=0.25"]
    # what it says is what the command line reads
    args = cli._parser().parse_args(cmd[cmd.index("pretrain"):])
    assert (args.epochs, args.device_budget, args.quiet, dict(args.option)) == (3, 2 * 2**30, True, {"region": 0.25})


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(nnodes=2), ValueError, "`rdzv_endpoint` must be \"host:port\" when `nnodes` > 1"),
    (dict(epoch=3), TypeError, "command 'pretrain' has no setting 'epoch'; its settings are: task, device_budget"),
    (dict(command="fit", options={"a": 1}), ValueError, "`options` are options of a pretext task"),
    (dict(command="train"), ValueError, '`command` must be one of "pretrain", "fit"'),
])
def test_torchrun_command_errors(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        ss.torchrun_command("x.npy", "m", **kwargs)


def test_torchrun_command_from_r_is_pythons(r):
    got = list(r('torchrun_command("x.npy", "m.safetensors", nproc_per_node = 8, nnodes = 2, '
                 'rdzv_endpoint = "node1:29400", epochs = 10, lr = 1e-4, task = "simclr", '
                 'options = list(temperature = 0.2))'))
    want = ss.torchrun_command("x.npy", "m.safetensors", nproc_per_node=8, nnodes=2, rdzv_endpoint="node1:29400",
                               epochs=10, lr=1e-4, task="simclr", options={"temperature": 0.2})
    assert got == want
