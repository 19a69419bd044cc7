"""On-device augmentations (selfsup.augment): FixMatch's weak and strong views, checked against what
the reference code computes with torchvision/PIL on one image at a time."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

import selfsup as ss
from selfsup import augment as A


def images(n=6, size=12, seed=0):
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


def test_weak_view_is_a_crop_of_the_reflect_padded_image():
    """As torchvision's RandomCrop(size, padding=size/8, padding_mode="reflect"): a whole-pixel window."""
    x = images(size=16)
    out = A.weak_augment(x, torch.Generator().manual_seed(1))
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), mode="reflect")
    for i in range(len(x)):
        windows = [padded[i, :, dy:dy + 16, dx:dx + 16] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)
    assert not torch.equal(out, x)


def test_flip_mirrors_about_half_of_the_images():
    x = images(200, 8)
    out = A.random_flip(x, torch.Generator().manual_seed(0))
    mirrored = [torch.equal(out[i], x[i].flip(2)) for i in range(len(x))]
    assert all(m or torch.equal(out[i], x[i]) for i, m in enumerate(mirrored))
    assert 70 < sum(mirrored) < 130


def test_strong_view_keeps_shape_and_range_and_differs():
    x = images()
    out = A.strong_augment(x, torch.Generator().manual_seed(2), flip=True)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1 and not torch.equal(out, x)


@pytest.mark.parametrize("op", A.OPS)
def test_each_operation_is_drawn_and_stays_in_range(op, monkeypatch):
    """Force every image onto one operation: identity/color change nothing (grayscale), the others do."""
    x = images(8, 16)
    index = A.OPS.index(op)
    real = torch.randint

    def fixed(low, high, size, **kw):
        return torch.full(size, index, dtype=torch.long, device=kw.get("device")) if high == len(A.OPS) else \
            real(low, high, size, **kw)

    monkeypatch.setattr(torch, "randint", fixed)
    out = A.rand_op(x, torch.Generator().manual_seed(3))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, x) == (op in ("identity", "color"))


def test_equalize_and_autocontrast_match_pil():
    x = images(3, 28) * 0.5 + 0.2                           # a narrow range, so both have work to do
    q = (x * 255).round() / 255
    for ours, pil in ((A.equalize, ImageOps.equalize), (A.autocontrast, ImageOps.autocontrast)):
        got = ours(q)
        for i in range(len(q)):
            img = Image.fromarray((q[i, 0].numpy() * 255).round().astype(np.uint8))
            want = np.asarray(pil(img), dtype=np.float32) / 255
            assert np.abs(got[i, 0].numpy() - want).max() < 1e-6


def test_cutout_paints_one_grey_square():
    x = torch.zeros(50, 1, 20, 20)
    out = A.cutout(x, torch.Generator().manual_seed(4))
    grey = out == 0.5
    assert ((out == 0) | grey).all()
    for i in range(len(x)):
        rows, cols = torch.nonzero(grey[i, 0], as_tuple=True)
        if len(rows):                                        # a rectangle, at most half the side
            assert len(rows) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
            assert rows.max() - rows.min() + 1 <= 11 and cols.max() - cols.min() + 1 <= 11


def test_fit_supervised_augments_training_batches_only_weak_or_strong():
    from selfsup.supervised import AugmentedClassification
    x = torch.rand(6, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    y = torch.arange(6)
    for strong, view in ((False, A.weak_augment), (True, A.strong_augment)):
        task = AugmentedClassification(flip=True, strong=strong)
        got, labels = task.batch(x, y, torch.Generator().manual_seed(5))
        assert torch.equal(got, view(x, torch.Generator().manual_seed(5), True)) and torch.equal(labels, y)
        with torch.no_grad():                                   # validation batches: the images as they are
            assert torch.equal(task.batch(x, y, torch.Generator().manual_seed(5))[0], x)
    with pytest.raises(ValueError, match="`augment` must be one of"):
        ss.fit_supervised(x[:, 0].numpy(), y.numpy(), augment="heavy", epochs=1, verbose=False)
