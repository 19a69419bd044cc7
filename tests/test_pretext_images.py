"""The image classification pretext tasks: rotation, relative_position, jigsaw, simclr.

Each task's pseudo-labels must be what its paper says, made from the batch alone, reproducibly
from the seed; bad inputs must say what the task needs.
"""
import numpy as np
import pytest
import torch

from selfsup.device import generator
from selfsup.pretext import TASKS
from selfsup.pretext.jigsaw import permutation_set
from selfsup.pretext._patches import Grid
from selfsup.self_supervised import ssl_pretrain, ssl_show

from conftest import DEVICE

IMAGE_TASKS = ("rotation", "relative_position", "jigsaw", "simclr")
FIT = dict(epochs=1, batch_size=32, device=DEVICE, verbose=False)


@pytest.fixture(scope="module")
def big_digits(digits):
    """64 digits blown up to 16x16 (each pixel 2x2): big enough for a 3x3 grid of 4x4 patches."""
    return np.kron(digits["train"]["x"][:64], np.ones((1, 2, 2), dtype=np.uint8))


def batch_of(task, x, seed=0, **options):
    t = TASKS[task](**options)
    x = t.check(x)
    xb = torch.from_numpy(x).unsqueeze(1)
    return t, xb, t.batch(xb, None, generator(seed, torch.device("cpu")))


def test_rotation_labels_are_the_turn_applied(digits):
    x = digits["train"]["x"][:40]
    _, xb, (inputs, targets) = batch_of("rotation", x)
    assert inputs.shape == (40, 1, 8, 8) and set(targets.tolist()) <= {0, 1, 2, 3}
    for i in range(40):  # undoing the predicted turn gives back the original image
        back = torch.rot90(inputs[i], -int(targets[i]), dims=(1, 2))
        assert torch.equal(back, xb[i].float() / 255)


def test_rotation_all_rotations_gives_each_image_four_times(digits):
    x = digits["train"]["x"][:5]
    _, xb, (inputs, targets) = batch_of("rotation", x, all_rotations=True)
    assert inputs.shape == (20, 1, 8, 8) and targets.tolist() == [0, 1, 2, 3] * 5
    assert torch.equal(inputs[6], torch.rot90(xb[1].float() / 255, 2, dims=(1, 2)))


def test_relative_position_patches_come_from_the_named_neighbour(big_digits):
    t, xb, (inputs, targets) = batch_of("relative_position", big_digits)
    p = t.options["patch_size"]
    assert p == 4 and inputs.shape == (2 * 64, 1, 4, 4) and targets.max() < 8
    x = xb.float() / 255
    neighbours = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)]
    cell = 16 // 3
    for b in range(64):
        for k, (row, col) in enumerate([(1, 1), neighbours[int(targets[b])]]):
            patch = inputs[2 * b + k, 0]
            # the patch is found at some offset inside its cell (jitter), nowhere required outside
            found = any(torch.equal(patch, x[b, 0, row * cell + dy:row * cell + dy + p, col * cell + dx:col * cell + dx + p])
                        for dy in range(cell - p + 1) for dx in range(cell - p + 1))
            assert found


def test_jigsaw_permutations_are_distinct_and_far_apart():
    perms = permutation_set(9, 30)
    assert perms.shape == (30, 9) and (perms[0] == np.arange(9)).all()
    assert len({tuple(p) for p in perms}) == 30
    assert all(sorted(p) == list(range(9)) for p in perms)
    distances = [(a != b).sum() for i, a in enumerate(perms) for b in perms[i + 1:]]
    assert min(distances) >= 6  # random pairs of 9-permutations differ in ~8 places on average


def test_jigsaw_tiles_follow_the_permutation(big_digits):
    t, xb, (inputs, targets) = batch_of("jigsaw", big_digits, n_permutations=10)
    assert inputs.shape == (9 * 64, 1, 4, 4) and targets.max() < 10
    # with no jitter room (patch = cell - 1 still leaves 1 px), tile i sits in cell perm[i]
    grid = Grid(16, 16, 3, t.options["patch_size"])
    perms = permutation_set(9, 10)
    x = xb.float() / 255
    centred = grid.cut(x, grid.all_cells(64, x.device), jitter=False)
    tiles = inputs.reshape(64, 9, 1, 4, 4)
    for b in range(8):
        for i, cell in enumerate(perms[int(targets[b])]):
            r, c = divmod(int(cell), 3)
            region = x[b, 0, r * 5:r * 5 + 5, c * 5:c * 5 + 5]
            assert any(torch.equal(tiles[b, i, 0], region[dy:dy + 4, dx:dx + 4]) for dy in range(2) for dx in range(2))
    assert centred.shape == (64, 9, 1, 4, 4)


def test_simclr_views_pair_up_and_loss_is_nt_xent(digits):
    t, xb, (inputs, targets) = batch_of("simclr", digits["train"]["x"][:16])
    assert inputs.shape == (32, 1, 8, 8) and targets.tolist() == [i ^ 1 for i in range(32)]
    assert inputs.min() >= 0 and inputs.max() <= 1
    assert not torch.equal(inputs[0], inputs[1])  # two different views of one image
    z = torch.randn(32, 5)
    zn = torch.nn.functional.normalize(z, dim=1)
    sim = zn @ zn.T / 0.5
    loss = 0.0
    for i in range(32):  # NT-Xent written out: -log softmax over the 31 other views
        others = [j for j in range(32) if j != i]
        loss += -(sim[i, i ^ 1] - torch.logsumexp(sim[i, others], 0))
    torch.testing.assert_close(t.loss(z, targets), loss / 32)


def test_simclr_builds_one_similarity_matrix_per_batch(big_digits, monkeypatch):
    """loss() and metrics() of one batch share the (2B, 2B) matrix (data-parallel, one gather too)."""
    cls = TASKS["simclr"]
    calls = []
    real = cls._similarity
    monkeypatch.setattr(cls, "_similarity", lambda self, outputs: calls.append(1) or real(self, outputs))
    model = ssl_pretrain(big_digits, "simclr", seed=0, validation_split=0.25, **FIT)   # 48 + 16 digits
    assert len(calls) == 3                               # training batches of 32 and 16, one validation batch
    assert np.isfinite(model.history[0]["accuracy"]) and np.isfinite(model.history[0]["val_accuracy"])


def test_simclr_metrics_match_the_matrix_of_their_own_outputs(digits):
    """The matrix loss() kept serves only the same outputs; other outputs get their own."""
    t, _, (_, targets) = batch_of("simclr", digits["train"]["x"][:16])
    paired = torch.randn(16, 5).repeat_interleave(2, 0)  # each view equal to its partner: accuracy 1
    other = torch.randn(32, 5)                           # unrelated views: accuracy far below 1
    wrong = float(TASKS["simclr"]().metrics(other, targets)["accuracy"])
    assert wrong < 0.5
    t.loss(paired, targets)
    assert float(t.metrics(other, targets)["accuracy"]) == wrong
    t.loss(paired, targets)
    assert float(t.metrics(paired.detach(), targets)["accuracy"]) == 1.0
    t.loss(paired, targets)
    paired.copy_(other)                                  # changed in place after loss(): other outputs now
    assert float(t.metrics(paired, targets)["accuracy"]) == wrong


@pytest.mark.parametrize("task", IMAGE_TASKS)
def test_same_seed_same_pseudo_labels(task, big_digits):
    _, _, (a_in, a_t) = batch_of(task, big_digits, seed=3)
    _, _, (b_in, b_t) = batch_of(task, big_digits, seed=3)
    _, _, (c_in, c_t) = batch_of(task, big_digits, seed=4)
    assert torch.equal(a_in, b_in) and torch.equal(a_t, b_t)
    assert not torch.equal(a_in, c_in)


@pytest.mark.parametrize("task", IMAGE_TASKS)
def test_each_task_trains_one_epoch_and_records_history(task, big_digits):
    model = ssl_pretrain(big_digits, task, seed=0, validation_split=0.25, **FIT)
    assert model.task == task and model.classes is None
    assert set(model.history[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert np.isfinite(model.history[0]["loss"])


def test_rotation_learns_on_digits(digits):
    model = ssl_pretrain(digits["train"]["x"][:400], "rotation", epochs=6, batch_size=32, seed=0,
                         device=DEVICE, verbose=False)
    assert model.history[-1]["accuracy"] > 0.4  # chance is 0.25 (0.51 seen: 8x8 digits, 6 short epochs)


@pytest.mark.parametrize("task,pieces", [("rotation", 1), ("relative_position", 2), ("jigsaw", 9), ("simclr", 2)])
def test_ssl_show_returns_the_batch(task, pieces, big_digits):
    shown = ssl_show(big_digits, task, n=5, seed=1)
    assert shown["task"] == task and shown["pieces"] == pieces
    expected = (5, 16, 16) if pieces == 1 else (5, pieces) + ((16, 16) if task == "simclr" else (4, 4))
    assert shown["inputs"].shape == expected and shown["inputs"].dtype == np.float32
    assert len(shown["targets"]) == 5


# --------------------------------------------------------------------------------- bad input
def test_images_too_small_for_the_grid_say_the_minimum(digits):
    with pytest.raises(ValueError, match=r"8x8 pixels, too small .*3x3 grid.*at least 15x15"):
        ssl_pretrain(digits["train"]["x"][:10], "relative_position", **FIT)
    with pytest.raises(ValueError, match=r"at least 18x18"):
        ssl_pretrain(np.zeros((4, 16, 16), np.uint8), "jigsaw", patch_size=5, **FIT)
    with pytest.raises(ValueError, match=r"at least 4x4"):
        ssl_pretrain(np.zeros((4, 3, 3), np.uint8), "rotation", **FIT)


def test_rotation_needs_square_images():
    with pytest.raises(ValueError, match="must be square.*12x16"):
        ssl_pretrain(np.zeros((4, 12, 16), np.uint8), "rotation", **FIT)


@pytest.mark.parametrize("task", IMAGE_TASKS)
def test_image_tasks_reject_non_images(task):
    with pytest.raises(ValueError, match=f'task "{task}" needs images.*got shape \\(10, 64\\)'):
        ssl_pretrain(np.zeros((10, 64)), task, **FIT)


def test_task_options_are_checked():
    x = np.zeros((4, 16, 16), np.uint8)
    with pytest.raises(TypeError, match=r'"rotation" has no option \'grid\'; its options are: all_rotations'):
        ssl_pretrain(x, "rotation", grid=3, **FIT)
    with pytest.raises(ValueError, match="only 24 permutations"):
        ssl_pretrain(x, "jigsaw", grid=2, n_permutations=30, **FIT)
    with pytest.raises(ValueError, match="`temperature` must be in"):
        ssl_pretrain(x, "simclr", temperature=0, **FIT)


def test_ssl_show_jigsaw_says_which_cell_each_tile_came_from():
    # a 15x15 image whose 3x3 grid of 5x5 cells hold the values 20, 40, ..., 180 (row-major)
    cell = np.repeat(np.repeat(np.arange(1, 10).reshape(3, 3) * 20, 5, axis=0), 5, axis=1)
    x = np.stack([cell] * 6).astype(np.uint8)
    shown = ssl_show(x, "jigsaw", n=6, seed=2)
    cells = shown["cells"]
    assert cells.shape == (6, 9) and all(sorted(row) == list(range(9)) for row in cells)
    tile_values = np.rint(shown["inputs"].mean(axis=(2, 3)) * 255 / 20).astype(int) - 1   # (6, 9)
    np.testing.assert_array_equal(tile_values, cells)
    assert len(set(map(tuple, cells))) > 1   # different permutations for different samples
