"""Networks with batch norm save and load: their batch count (`num_batches_tracked`) is int64, the only
tensor of a selfsup network that is not float32. The file must hold each tensor in the dtype of the
network its spec builds, no other."""
import json

import numpy as np
import pytest
import torch
from safetensors.torch import save

import selfsup as ss
from selfsup.model_file import FORMAT

COUNT = "encoder.block1.bn.num_batches_tracked"


@pytest.fixture(scope="module")
def convnet(small):
    x, y, _, _ = small
    return ss.fit_supervised(x[:64], y[:64], encoder="convnet", epochs=1, batch_size=32, seed=1,
                             device="cpu", verbose=False)


def same_state(a, b):
    """Every parameter and buffer equal, dtype included."""
    sa, sb = a.net.state_dict(), b.net.state_dict()
    assert list(sa) == list(sb)
    for name in sa:
        assert sa[name].dtype == sb[name].dtype, name
        assert torch.equal(sa[name], sb[name]), name


def test_a_convnet_classifier_round_trips(convnet, small, tmp_path):
    _, _, x_test, _ = small
    assert convnet.net.state_dict()[COUNT].dtype == torch.int64 and int(convnet.net.state_dict()[COUNT]) == 2
    loaded = ss.load_model(ss.save_model(convnet, tmp_path / "m.safetensors"))
    same_state(convnet, loaded)
    np.testing.assert_array_equal(ss.predict(convnet, x_test, type="prob", device="cpu"),
                                  ss.predict(loaded, x_test, type="prob", device="cpu"))


def test_a_simclr_model_round_trips(small, tmp_path):
    """SimCLR's projection head has batch norm too (head.bn1)."""
    x, _, x_test, _ = small
    model = ss.ssl_pretrain(x[:64], "simclr", epochs=1, batch_size=32, seed=2, device="cpu", verbose=False)
    assert model.net.state_dict()["head.bn1.num_batches_tracked"].dtype == torch.int64
    loaded = ss.load_model(ss.save_model(model, tmp_path / "m.safetensors"))
    same_state(model, loaded)
    assert loaded.task == "simclr"
    np.testing.assert_array_equal(ss.ssl_embed(model, x_test, device="cpu"),
                                  ss.ssl_embed(loaded, x_test, device="cpu"))


def parts(model):
    tensors = {k: v.clone() for k, v in model.net.state_dict().items()}
    meta = {"spec": model.spec, "classes": model.classes, "history": [], "task": "supervised", "frozen": []}
    return tensors, meta


@pytest.mark.parametrize("change, why", [
    (lambda t: t.update({COUNT: t[COUNT].float()}), f"weight '{COUNT}' is F32, but its network spec needs int64 (I64)"),
    (lambda t: t.update({COUNT: t[COUNT].int()}), f"weight '{COUNT}' is I32, but its network spec needs int64 (I64)"),
    (lambda t: t.update({COUNT: torch.tensor(-1)}), f"weight '{COUNT}' is a count, but holds negative numbers"),
    (lambda t: t.update({"encoder.block1.bn.running_var": t["encoder.block1.bn.running_var"].long()}),
     "weight 'encoder.block1.bn.running_var' is I64, but its network spec needs float32 (F32)"),
])
def test_each_tensor_must_have_its_networks_dtype(convnet, tmp_path, change, why):
    tensors, meta = parts(convnet)
    change(tensors)
    path = tmp_path / "m.safetensors"
    path.write_bytes(save(tensors, metadata={"format": FORMAT, "selfsup": json.dumps(meta)}))
    with pytest.raises(ValueError, match="is not a valid selfsup model: ") as err:
        ss.load_model(path)
    assert why in str(err.value)
