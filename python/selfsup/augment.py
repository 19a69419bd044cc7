"""Image augmentations made on the device, batch by batch, each image with its own random draw.

- `weak_augment`: FixMatch's weak view -- horizontal flip (optional) and a shift of up to 12.5% of
  the size with reflected edges, i.e. torchvision's ``RandomCrop(size, padding=size/8,
  padding_mode="reflect")`` as the reference code (kekmodel/FixMatch-pytorch) makes it.
- `strong_augment`: FixMatch's strong view -- the weak view, then RandAugment (Cubuk et al. 2020) as
  FixMatch uses it: `n_ops` = 2 operations drawn from 14, each at a magnitude drawn uniformly at random
  (no magnitude to tune), then Cutout.

Images are (B, C, H, W) floats in [0, 1]; every random choice comes from the generator `gen`, so the
same seed gives the same views from R and Python. Pixels that a geometric operation brings in from
outside the image are 0 (black), as PIL's transforms fill them.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# RandAugment's pool as in the FixMatch paper (table 12); "color" (saturation) is the identity on
# grayscale images. Ranges, with m ~ U(0, 1) per image and operation:
OPS = ("identity", "autocontrast", "equalize", "rotate", "solarize", "color", "posterize", "contrast",
       "brightness", "sharpness", "shear_x", "shear_y", "translate_x", "translate_y")
MAX_ROTATE = 30.0     # degrees
MAX_SHEAR = 0.3
MAX_TRANSLATE = 0.3   # of the image size
CUTOUT = 0.5          # Cutout's square side: up to half of the image side


def uniform(n: int, lo: float, hi: float, gen, dev) -> torch.Tensor:
    """(n,) draws from U(lo, hi) by the generator `gen` on device `dev` (one per image; SimCLR's too)."""
    return lo + (hi - lo) * torch.rand(n, generator=gen, device=dev)


def _per_image(values: torch.Tensor) -> torch.Tensor:
    return values.view(-1, 1, 1, 1)


def random_flip(x: torch.Tensor, gen) -> torch.Tensor:
    """Each image mirrored left-right with probability 0.5."""
    mirror = _per_image(torch.rand(len(x), generator=gen, device=x.device) < 0.5)
    return torch.where(mirror, x.flip(3), x)


def shift(x: torch.Tensor, gen, fraction: float = 0.125) -> torch.Tensor:
    """Each image shifted by whole pixels, up to `fraction` of its size each way, edges reflected."""
    b, c, h, w = x.shape
    pad = int(fraction * min(h, w))
    if pad == 0:
        return x
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect").permute(0, 2, 3, 1)   # (B, H+2p, W+2p, C)
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen, device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen, device=x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)                          # (B, H)
    cols = dx[:, None] + torch.arange(w, device=x.device)                          # (B, W)
    out = padded[torch.arange(b, device=x.device)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2)                                                 # (B, C, H, W)


def weak_augment(x: torch.Tensor, gen, flip: bool = False) -> torch.Tensor:
    """FixMatch's weak augmentation: a random left-right flip (when `flip`), then a shift by up to 12.5%."""
    return shift(random_flip(x, gen) if flip else x, gen)


def strong_augment(x: torch.Tensor, gen, flip: bool = False, n_ops: int = 2) -> torch.Tensor:
    """FixMatch's strong augmentation: the weak view, `n_ops` RandAugment operations, then Cutout."""
    x = weak_augment(x, gen, flip)
    for _ in range(n_ops):
        x = rand_op(x, gen)
    return cutout(x, gen)


def rand_op(x: torch.Tensor, gen) -> torch.Tensor:
    """One RandAugment operation per image, drawn uniformly from OPS, at a random magnitude.

    All operations are computed for the whole batch and each image keeps its own: a few cheap
    elementwise passes, and one resampling for the geometric ones, instead of a loop over images.
    """
    b, dev = len(x), x.device
    op = torch.randint(0, len(OPS), (b,), generator=gen, device=dev)
    m = torch.rand(b, generator=gen, device=dev)
    sign = torch.where(torch.rand(b, generator=gen, device=dev) < 0.5, -1.0, 1.0)
    factor = _per_image(0.05 + 0.9 * m)               # enhance factors in [0.05, 0.95], as the paper
    out = _geometric(x, op, m * sign)
    pick = {name: _per_image(op == i) for i, name in enumerate(OPS)}
    out = torch.where(pick["autocontrast"], autocontrast(x), out)
    out = torch.where(pick["equalize"], equalize(x), out)
    out = torch.where(pick["solarize"], torch.where(x >= 1 - _per_image(m), 1 - x, x), out)
    out = torch.where(pick["color"], _blend(x.mean(1, keepdim=True).expand_as(x), x, factor), out)
    bits = _per_image(8 - torch.floor(4 * m))         # posterize: keep 4..8 bits
    step = 2 ** (8 - bits)                             # keep the top bits of each 8-bit value
    out = torch.where(pick["posterize"], torch.floor((x * 255).round() / step) * step / 255, out)
    out = torch.where(pick["contrast"], _blend(x.mean((1, 2, 3), keepdim=True).expand_as(x), x, factor), out)
    out = torch.where(pick["brightness"], _blend(torch.zeros_like(x), x, factor), out)
    out = torch.where(pick["sharpness"], _blend(_smooth(x), x, factor), out)
    return out.clamp(0, 1)


def _blend(degenerate, x, factor):
    """PIL's ImageEnhance: degenerate + factor * (x - degenerate)."""
    return degenerate + factor * (x - degenerate)


def _geometric(x, op, signed_m):
    """Rotate, shear or translate the images whose op is one of those; the others pass unchanged."""
    b, dev = len(x), x.device
    theta = torch.eye(2, 3, device=dev).repeat(b, 1, 1)
    angle = torch.where(op == OPS.index("rotate"), signed_m * MAX_ROTATE * math.pi / 180, 0.0)
    cos, sin = angle.cos(), angle.sin()
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = cos, -sin, sin, cos
    theta[:, 0, 1] += torch.where(op == OPS.index("shear_x"), signed_m * MAX_SHEAR, 0.0)
    theta[:, 1, 0] += torch.where(op == OPS.index("shear_y"), signed_m * MAX_SHEAR, 0.0)
    # grid units: the image spans 2, so a shift of t of the size is 2t
    theta[:, 0, 2] = torch.where(op == OPS.index("translate_x"), 2 * signed_m * MAX_TRANSLATE, 0.0)
    theta[:, 1, 2] = torch.where(op == OPS.index("translate_y"), 2 * signed_m * MAX_TRANSLATE, 0.0)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    moved = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    geometric = (op == OPS.index("rotate")) | (op >= OPS.index("shear_x"))
    return torch.where(_per_image(geometric), moved, x)


def autocontrast(x: torch.Tensor) -> torch.Tensor:
    """Each channel of each image stretched to the full range, on 256 levels as PIL.ImageOps.autocontrast:
    level i -> int(i * 255 / (hi - lo) - lo * 255 / (hi - lo)); a channel of one level stays."""
    v = (x * 255).round().double()
    lo, hi = v.amin((2, 3), keepdim=True), v.amax((2, 3), keepdim=True)
    scale = 255 / (hi - lo).clamp_min(1)
    out = torch.floor(v * scale - lo * scale).clamp(0, 255) / 255
    return torch.where(hi > lo, out, v / 255).to(x.dtype)


def equalize(x: torch.Tensor) -> torch.Tensor:
    """Histogram equalisation of each channel of each image on 256 levels, PIL.ImageOps.equalize's rule:
    level i -> (pixels below i + step // 2) // step, step = (pixels not at the top level) // 255; an image
    whose step is 0 (too few pixels, or one level) stays as it is."""
    b, c, h, w = x.shape
    q = (x * 255).round().long().view(b * c, h * w)
    hist = torch.zeros(b * c, 256, device=x.device).scatter_add_(1, q, torch.ones_like(q, dtype=torch.float))
    top = hist.gather(1, q.amax(1, keepdim=True))                          # pixels at the brightest level
    step = torch.div(h * w - top, 255, rounding_mode="floor")              # (b * c, 1)
    below = hist.cumsum(1) - hist                                          # pixels below each level
    lut = torch.div(below + torch.div(step, 2, rounding_mode="floor"), step.clamp_min(1), rounding_mode="floor")
    out = lut.clamp(max=255).gather(1, q) / 255
    return torch.where(step > 0, out, q.float() / 255).view(b, c, h, w)


def _smooth(x: torch.Tensor) -> torch.Tensor:
    """PIL's SMOOTH filter ([[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13), edges kept."""
    c = x.shape[1]
    kernel = torch.ones(3, 3, device=x.device)
    kernel[1, 1] = 5
    kernel = (kernel / 13).expand(c, 1, 3, 3)
    inner = F.conv2d(x, kernel, groups=c)
    return F.pad(inner, (1, 1, 1, 1)) + x * F.pad(torch.zeros_like(inner), (1, 1, 1, 1), value=1.0)


def cutout(x: torch.Tensor, gen, size: float = CUTOUT) -> torch.Tensor:
    """A grey (0.5) square of side U(0, `size`) of the image side, centred anywhere, clipped at the edges."""
    n, _, h, w = x.shape
    dev = x.device
    side = uniform(n, 0, size, gen, dev)
    cy, cx = torch.rand(n, generator=gen, device=dev) * h, torch.rand(n, generator=gen, device=dev) * w
    rows = torch.arange(h, device=dev).view(1, h, 1) + 0.5
    cols = torch.arange(w, device=dev).view(1, 1, w) + 0.5
    half_h, half_w = (side * h / 2).view(n, 1, 1), (side * w / 2).view(n, 1, 1)
    box = ((rows - cy.view(n, 1, 1)).abs() < half_h) & ((cols - cx.view(n, 1, 1)).abs() < half_w)
    return torch.where(box[:, None], torch.full_like(x, 0.5), x)
