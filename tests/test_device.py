"""selfsup_device(): which device training uses and why; a model says where its weights are."""
import pytest
import torch

import selfsup as ss


def test_device_says_which_and_why():
    cpu = ss.selfsup_device("cpu")
    assert cpu.device == "cpu" and not cpu.bf16 and cpu.threads == torch.get_num_threads()
    assert cpu.reason.startswith('device="cpu" was asked for') and "float32" in cpu.reason
    auto = ss.selfsup_device()
    if torch.cuda.is_available():
        assert auto.device.startswith("cuda") and "takes the GPU" in auto.reason
    else:
        assert auto.device == "cpu" and auto.reason.startswith('device="auto" found no GPU')
        assert ("CPU-only build" in auto.reason) == (torch.version.cuda is None)
    assert auto.torch == torch.__version__.split("+")[0] and "selfsup device: " in repr(auto)


def test_device_checks_its_argument():
    with pytest.raises(ValueError, match="`device` must be one of"):
        ss.selfsup_device("gpu")


def test_model_shows_its_device():
    m = ss.build_model((8, 8), 3, seed=1)
    assert m.device == torch.device("cpu") and repr(m).endswith("0 epochs trained; on cpu>")


@pytest.fixture
def fourth_gpu_current(monkeypatch):
    """torch.cuda as a rank of torchrun sees it after set_device(LOCAL_RANK = 3); no real CUDA call."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=None: f"GPU number {i}")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)


@pytest.mark.parametrize("asked", ["cuda", "auto"])
def test_cuda_means_the_current_gpu_not_the_first(fourth_gpu_current, asked):
    from selfsup.device import resolve_device
    assert resolve_device(asked) == torch.device("cuda", 3)
    info = ss.selfsup_device(asked)
    assert info.device == "cuda:3" and "trains on GPU number 3" in info.reason
