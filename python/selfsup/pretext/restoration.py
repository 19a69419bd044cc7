"""Restoration of 1-D signals (audio): reconstruct a masked stretch from the signal around it.

For each signal (n, samples) a stretch of `gap` x samples (1/8 by default) at a random place is
silenced (set to 0); the network predicts the whole signal -- audio inpainting, the 1-D analogue
of a context encoder. The loss is the L2 error on the stretch plus `context_weight` x the L2 error
on the rest: with the stretch alone the network settles on predicting silence (the mean), while
rebuilding the visible signal too makes it learn pitch and phase first (as a context encoder's
overlap term does). The encoder is the seminar CNN in 1-D ("cnn1d"; `encoder="cnn"` means it
here) or an MLP. Metrics: `mse_gap`, the error on the stretch, and `mse_silence`, the error of
leaving it silent: the baseline to beat.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import _validate as v
from ._reconstruct import masked_mse
from .base import Pretext, register
from .options import Option

MIN_SAMPLES = 16


@register
class Restoration(Pretext):
    name = "restoration"
    modality = "audio"
    input = f"(n, samples) 1-D signals, at least {MIN_SAMPLES} samples; e.g. audio_signals()"
    predicts = "a silenced stretch of the signal (`gap` of its length) from the samples around it"
    reference = "Adler, Emiya, Jafari, Elad, Gribonval & Plumbley 2012, Audio inpainting"
    schema = {"gap": Option(0.125, "number", low=0.0, high=0.5, low_inclusive=False),   # share of the signal
              "context_weight": Option(1.0, "number", low=0.0)}
    encoders = {"cnn": "cnn1d", "cnn1d": "cnn1d", "mlp": "mlp"}   # the seminar CNN in 1-D, or an MLP

    def check(self, x):
        arr = v.as_numeric_array(x, "x")
        if arr.ndim != 2:
            what = "images or sequences" if arr.ndim in (3, 4) else "a single signal" if arr.ndim == 1 else "data"
            raise ValueError(f"task \"restoration\" needs 1-D signals: `x` must have shape (n, samples); got "
                             f"{what} of shape {v.shape_text(arr)}." + (" For one signal, pass x[None, :] "
                             "(R: matrix(x, nrow = 1))." if arr.ndim == 1 else ""))
        if arr.shape[1] < MIN_SAMPLES:
            raise ValueError(f"`x` signals have {arr.shape[1]} samples, too few for task \"restoration\": they "
                             f"must have at least {MIN_SAMPLES}.")
        arr = arr.astype(np.float32, copy=False)
        if not np.isfinite(arr).all():
            raise ValueError(f"`x` contains {int((~np.isfinite(arr)).sum())} NA/NaN/Inf value(s); remove or "
                             "impute them first.")
        return np.ascontiguousarray(arr)

    def spec(self, x, encoder):
        samples = int(x.shape[1])
        return {"encoder": {"name": encoder, "input_shape": [samples]},
                "head": {"name": "linear", "n_outputs": samples}}

    def batch(self, x, y, gen):
        x = x.float()                                                  # (B, L)
        b, length = x.shape
        g = max(1, round(self.options["gap"] * length))
        start = torch.randint(0, length - g + 1, (b, 1), generator=gen, device=x.device)
        pos = torch.arange(length, device=x.device)
        m = ((pos >= start) & (pos < start + g)).float()             # (B, L), 1 on the stretch
        return x * (1 - m), torch.stack([x, m], 1)                   # targets: (B, 2, L) signal + mask

    def loss(self, outputs, targets):
        outputs = outputs.unsqueeze(1)                               # (B, 1, L)
        visible = torch.stack([targets[:, 0], 1 - targets[:, 1]], 1)  # the same signal, the other samples
        return masked_mse(outputs, targets) + self.options["context_weight"] * masked_mse(outputs, visible)

    def metrics(self, outputs, targets):
        return {"mse_gap": masked_mse(outputs.unsqueeze(1), targets),
                "mse_silence": masked_mse(torch.zeros_like(targets[:, :1]), targets)}

    def show(self, x, gen, net=None):
        """The damaged signal, the original, and the original with the net's guess in the stretch."""
        inputs, targets = self.batch(x, None, gen)
        signal, m = targets[:, 0], targets[:, 1]
        shown = {"inputs": inputs, "targets": signal}
        if net is not None:
            shown["outputs"] = signal * (1 - m) + net(inputs).float() * m
        return shown
