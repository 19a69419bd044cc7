"""load_model checks a file whole before building anything: each broken file, made by hand, gets
"`path` ... is not a valid selfsup model: <why>"."""
import json
import pickle
import resource
import time

import pytest
import torch
from safetensors.torch import save

import selfsup as ss
from selfsup.model_file import FORMAT


def parts():
    """The tensors and metadata of a valid file (the seminar CNN on 8x8 images, 10 classes)."""
    model = ss.build_model((8, 8), 10, seed=0)
    tensors = {k: v.clone() for k, v in model.net.state_dict().items()}
    meta = {"spec": model.spec, "classes": model.classes, "history": [{"epoch": 1, "loss": 0.5}],
            "task": "supervised", "frozen": []}
    return tensors, json.loads(json.dumps(meta))


def file_of(tensors, meta) -> bytes:
    return save(tensors, metadata={"format": FORMAT, "selfsup": json.dumps(meta)})


def edit(change):
    """A file made from the valid parts after `change(tensors, meta)`."""
    def make():
        tensors, meta = parts()
        change(tensors, meta)
        return file_of(tensors, meta)
    return make


def with_header(header: bytes):
    return lambda: len(header).to_bytes(8, "little") + header + b"\0" * 16


class Evil:
    def __reduce__(self):
        return (print, ("the payload ran",))


BIAS = "head.output.bias"
CASES = {
    "empty": (lambda: b"", "it has 0 bytes, too few for a safetensors file"),
    "text": (lambda: b"this is not a model at all", "its first 8 bytes give no valid header length"),
    "pickle": (lambda: pickle.dumps(Evil()), "no valid header length"),
    "header not JSON": (with_header(b"{not json"), "its header is not JSON"),
    "truncated": (lambda: file_of(*parts())[:-100], "its tensors cannot be read"),
    "plain safetensors": (lambda: save(parts()[0]), "a safetensors file without selfsup's metadata"),
    "no selfsup key": (lambda: save(parts()[0], metadata={"format": FORMAT}),
                       "its header lacks the selfsup metadata (key 'selfsup')"),
    "metadata not JSON": (lambda: save(parts()[0], metadata={"format": FORMAT, "selfsup": "{oops"}),
                          "its selfsup metadata is not JSON"),
    "no history": (edit(lambda t, m: m.pop("history")), "its metadata lacks 'history'"),
    "history not a list": (edit(lambda t, m: m.update(history="10 epochs")),
                           "its `history` must be a list of rows of numbers"),
    "history of words": (edit(lambda t, m: m.update(history=[{"epoch": "one"}])),
                         "its `history` must be a list of rows of numbers"),
    "3 classes, 10 outputs": (edit(lambda t, m: m.update(classes=["a", "b", "c"])),
                              "it has 3 class names but 10 outputs"),
    "duplicated classes": (edit(lambda t, m: m.update(classes=["a"] * 10)), "at least 2 distinct class names"),
    "spec not a dict": (edit(lambda t, m: m.update(spec=[1, 2])), "its `spec` must hold an `encoder` and a `head`"),
    "unknown encoder": (edit(lambda t, m: m["spec"]["encoder"].update(name="evil")),
                        "its encoder 'evil' is not one of 'cnn', 'mlp'"),
    "unknown head": (edit(lambda t, m: m["spec"]["head"].update(name="evil")), "its head 'evil' is not one of"),
    "evil kwarg": (edit(lambda t, m: m["spec"]["encoder"].update(evil_kwarg=1)),
                   "its encoder 'cnn' has no option 'evil_kwarg' (its options: filters, dense, input_shape)"),
    "negative size": (edit(lambda t, m: m["spec"]["encoder"].update(dense=-5)),
                      "its encoder option 'dense' holds -5; sizes must be at least 1"),
    "NaN option": (edit(lambda t, m: m["spec"].update(encoder={"name": "mlp", "input_shape": [8, 8],
                                                               "dropout": float("nan")})),
                   "its encoder option 'dropout' holds nan; it must be finite"),
    "bad input_shape": (edit(lambda t, m: m["spec"]["encoder"].update(input_shape=[8, "8"])),
                        "its encoder's `input_shape` must be 1 to 3 positive whole numbers"),
    "spec bigger than file": (edit(lambda t, m: m["spec"]["encoder"].update(dense=10**9)),
                              "weight 'encoder.dense1.weight' has shape (256, 128), but its network spec "
                              "needs (1000000000, 128)"),
    "spec does not build": (edit(lambda t, m: m["spec"]["encoder"].update(filters=[64, 32, 16, 8])),
                            "its network spec does not build (ValueError: `x` images are too small"),
    "depth bomb": (edit(lambda t, m: m["spec"].update(encoder={
        "name": "transformer", "input_shape": [8], "vocab_size": 10, "depth": 10**6})),
        "its network spec describes a much larger network than the file holds"),
    "seed not a number": (edit(lambda t, m: m["spec"].update(seed="7")),
                          "its `spec.seed` must be null or a whole number 0..2**64-1; got '7'"),
    "bool weights": (edit(lambda t, m: t.update({BIAS: t[BIAS].bool()})),
                     f"weight '{BIAS}' is BOOL, but its network spec needs float32 (F32)"),
    "int8 weights": (edit(lambda t, m: t.update({BIAS: t[BIAS].to(torch.int8)})), f"weight '{BIAS}' is I8"),
    "float64 weights": (edit(lambda t, m: t.update({BIAS: t[BIAS].double()})), f"weight '{BIAS}' is F64"),
    "NaN weights": (edit(lambda t, m: t[BIAS].fill_(float("nan"))), f"weight '{BIAS}' contains NaN/Inf"),
    "missing weight": (edit(lambda t, m: t.pop(BIAS)), f"it lacks weights {BIAS}"),
    "extra weight": (edit(lambda t, m: t.update(evil=torch.zeros(2))),
                     "it has weights its network does not have: evil"),
    "wrong shape": (edit(lambda t, m: t.update({BIAS: torch.zeros(5)})),
                    f"weight '{BIAS}' has shape (5,), but its network spec needs (10,)"),
    "frozen unknown layer": (edit(lambda t, m: m.update(frozen=["conv9"])),
                             "its `frozen` names layers its network does not have: conv9"),
    "bad pretext options": (edit(lambda t, m: m["spec"].update(
        pretext={"name": "rotation", "options": {"evil": 1}, "data_shape": [8, 8]})),
        "its pretext task's options are not valid (task \"rotation\" has no option 'evil'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_file_is_named_and_explained(case, tmp_path, capsys):
    make, why = CASES[case]
    path = tmp_path / "m.safetensors"
    path.write_bytes(make())
    with pytest.raises(ValueError) as err:
        ss.load_model(path)
    assert str(err.value).startswith(f"`path` '{path}' is not a valid selfsup model: "), str(err.value)
    assert why in str(err.value)
    assert "the payload ran" not in capsys.readouterr().out


def test_a_tiny_file_describing_a_huge_network_fails_fast_without_memory(tmp_path):
    """Checked on the meta device: a 2,000 MB network in a 140 KB file is refused in well under a second."""
    tensors, meta = parts()
    meta["spec"]["encoder"]["dense"] = 4_000_000   # dense1: 4e6 x 128 floats = 2 GB
    path = tmp_path / "m.safetensors"
    path.write_bytes(file_of(tensors, meta))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(ValueError, match="its network spec needs"):
        ss.load_model(path)
    assert time.perf_counter() - start < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 200_000   # KB


def test_loading_leaves_the_users_random_stream_alone(tmp_path):
    path = ss.save_model(ss.build_model((8, 8), 10, seed=0), tmp_path / "m.safetensors")
    torch.manual_seed(5)
    ss.load_model(path)
    after_load = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(after_load, torch.rand(3))
