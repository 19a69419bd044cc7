"""Masked-token prediction on text, BERT-style (Devlin et al. 2019): predict hidden words.

`x` is text: a list of strings (an R character vector), or one string. It is tokenised into
lower-case words (`demo_data.tokenize`), a vocabulary is built from it (the `max_vocab` most
frequent words seen at least `min_count` times, plus [PAD], [UNK], [MASK]) unless `vocab` is
given, and each text is cut into rows of `seq_len` token ids. Per batch, `mask_rate` of the real
words are picked; of those 80% become [MASK], 10% a random word, 10% stay (BERT's recipe), and
the network predicts the original word at every picked position (cross-entropy). Metrics:
`accuracy`, the masked-word top-1 accuracy, and `accuracy_most_frequent`, what always guessing the
vocabulary's first word (the most frequent one, when built from `x`) scores.

The encoder is a small transformer (`nets.encoders.transformer_encoder`; `encoder="cnn"`, the
default of ssl_pretrain, means it here: a CNN for images does not read words). The vocabulary is
kept in the task's options, so a saved model tokenises new text the same way.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import _validate as v
from ..demo_data import MASK, PAD, SPECIALS, build_vocab, encode_text
from .base import Pretext, register
from .options import Option

IGNORE = -100   # target of positions that are not predicted


def text_data(x, task: str = "masked_token") -> list[str]:
    """`x` as a list of strings; anything else is an error saying the task needs text."""
    if isinstance(x, str):
        return [x]
    if isinstance(x, np.ndarray) and x.dtype.kind in "US":
        return [str(s) for s in x.ravel()]
    if isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.dtype == object):
        items = list(x.ravel()) if isinstance(x, np.ndarray) else list(x)
        bad = next((i for i, s in enumerate(items) if not isinstance(s, str)), None)
        if bad is None and items:
            return items
        got = "an empty list" if not items else f"element {bad} of type {type(items[bad]).__name__}"
    elif isinstance(x, np.ndarray):
        got = f"a numeric array of shape {v.shape_text(x)}"
    else:
        got = type(x).__name__
    raise TypeError(f"task \"{task}\" needs text: `x` must be a list of strings (in R a character vector) or "
                    f"one string; got {got}. Image arrays go to image tasks such as \"rotation\".")


@register
class MaskedToken(Pretext):
    name = "masked_token"
    modality = "text"
    input = "a list of strings (R: character vector), or one string; e.g. austen_text()"
    predicts = "masked words from the words around them (BERT-style masking)"
    reference = "Devlin, Chang, Lee & Toutanova 2019, BERT: pre-training of deep bidirectional transformers"
    schema = {"seq_len": Option(32, "int", low=2),
              "mask_rate": Option(0.15, "number", low=0.0, high=1.0, low_inclusive=False),
              "max_vocab": Option(5000, "int", low=len(SPECIALS) + 1),
              "min_count": Option(2, "int", low=1),
              "vocab": Option(None, "words", none=True),       # None: built from `x`
              "dim": Option(64, "int", low=1), "depth": Option(2, "int", low=1), "heads": Option(4, "int", low=1)}
    encoders = {"cnn": "transformer", "transformer": "transformer"}   # a CNN for images does not read words

    def __init__(self, **options):
        super().__init__(**options)
        o = self.options
        if o["dim"] % o["heads"]:
            raise ValueError(f"`dim` ({o['dim']}) must be a multiple of `heads` ({o['heads']}).")
        vocab = o["vocab"]
        if vocab is not None and (vocab[:len(SPECIALS)] != list(SPECIALS) or len(vocab) <= len(SPECIALS)):
            raise ValueError(f"`vocab` must start with {', '.join(SPECIALS)} and hold at least one word.")

    def check(self, x):
        texts = text_data(x, self.name)
        if self.options["vocab"] is None:
            self.options["vocab"] = build_vocab(texts, max_size=self.options["max_vocab"],
                                                min_count=self.options["min_count"])
            if len(self.options["vocab"]) == len(SPECIALS):
                raise ValueError(f"`x` has no word seen at least `min_count` = {self.options['min_count']} times; "
                                 "give more text or a lower `min_count`.")
        ids = encode_text(texts, self.options["vocab"], seq_len=self.options["seq_len"])
        if not (ids > MASK).any():
            raise ValueError("`x` has no words of the vocabulary to mask and predict.")
        return ids

    def check_like(self, x, data_shape):
        """One row per text for ssl_embed(): its first `seq_len` words (texts are not split)."""
        texts = text_data(x, self.name)
        seq_len = self.options["seq_len"]
        rows = [encode_text([t], self.options["vocab"], seq_len=seq_len)[:1] for t in texts]
        return np.concatenate([r if len(r) else np.zeros((1, seq_len), np.int64) for r in rows])

    def spec(self, x, encoder):
        o = self.options
        return {"encoder": {"name": encoder, "input_shape": [int(x.shape[1])], "vocab_size": len(o["vocab"]),
                            "dim": o["dim"], "depth": o["depth"], "heads": o["heads"]},
                "head": {"name": "linear", "n_outputs": len(o["vocab"])}}

    def batch(self, x, y, gen):
        ids = x.long()                                                   # (B, L)
        words = ids > MASK                                               # real words: not pad/unk/mask
        r = torch.rand(ids.shape, generator=gen, device=ids.device)
        picked = words & (r < self.options["mask_rate"])
        how = torch.rand(ids.shape, generator=gen, device=ids.device)   # 80% [MASK], 10% random, 10% kept
        random_words = torch.randint(MASK + 1, len(self.options["vocab"]), ids.shape, generator=gen,
                                     device=ids.device)
        inputs = torch.where(picked & (how < 0.8), torch.full_like(ids, MASK), ids)
        inputs = torch.where(picked & (how >= 0.8) & (how < 0.9), random_words, inputs)
        return inputs, torch.where(picked, ids, torch.full_like(ids, IGNORE))

    def loss(self, outputs, targets):
        per_token = F.cross_entropy(outputs.float().flatten(0, 1), targets.flatten(), ignore_index=IGNORE,
                                    reduction="none")
        return per_token.sum() / (targets != IGNORE).sum().clamp_min(1)

    def metrics(self, outputs, targets):
        picked = targets != IGNORE
        n = picked.sum().clamp_min(1)
        return {"accuracy": ((outputs.argmax(-1) == targets) & picked).sum() / n,
                "accuracy_most_frequent": (targets == MASK + 1).sum() / n}

    def embed(self, encoder, x):
        """A text's features: the mean of its words' transformer features (padding left out)."""
        feats = encoder(x)                                               # (B, L, dim)
        keep = (x != PAD).unsqueeze(-1).to(feats.dtype)
        return (feats * keep).sum(1) / keep.sum(1).clamp_min(1)

    def show(self, x, gen, net=None):
        inputs, targets = self.batch(x, None, gen)
        shown = {"inputs": inputs, "targets": targets}
        if net is not None:
            shown["outputs"] = torch.where(targets != IGNORE, net(inputs).argmax(-1), torch.full_like(targets, IGNORE))
        return shown

    def display(self, shown):
        """Words instead of ids: "inputs" as text with [MASK]s, "targets"/"outputs" as the hidden /
        predicted words of each row (space-separated, in order)."""
        vocab = np.array(self.options["vocab"], dtype=object)
        inputs = shown["inputs"].cpu().numpy()
        targets = shown["targets"].cpu().numpy()
        out = {"inputs": np.array([" ".join(vocab[row[row != PAD]]) for row in inputs], dtype=object)}
        for key in ("targets", "outputs"):
            if key in shown:
                ids = shown[key].cpu().numpy()
                out[key] = np.array([" ".join(vocab[row[t != IGNORE]]) for row, t in zip(ids, targets)],
                                    dtype=object)
        out["pieces"] = 1
        return out
