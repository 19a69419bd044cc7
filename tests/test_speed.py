"""The CPU levers and the thread policy: each keeps what the seminar CNN computes, and threads are
chosen per call, overridable and restored."""
import copy

import numpy as np
import pytest
import torch

import selfsup as ss
from selfsup import cpu
from selfsup.nets import layers

from conftest import DEVICE


@pytest.fixture
def levers():
    """The lever switches of nets/layers.py, restored after the test."""
    saved = layers.CHANNELS_LAST, layers.POOL_BEFORE_RELU, layers.UNIFORM_MASKS, layers.PREFETCH_MASKS
    yield
    layers.CHANNELS_LAST, layers.POOL_BEFORE_RELU, layers.UNIFORM_MASKS, layers.PREFETCH_MASKS = saved


def train_step(net, x, channels_last, pool_before_relu, uniform_masks):
    """Outputs and weight gradients of one training forward/backward, and the stream's next draws."""
    layers.CHANNELS_LAST, layers.POOL_BEFORE_RELU, layers.UNIFORM_MASKS = channels_last, pool_before_relu, uniform_masks
    net = copy.deepcopy(net).train()
    gen = torch.Generator().manual_seed(3)
    for m in net.modules():
        if isinstance(m, layers.Dropout):
            m.generator = gen
    out = net(x)
    out.square().sum().backward()
    return out, [p.grad for p in net.parameters()], torch.rand(4, generator=gen)


def seminar_input():
    """Pixels as the seminar has them (k / 255, many ties at 0 and between neighbours)."""
    gen = torch.Generator().manual_seed(0)
    return torch.randint(0, 4, (8, 1, 28, 28), generator=gen).float() * 85 / 255


@pytest.mark.parametrize("lever", ["pool_before_relu", "uniform_masks"])
def test_exact_levers_change_no_bit(levers, lever):
    net = ss.build_model((28, 28), 10, seed=0).net
    x = seminar_input()
    ref = train_step(net, x, False, False, False)
    got = train_step(net, x, False, lever == "pool_before_relu", lever == "uniform_masks")
    assert torch.equal(got[0], ref[0])
    assert all(torch.equal(a, b) for a, b in zip(got[1], ref[1]))
    assert torch.equal(got[2], ref[2])          # the stream is where bernoulli_ would have left it


def test_channels_last_changes_only_the_last_bits_and_not_the_weights_layout(levers):
    net = ss.build_model((28, 28), 10, seed=0).net
    x = seminar_input()
    ref = train_step(net, x, False, True, True)
    got = train_step(net, x, True, True, True)
    torch.testing.assert_close(got[0], ref[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(got[1], ref[1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    assert all(p.is_contiguous() for p in net.parameters())   # saved and copied as before
    assert layers.channels_last(x).stride(1) == 1               # one channel: channels-last strides set


def observe_threads(monkeypatch):
    """Record torch's thread count in every training step of the loop."""
    import selfsup.train as train
    seen = []
    real = train._step_forward

    def spy(*args):
        seen.append(torch.get_num_threads())
        return real(*args)
    monkeypatch.setattr(train, "_step_forward", spy)
    return seen


def tiny_fit(**kw):
    d = ss.load_dataset("digits")
    return ss.fit_supervised(d["train"]["x"][:20], d["train"]["y"][:20], classes=10, epochs=1, batch_size=1,
                             seed=1, device=DEVICE, verbose=False, **kw)


def test_small_work_runs_on_one_thread_and_torch_setting_is_restored(monkeypatch):
    seen = observe_threads(monkeypatch)
    monkeypatch.delenv(cpu.ENV, raising=False)
    torch.set_num_threads(2)
    try:
        tiny_fit()
        assert set(seen) == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_large_work_keeps_torch_threads_and_overrides_win(monkeypatch):
    seen = observe_threads(monkeypatch)
    monkeypatch.delenv(cpu.ENV, raising=False)
    torch.set_num_threads(2)
    try:
        monkeypatch.setattr(cpu, "ONE_THREAD_BELOW", 0.0)      # every step counts as large
        tiny_fit()
        assert set(seen) == {2}
        seen.clear()
        monkeypatch.setenv(cpu.ENV, "1")                        # the environment variable fixes it
        tiny_fit()
        assert set(seen) == {1}
        seen.clear()
        before = ss.set_threads(2)                              # and set_threads() wins over it
        try:
            monkeypatch.setattr(cpu, "ONE_THREAD_BELOW", float("inf"))
            tiny_fit()
        finally:
            assert ss.set_threads(before) == 2
        assert set(seen) == {2}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_bad_thread_settings_name_the_setting(monkeypatch):
    with pytest.raises(ValueError, match="`n` must be at least 1; got 0"):
        ss.set_threads(0)
    monkeypatch.setenv(cpu.ENV, "two")
    with pytest.raises(ValueError, match="SELFSUP_THREADS must be a whole number >= 1 or \"auto\"; got 'two'"):
        tiny_fit()


def test_work_is_counted_from_the_network():
    cnn = ss.build_model((28, 28), 10, seed=0).net
    mlp = ss.build_model((784,), 10, encoder="mlp", seed=0).net
    # conv1 28*28*64*4 MACs + conv2 14*14*32*64*4 + dense 1568*256 (x2 FLOPs per MAC), per sample
    assert cpu.step_flops(cnn, 1) == 2 * (28 * 28 * 64 * 4 + 14 * 14 * 32 * 64 * 4 + 1568 * 256)
    assert cpu.step_flops(mlp, 64) == 64 * 2 * 784 * 256
    assert cpu.step_flops(torch.nn.Linear(3, 3), 1) == float("inf")   # unknown: torch's threads


def test_evaluation_chunks_stay_in_reused_memory_and_predict_the_same():
    cnn = ss.build_model((28, 28), 10, seed=0)
    largest = cpu.sample_cost(cnn.net)[1]
    assert largest == 64 * 28 * 28 * 4                    # the first convolution's output, float32
    chunk = cpu.eval_chunk(torch.device("cpu"), cnn.net, 1024)
    assert chunk * largest <= cpu.EVAL_CHUNK_BYTES < (chunk + 1) * largest
    assert cpu.eval_chunk(torch.device("cpu"), cnn.net, 8) == 8                  # a smaller batch is kept
    assert cpu.eval_chunk(torch.device("meta"), cnn.net, 1024) == 1024           # off the CPU: as given
    assert cpu.eval_chunk(torch.device("cpu"), torch.nn.Linear(3, 3), 1024) == 1024   # unknown network
    x = torch.rand(chunk + 5, 28, 28, generator=torch.Generator().manual_seed(0)).numpy()
    y = (x.reshape(len(x), -1).sum(1) > x.reshape(len(x), -1).sum(1).mean()).astype(int)
    whole = ss.predict(cnn, x, type="prob", device="cpu")                      # two chunks
    apart = np.concatenate([ss.predict(cnn, x[i:i + 1], type="prob", device="cpu") for i in range(len(x))])
    np.testing.assert_allclose(whole, apart, rtol=0, atol=1e-6)   # kernels may sum in another order per batch size
    assert ss.evaluate(cnn, x, y, device="cpu")["accuracy"] == ss.evaluate(cnn, x, y, batch_size=7,
                                                                           device="cpu")["accuracy"]


def test_masks_drawn_ahead_are_the_masks_drawn_in_place(monkeypatch, levers):
    """MaskPrefetch: the same weights after training with the masks drawn on a worker thread (batches
    of 16 and a last one of 8: two plans) as with every mask drawn in place; and it did draw ahead."""
    x = torch.rand(40, 28, 28, generator=torch.Generator().manual_seed(0)).numpy()
    y = (x.reshape(40, -1).mean(1) > 0.5).astype(int)
    drawn_ahead = []
    original = layers._draw_uniforms
    monkeypatch.setattr(layers, "_draw_uniforms", lambda state, plan: drawn_ahead.append(len(plan)) or original(state, plan))
    models = {}
    for ahead in (False, True):
        layers.PREFETCH_MASKS = ahead
        models[ahead] = ss.fit_supervised(x, y, epochs=3, batch_size=16, validation_split=0.2, seed=4, device="cpu",
                                          verbose=False)
    assert drawn_ahead and set(drawn_ahead) == {3}           # the seminar CNN's three dropout layers
    for name, value in ss.get_weights(models[False]).items():
        assert np.array_equal(value, ss.get_weights(models[True])[name]), name
    assert models[False].history == models[True].history


def test_a_pass_unlike_its_plan_draws_in_place():
    gen = torch.Generator().manual_seed(1)
    prefetch = layers.MaskPrefetch(gen)
    net = torch.nn.Identity().train()
    shape = (64, 32, 8, 8)
    prefetch.start(net, (torch.zeros(2, 3),))                # learn: one mask of `shape`
    assert prefetch.take(shape, 0.7, torch.float32) is None
    prefetch.start(net, (torch.zeros(2, 3),))                # the plan is known: drawn ahead
    first = prefetch.take(shape, 0.7, torch.float32)
    expected = torch.Generator().manual_seed(1)
    assert torch.equal(first, (torch.rand(shape, dtype=torch.float64, generator=expected) < 0.7).float())
    assert torch.equal(gen.get_state(), expected.get_state())
    prefetch.start(net, (torch.zeros(2, 3),))
    torch.rand(1, generator=gen)                             # something else drew meanwhile
    assert prefetch.take(shape, 0.7, torch.float32) is None  # so it is drawn in place, from where gen is


def _fit_in_child(queue):
    model = ss.fit_supervised(np.random.default_rng(0).random((32, 28, 28)), np.arange(32) % 2, epochs=2,
                              batch_size=16, seed=1, device="cpu", verbose=False)
    queue.put(model.history[-1]["loss"])


def test_a_forked_child_draws_masks_ahead_with_its_own_worker():
    """The parent's worker thread does not exist in a forked child (R's mclapply, multiprocessing): the child
    must start its own, not wait forever on the parent's."""
    import multiprocessing
    x = np.random.default_rng(0).random((32, 28, 28))
    ss.fit_supervised(x, np.arange(32) % 2, epochs=2, batch_size=16, seed=1, device="cpu", verbose=False)
    assert layers._worker is not None                       # the parent drew masks ahead
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_fit_in_child, args=(queue,))
    child.start()
    child.join(timeout=120)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0
    assert np.isfinite(queue.get(timeout=5))


def test_the_linear_probe_runs_blas_on_one_thread_unless_the_user_fixed_a_count(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits
    from selfsup import self_supervised as sst

    def blas():
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    seen, tuned_C = [], sst._tuned_C
    monkeypatch.setattr(sst, "_tuned_C", lambda *a: seen.append(blas()) or tuned_C(*a))
    monkeypatch.delenv(cpu.ENV, raising=False)
    f, y = np.random.default_rng(0).normal(size=(40, 5)), np.repeat([0, 1], 20)
    with threadpool_limits(2, user_api="blas"):          # a 2-core machine's default
        assert blas() == {2}
        sst.linear_probe(f, y)
        assert seen == [{1}] and blas() == {2}           # one thread inside, the setting restored after
        before = ss.set_threads(2)
        try:
            sst.linear_probe(f, y)
        finally:
            ss.set_threads(before)
        assert seen[1] == {2}
