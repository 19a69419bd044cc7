"""Demonstration data for the pretext tasks beyond grayscale images, and a word tokeniser.

- `moving_digits()`: video (n, t, h, w) of digits / Fashion-MNIST items drifting and bouncing.
- `austen_text()`: Jane Austen's six novels as paragraphs, from Debian's r-cran-janeaustenr.
- `tokenize()`, `build_vocab()`, `encode_text()`: words -> ids for `masked_token`.
- `audio_signals()`: 1-D "audio-like" signals (n, samples): harmonic tones under an envelope.
- `photo_crops()`: RGB crops (n, h, w, 3) of the two colour photos scikit-learn ships.

Nothing is downloaded. Generators draw from `numpy.random.default_rng(seed)`: same seed, same data.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter

import numpy as np

from . import _validate as v
from .data import load_dataset

SOURCES = ("digits", "fashion_mnist")
AUSTEN_BOOKS = ("sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey",
                "persuasion")
SPECIALS = ("[PAD]", "[UNK]", "[MASK]")  # ids 0, 1, 2
PAD, UNK, MASK = 0, 1, 2


# --------------------------------------------------------------------------------------- video
def moving_digits(n: int = 1000, *, frames: int = 10, size: int = 32, source: str = "digits",
                  objects: int = 1, speed: float = 2.0, seed: int | None = None) -> np.ndarray:
    """Sequences of images moving in straight lines and bouncing off the borders (Moving MNIST-like).

    Parameters
    ----------
    n : int
        Number of sequences.
    frames : int, default=10
        Frames per sequence (t).
    size : int, default=32
        Height and width of the square canvas.
    source : {"digits", "fashion_mnist"}, default="digits"
        Where the objects come from: scikit-learn's 8x8 digits, drawn at 16x16 (each pixel
        doubled), or 28x28 Fashion-MNIST training images.
    objects : int, default=1
        Objects per sequence; overlapping objects combine by their brighter pixel.
    speed : float, default=2.0
        Pixels per frame.
    seed : int, optional

    Returns
    -------
    uint8 array of shape (n, frames, size, size).
    """
    n, frames, size = v.check_int(n, "n"), v.check_int(frames, "frames"), v.check_int(size, "size")
    objects = v.check_int(objects, "objects")
    speed = v.check_number(speed, "speed", 0.0)
    v.check_choice(source, "source", SOURCES)
    rng = np.random.default_rng(v.check_seed(seed))
    pool = load_dataset(source)["train"]["x"]
    if source == "digits":
        pool = np.kron(pool, np.ones((2, 2), dtype=np.uint8))  # 8x8 -> 16x16
    side = pool.shape[1]
    if size < side:
        raise ValueError(f"`size` must be at least {side} (the size of a {source} image); got {size}.")
    video = np.zeros((n, frames, size, size), dtype=np.uint8)
    room = size - side  # top-left corners range over 0..room
    for i in range(n):
        for img in pool[rng.integers(len(pool), size=objects)]:
            pos = rng.uniform(0, room, size=2)
            angle = rng.uniform(0, 2 * np.pi)
            vel = speed * np.array([np.sin(angle), np.cos(angle)])
            for f in range(frames):
                r, c = np.rint(pos).astype(int)
                view = video[i, f, r:r + side, c:c + side]
                np.maximum(view, img, out=view)
                pos += vel
                for d in range(2):  # bounce: reflect the position and reverse the velocity
                    if pos[d] < 0 or pos[d] > room:
                        pos[d] = -pos[d] if pos[d] < 0 else 2 * room - pos[d]
                        vel[d] = -vel[d]
                pos = np.clip(pos, 0, room)  # a step longer than the room left would reflect out again
    return video


# ---------------------------------------------------------------------------------------- text
def austen_text(books=None, *, min_words: int = 1) -> list[str]:
    """Jane Austen's novels as a list of paragraphs (title pages and chapter headings dropped).

    The text comes from Debian's `r-cran-janeaustenr` (``apt-get install r-cran-janeaustenr``).
    The package stores its data in R's lazy-load database (serialised R objects), so it is read
    by R itself through one ``Rscript`` call rather than by re-implementing R's file format.

    Parameters
    ----------
    books : list of str, optional
        Some of "sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey",
        "persuasion" (the janeaustenr object names); default all six, in publication order.
    min_words : int, default=1
        Drop paragraphs with fewer words.
    """
    books = list(AUSTEN_BOOKS) if books is None else [books] if isinstance(books, str) else list(books)
    for book in books:
        v.check_choice(book, "books", AUSTEN_BOOKS)
    min_words = v.check_int(min_words, "min_words")
    rscript = _rscript()
    if rscript is None:
        raise FileNotFoundError("austen_text() reads Debian's r-cran-janeaustenr through R, but `Rscript` is "
                                "not on the PATH; install R (apt-get install r-base-core r-cran-janeaustenr).")
    # one line per text line; a line "\x1e" (record separator) marks a book boundary
    code = ("books <- commandArgs(TRUE); for (b in books) { "
            "writeLines(c(getExportedValue('janeaustenr', b), '\\036'), useBytes = TRUE) }")
    run = subprocess.run([rscript, "--vanilla", "-e", code, *books], capture_output=True)
    if run.returncode != 0:
        msg = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise FileNotFoundError(f"could not read Jane Austen's novels from R ({msg[0]}); install them with "
                                "apt-get install r-cran-janeaustenr.")
    paragraphs = []
    for book in run.stdout.decode("utf-8", "replace").split("\x1e")[:-1]:
        paragraphs += _paragraphs(book, min_words)
    return paragraphs


def _rscript() -> str | None:
    """R's own Rscript when running inside R (R_HOME is set there; R CMD check puts a stand-in
    `Rscript` first on the PATH), else the one on the PATH."""
    home = os.environ.get("R_HOME", "")
    own = os.path.join(home, "bin", "Rscript")
    return own if home and os.access(own, os.X_OK) else shutil.which("Rscript")


_HEADING = re.compile(r"^(chapter|volume)\s+([0-9]+|[ivxlc]+)\.?$", re.IGNORECASE)


def _paragraphs(book: str, min_words: int) -> list[str]:
    """A novel's lines -> its paragraphs (blank lines separate them), from the first chapter on,
    without the chapter and volume headings."""
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", book)]
    first = next((i for i, b in enumerate(blocks) if _HEADING.match(b)), 0)   # skip title pages
    return [b for b in blocks[first:]
            if b and not _HEADING.match(b) and b != b.upper() and len(tokenize(b)) >= min_words]


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")  # letters, with inner apostrophes ("don't")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (letters, inner apostrophes kept); digits, punctuation and "_" are dropped."""
    return _WORD.findall(text.lower())


def build_vocab(texts, *, max_size: int = 5000, min_count: int = 2) -> list[str]:
    """The vocabulary: "[PAD]", "[UNK]", "[MASK]", then the most frequent words (ties: first seen).

    At most `max_size` entries in all; words seen fewer than `min_count` times become "[UNK]".
    """
    max_size = v.check_int(max_size, "max_size", minimum=len(SPECIALS) + 1)
    min_count = v.check_int(min_count, "min_count")
    counts = Counter(word for text in texts for word in tokenize(text))
    words = [w for w, c in counts.most_common(max_size - len(SPECIALS)) if c >= min_count]
    return [*SPECIALS, *words]


def encode_text(texts, vocab, *, seq_len: int = 32) -> np.ndarray:
    """Token ids (n_chunks, seq_len), int64: each text's words, cut into chunks of `seq_len`, padded
    with 0 ("[PAD]"); unknown words map to 1 ("[UNK]"). Texts without words give no rows."""
    seq_len = v.check_int(seq_len, "seq_len", minimum=2)
    index = {w: i for i, w in enumerate(vocab)}
    rows = []
    for text in texts:
        ids = [index.get(w, UNK) for w in tokenize(text)]
        for start in range(0, len(ids), seq_len):
            chunk = ids[start:start + seq_len]
            rows.append(chunk + [PAD] * (seq_len - len(chunk)))
    return np.array(rows, dtype=np.int64).reshape(-1, seq_len)


# --------------------------------------------------------------------------------------- audio
def audio_signals(n: int = 1000, *, samples: int = 256, noise: float = 0.05,
                  seed: int | None = None) -> np.ndarray:
    """Audio-like signals: a tone (fundamental + 2 overtones, random pitch and timbre) under an
    attack-decay envelope, plus white noise. Peak amplitude about 1.

    Returns float32 (n, samples).
    """
    n, samples = v.check_int(n, "n"), v.check_int(samples, "samples", minimum=8)
    noise = v.check_number(noise, "noise", 0.0)
    rng = np.random.default_rng(v.check_seed(seed))
    t = np.arange(samples) / samples                              # time, 0..1
    f0 = rng.uniform(3, 24, size=(n, 1, 1))                       # cycles per signal
    harmonics = np.arange(1, 4).reshape(1, 3, 1)                  # 1st, 2nd, 3rd partial
    amp = rng.dirichlet(np.ones(3), size=n)[:, :, None]           # timbre: partial weights sum to 1
    phase = rng.uniform(0, 2 * np.pi, size=(n, 3, 1))
    tone = (amp * np.sin(2 * np.pi * f0 * harmonics * t + phase)).sum(1)
    onset = rng.uniform(0, 0.3, size=(n, 1))
    decay = rng.uniform(2, 8, size=(n, 1))                        # per signal length
    envelope = np.where(t < onset, 0.0, np.exp(-decay * np.clip(t - onset, 0, None)))
    attack = np.clip((t - onset) / 0.02, 0, 1)                    # 2% of the signal to rise
    out = tone * envelope * attack + noise * rng.standard_normal((n, samples))
    return out.astype(np.float32)


# ---------------------------------------------------------------------------------- RGB photos
def photo_crops(n: int = 1000, *, size: int = 32, scale: float = 0.25,
                seed: int | None = None) -> np.ndarray:
    """Random square RGB crops of scikit-learn's two sample photos (a temple in China, a flower).

    Parameters
    ----------
    n : int
    size : int, default=32
        Crop height and width.
    scale : float, default=0.25
        The photos (427x640) are first shrunk by this factor, so a small crop shows a shape
        rather than a patch of flat colour.
    seed : int, optional

    Returns
    -------
    uint8 array (n, size, size, 3); half the crops (at random) are flipped left-right.
    """
    from PIL import Image
    from sklearn.datasets import load_sample_images

    n, size = v.check_int(n, "n"), v.check_int(size, "size")
    scale = v.check_number(scale, "scale", 0.0, 1.0, low_inclusive=False)
    rng = np.random.default_rng(v.check_seed(seed))
    photos = []
    for img in load_sample_images().images:
        h, w = max(1, round(img.shape[0] * scale)), max(1, round(img.shape[1] * scale))
        photos.append(np.asarray(Image.fromarray(img).resize((w, h), Image.LANCZOS)))
    smallest = min(min(p.shape[:2]) for p in photos)
    if size > smallest:
        raise ValueError(f"`size` {size} is larger than the shrunk photos ({smallest} pixels at `scale` "
                         f"{scale}); use a smaller `size` or a larger `scale`.")
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        p = photos[rng.integers(len(photos))]
        r, c = rng.integers(p.shape[0] - size + 1), rng.integers(p.shape[1] - size + 1)
        crop = p[r:r + size, c:c + size]
        out[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
    return out
