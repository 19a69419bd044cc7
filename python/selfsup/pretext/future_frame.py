"""Future-frame prediction (video): predict the next frame from the frames before it.

Sequences come as (n, t, height, width) grayscale video (e.g. `demo_data.moving_digits()`).
A window of `context` consecutive frames (default t - 1) is drawn at a random start per sequence;
the encoder (the seminar CNN) sees those frames stacked as channels and the decoder paints the
frame that follows, L2 loss (as in Srivastava et al. 2015's unsupervised LSTM, with a CNN).
`check()` stores the data channel-last, (n, height, width, t), so that the training loop's usual
(n, h, w, c) -> (n, c, h, w) move hands `batch()` frames as (B, t, H, W).
The metric `mse_copy` is the error of repeating the last frame seen: the baseline to beat.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import _validate as v
from ..train import as_float
from .base import Pretext, register
from .options import Option


@register
class FutureFrame(Pretext):
    name = "future_frame"
    modality = "video"
    input = "(n, t, height, width) sequences of t >= 2 grayscale frames, at least 4x4; e.g. moving_digits()"
    predicts = "the next frame of a sequence from the `context` frames before it"
    reference = "Srivastava, Mansimov & Salakhutdinov 2015, Unsupervised learning of video representations using LSTMs"
    schema = {"context": Option(None, "int", low=1, none=True)}   # None: all frames but the last

    def check(self, x):
        arr = v.as_numeric_array(x, "x")
        if arr.ndim == 3:
            raise ValueError(f"task \"future_frame\" needs sequences: `x` must have shape (n, t, height, width), "
                             f"t frames per sample; got single images of shape {v.shape_text(arr)}. Stack frames "
                             f"in time, e.g. selfsup.demo_data.moving_digits().")
        if arr.ndim != 4:
            raise ValueError(f"task \"future_frame\" needs sequences: `x` must have shape (n, t, height, width); "
                             f"got shape {v.shape_text(arr)}.")
        if arr.shape[3] <= 3:
            raise ValueError(f"task \"future_frame\" needs grayscale sequences (n, t, height, width); `x` of shape "
                             f"{v.shape_text(arr)} looks like images with {arr.shape[3]} channel(s). Pass video "
                             f"frames, e.g. selfsup.demo_data.moving_digits().")
        arr = v.check_images(arr, "x")
        t = arr.shape[1]
        if t < 2:
            raise ValueError(f"task \"future_frame\" needs at least 2 frames per sequence; `x` has t = {t}.")
        context = self.context(t)
        if context > t - 1:
            raise ValueError(f"`context` is {context} but sequences have {t} frames; it can be at most {t - 1}.")
        v.check_image_size(arr[:, 0], 4, 4, "task \"future_frame\" (the CNN halves frames twice)")
        return np.ascontiguousarray(arr.transpose(0, 2, 3, 1))     # (n, h, w, t): time as channels

    def context(self, t: int) -> int:
        c = self.options["context"]
        return t - 1 if c is None else c

    def spec(self, x, encoder):
        h, w, t = x.shape[1:]
        return {"encoder": {"name": encoder, "input_shape": [h, w, self.context(t)]},
                "head": {"name": "conv_decoder", "output_shape": [h, w, 1], "sigmoid": bool(x.dtype == np.uint8)}}

    def batch(self, x, y, gen):
        x = as_float(x)                                           # (B, t, H, W)
        b, t = x.shape[:2]
        k = self.context(t)
        start = torch.randint(0, t - k, (b,), generator=gen, device=x.device)
        steps = start[:, None] + torch.arange(k + 1, device=x.device)          # (B, k + 1)
        frames = x[torch.arange(b, device=x.device)[:, None], steps]           # (B, k + 1, H, W)
        # targets: the next frame, then the last frame seen (for the baseline metric)
        return frames[:, :k], frames[:, [k, k - 1]]

    def loss(self, outputs, targets):
        return F.mse_loss(outputs.float(), targets[:, :1])

    def metrics(self, outputs, targets):
        return {"mse_copy": F.mse_loss(targets[:, 1:], targets[:, :1])}

    def embed(self, encoder, x):
        """Features of the last `context` frames of each sequence."""
        x = as_float(x)
        return encoder(x[:, x.shape[1] - self.context(x.shape[1]):]).flatten(1)

    def show(self, x, gen, net=None):
        """The context frames as pieces (n, k, 1, H, W), the true next frame, and the predicted one."""
        inputs, targets = self.batch(x, None, gen)
        shown = {"inputs": inputs.unsqueeze(2), "targets": targets[:, :1]}
        if net is not None:
            shown["outputs"] = net(inputs).float()
        return shown
