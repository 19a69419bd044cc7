"""save_model / load_model under attack: races, kill -9, SIGTERM, failures, modes, symlinks, permissions.

Broken files are in tests/test_model_file_checks.py.
"""
import itertools
import os
import random
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import selfsup as ss
from selfsup import model_file

def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _save_forever(models, path):
    """In a forked child: save the models in turn until killed; never returns (exit status 7 after
    SystemExit(7))."""
    try:
        for i in itertools.count():
            ss.save_model(models[i % len(models)], path)
    except SystemExit as done:
        os._exit(done.code)
    finally:
        os._exit(3)


def _fork_saver(models, path) -> int:
    pid = os.fork()
    if pid == 0:
        _save_forever(models, path)
    return pid


def test_load_never_mixes_two_saves(tmp_path):
    """1,000 loads while another process keeps replacing the file with save_model of two models that
    differ in weights (seed 1 / 2) and in metadata (the history names the seed): each load is exactly
    one save. (r-package/tests/testthat/test-model-files.R does the same from R.)"""
    path = tmp_path / "m.safetensors"
    models = [ss.build_model((4, 4), 2, encoder="mlp", seed=seed) for seed in (1, 2)]
    for seed, model in zip((1, 2), models):
        model.history = [{"epoch": 1, "seed": seed}]
    want = {seed: ss.get_weights(model) for seed, model in zip((1, 2), models)}
    writer = _fork_saver(models, path)
    try:
        while not path.exists():
            time.sleep(0.01)
        seeds, mixed = [], 0
        for _ in range(1000):
            model = ss.load_model(path)
            seed = model.history[0]["seed"]
            got = ss.get_weights(model)
            mixed += not all(np.array_equal(got[k], want[seed][k]) for k in got)
            seeds.append(seed)
    finally:
        os.kill(writer, signal.SIGKILL)
        os.waitpid(writer, 0)
    switches = sum(a != b for a, b in itertools.pairwise(seeds))
    print(f"race: {len(seeds)} loads, {mixed} mixed, {switches} changes of file seen")
    assert switches >= 20, "the writer hardly replaced the file: the race was not exercised"
    assert mixed == 0


def test_kill_9_during_saves_leaves_no_temp_file_after_the_next_save(tmp_path):
    """20 kill -9 at random moments of saving: each save sweeps the temp files of killed ones."""
    path = tmp_path / "m.safetensors"
    model = ss.build_model((28, 28), 10, seed=0)     # 1.6 MB: a kill often lands mid-write
    ss.save_model(model, path)
    rng = random.Random(0)
    killed_mid_write = 0
    for _ in range(20):
        pid = _fork_saver([model], path)
        time.sleep(rng.uniform(0.01, 0.1))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        killed_mid_write += len(temp_files(tmp_path))  # the next child's first save sweeps it
        ss.load_model(path)                            # the previous file stays loadable
    print(f"kill -9 x20: {killed_mid_write} left a temp file; the next save swept it")
    assert killed_mid_write >= 1, "no kill landed mid-write: the sweep was not exercised"
    ss.save_model(ss.build_model((8, 8), 10, seed=1), path)
    assert temp_files(tmp_path) == []
    assert ss.load_model(path).input_shape == (8, 8)


def test_sigterm_during_save_removes_the_temp_file_and_still_terminates(tmp_path):
    path = tmp_path / "m.safetensors"
    model = ss.build_model((28, 28), 10, seed=0)
    rng = random.Random(1)
    for _ in range(6):
        pid = _fork_saver([model], path)
        time.sleep(rng.uniform(0.02, 0.1))
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM  # as before: terminated
        assert temp_files(tmp_path) == []            # without any further save


def test_sigterm_with_a_python_handler_runs_it_and_still_removes_the_temp_file(tmp_path):
    path = tmp_path / "m.safetensors"
    model = ss.build_model((28, 28), 10, seed=0)
    pid = os.fork()
    if pid == 0:
        def handler(signum, frame):
            raise SystemExit(7)
        signal.signal(signal.SIGTERM, handler)
        _save_forever([model], path)
    time.sleep(0.3)
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    assert temp_files(tmp_path) == []
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 7   # the program's own handler ran


def test_a_failing_save_removes_its_temp_file_and_names_path(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    ss.save_model(ss.build_model((8, 8), 10, seed=0), path)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model_file.os, "fsync", disk_full)
    with pytest.raises(OSError, match=rf"`path` '{path}' cannot be written: No space left on device"):
        ss.save_model(ss.build_model((8, 8), 3, seed=0), path)
    monkeypatch.undo()

    def interrupted(fd, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(model_file.os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ss.save_model(ss.build_model((8, 8), 3, seed=0), path)
    monkeypatch.undo()
    assert temp_files(tmp_path) == []
    assert len(ss.load_model(path).classes) == 10    # the old file is untouched


def test_the_sweep_removes_only_dead_writers_temp_files_of_that_path(tmp_path):
    path = tmp_path / "m.safetensors"
    dead = subprocess.Popen(["true"])
    dead.wait()
    names = {
        f".m.safetensors.selfsup-{dead.pid}-0123abcd.tmp": False,       # its writer is gone: swept
        f".m.safetensors.selfsup-{os.getpid()}-0123abcd.tmp": True,     # a live writer's: kept
        f".m.safetensors.selfsup-{os.getppid()}-89abcdef.tmp": True,
        f".other.safetensors.selfsup-{dead.pid}-0123abcd.tmp": True,    # another path's: kept
        ".m.safetensors.tmp": True,                                      # not our name: kept
        "notes.txt": True,
    }
    for name in names:
        (tmp_path / name).write_text("x")
    ss.save_model(ss.build_model((8, 8), 10, seed=0), path)
    kept = {p.name for p in tmp_path.iterdir()}
    assert kept == {name for name, keep in names.items() if keep} | {"m.safetensors"}


def test_saves_respect_the_umask_and_keep_an_existing_files_mode(tmp_path):
    model = ss.build_model((8, 8), 10, seed=0)
    old = os.umask(0o022)
    try:
        ss.save_model(model, tmp_path / "a.safetensors")
        assert (tmp_path / "a.safetensors").stat().st_mode & 0o777 == 0o644
        os.umask(0o027)
        ss.save_model(model, tmp_path / "b.safetensors")
        assert (tmp_path / "b.safetensors").stat().st_mode & 0o777 == 0o640
        os.umask(0o077)
        ss.save_model(model, tmp_path / "a.safetensors")     # overwriting keeps 0644
        assert (tmp_path / "a.safetensors").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_saving_over_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    target, link = tmp_path / "real" / "m.safetensors", tmp_path / "link.safetensors"
    ss.save_model(ss.build_model((8, 8), 10, seed=0), target)
    link.symlink_to(target)
    ss.save_model(ss.build_model((8, 8), 3, seed=0), link)
    assert link.is_symlink() and link.resolve() == target
    assert len(ss.load_model(target).classes) == 3
    assert temp_files(tmp_path) == [] and temp_files(tmp_path / "real") == []


def _unprivileged(fn) -> str:
    """The message of the exception `fn()` raises, run without root's powers ("" if none).

    As root (permissions never stop root) `fn` runs in a forked child that becomes `nobody`;
    as anyone else it runs here.
    """
    if os.geteuid() != 0:
        try:
            fn()
        except Exception as err:
            return str(err)
        return ""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        msg = ""
        try:
            os.setgid(65534)
            os.setuid(65534)
            fn()
        except BaseException as err:
            msg = f"{type(err).__name__}: {err}"
        os.write(write, msg.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        msg = fh.read()
    os.waitpid(pid, 0)
    return msg


@pytest.fixture
def shared_folder():
    """A folder others can enter but not write (pytest's tmp_path is root's alone). In /tmp itself:
    once R is embedded (rpy2), tempfile's folder is R's session folder, which only root can enter."""
    folder = Path(tempfile.mkdtemp(prefix="selfsup-perm-", dir="/tmp"))
    try:
        yield folder
    finally:
        folder.chmod(0o700)
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


def test_an_unreadable_file_says_it_cannot_be_read(shared_folder):
    path = shared_folder / "m.safetensors"
    ss.save_model(ss.build_model((8, 8), 10, seed=0), path)
    path.chmod(0o000 if os.geteuid() else 0o600)
    shared_folder.chmod(0o755)
    msg = _unprivileged(lambda: ss.load_model(path))
    assert msg.endswith(f"`path` '{path}' cannot be read: permission denied."), msg


def test_saving_into_a_read_only_folder_names_path_not_the_temp_file(shared_folder):
    path = shared_folder / "m.safetensors"
    shared_folder.chmod(0o555)
    model = ss.build_model((8, 8), 10, seed=0)
    msg = _unprivileged(lambda: ss.save_model(model, path))
    assert f"`path` '{path}' cannot be written: Permission denied (its folder '{shared_folder}')" in msg, msg
    assert ".tmp" not in msg


@pytest.mark.parametrize("path", [None, 3, ["a", "b"], ""])
def test_a_path_that_is_not_a_file_name_is_named(path):
    with pytest.raises(TypeError, match=r"^`path` must be a file name \(a string\); got "):
        ss.load_model(path)
    with pytest.raises(TypeError, match=r"^`path` must be a file name \(a string\); got "):
        ss.save_model(ss.build_model((8, 8), 10, seed=0), path)
