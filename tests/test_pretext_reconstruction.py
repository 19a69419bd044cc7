"""The reconstruction, text, video and audio pretext tasks through ssl_pretrain (tiny data, 1 epoch):
pseudo-targets made right, determinism, transfer of image encoders, and modality errors."""
import numpy as np
import pytest
import torch

from selfsup import demo_data as dd
from selfsup.device import generator
from selfsup.model import get_weights, load_model, save_model
from selfsup.pretext import TASKS
from selfsup.self_supervised import ssl_embed, ssl_finetune, ssl_pretrain, ssl_show
from selfsup.train import to_device

from conftest import DEVICE

FIT = dict(epochs=1, batch_size=32, seed=1, device=DEVICE, verbose=False)
IMAGE_TASKS = ["inpainting", "masked_autoencoder", "autoencoder", "denoising", "superresolution"]
ALL_TASKS = IMAGE_TASKS + ["colorization", "future_frame", "restoration", "masked_token"]
BASELINE = {"inpainting": "mse_fill", "masked_autoencoder": "mse_fill", "denoising": "mse_noisy",
            "superresolution": "mse_bilinear", "colorization": "mse_gray", "future_frame": "mse_copy",
            "restoration": "mse_silence", "masked_token": "accuracy_most_frequent"}
SENTENCES = ["the cat sat on the mat", "a dog ran in the park", "the bird sang in the tree",
             "my cat sat on a mat", "the dog sat in the park"]


@pytest.fixture(scope="module")
def data(digits):
    x = digits["train"]["x"][:96]
    return {**{t: x for t in IMAGE_TASKS},
            "colorization": dd.photo_crops(64, size=8, seed=1),
            "future_frame": dd.moving_digits(24, frames=4, size=24, seed=1),
            "restoration": dd.audio_signals(64, samples=32, seed=1),
            "masked_token": SENTENCES * 12}


def first(x, n=8):
    return x[:n]


@pytest.mark.parametrize("task", ALL_TASKS)
def test_pretrain_one_epoch_is_deterministic_and_reloads(task, data, tmp_path):
    x = data[task]
    a = ssl_pretrain(x, task, **FIT)
    b = ssl_pretrain(x, task, **FIT)
    row = a.history[0]
    assert a.task == task and np.isfinite(row["loss"])
    if task in BASELINE:
        assert BASELINE[task] in row
    assert a.history == b.history
    wa, wb = get_weights(a), get_weights(b)
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    feats = ssl_embed(a, first(x), device=DEVICE)
    assert feats.ndim == 2 and len(feats) == len(first(x)) and np.isfinite(feats).all()
    again = load_model(save_model(a, tmp_path / "m.safetensors"))
    assert np.array_equal(ssl_embed(again, first(x), device=DEVICE), feats)


@pytest.mark.parametrize("task", ALL_TASKS)
def test_show_gives_inputs_targets_outputs(task, data):
    model = ssl_pretrain(data[task], task, **FIT)
    shown = ssl_show(data[task], model=model, n=3)
    assert {"inputs", "targets", "outputs"} <= set(shown)
    assert len(shown["inputs"]) == len(shown["targets"]) == len(shown["outputs"]) == 3


@pytest.mark.parametrize("task", IMAGE_TASKS + ["colorization"])
def test_image_encoder_transfers_to_grayscale_classifier(task, data, digits):
    x = data[task]
    model = ssl_pretrain(x, task, **FIT)
    gray = digits["train"]["x"][:40]
    y = digits["train"]["y"][:40]
    clf = ssl_finetune(model, gray, y, freeze_epochs=1, finetune_epochs=0, **{k: FIT[k] for k in ("seed", "device",
                                                                                                    "verbose")})
    assert set(clf.spec["transfer"]["copied"]) == {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                                   "dense1.weight", "dense1.bias"}


def batch_of(task_name, x, seed=0, **options):
    task = TASKS[task_name](**options)
    xs = task.check(x)
    return task, xs, task.batch(to_device(xs, torch.device("cpu")), None, generator(seed, torch.device("cpu")))


def test_inpainting_hides_the_centre_and_scores_only_it(digits):
    x = digits["train"]["x"][:4]
    task, _, (inputs, targets) = batch_of("inpainting", x)
    mask = targets[:, -1]
    assert mask.sum(dim=(1, 2)).tolist() == [16.0] * 4 and mask[:, 2:6, 2:6].all()   # 4x4 centre of 8x8
    clean = torch.from_numpy(x).float().unsqueeze(1) / 255
    assert torch.equal(inputs[:, :, 0], clean[:, :, 0])                               # border untouched
    # a perfect centre scores 0 whatever the border
    guess = clean * mask.unsqueeze(1) + 7 * (1 - mask.unsqueeze(1))
    assert float(task.loss(guess, targets)) == 0.0


def test_masked_autoencoder_hides_a_random_75_percent_of_patches(digits):
    x = np.repeat(digits["train"]["x"][:4], 2, axis=1).repeat(2, axis=2)              # 16x16: 4x4 patches of 4
    task, _, (inputs, targets) = batch_of("masked_autoencoder", x)
    mask = targets[:, -1]
    assert mask.sum(dim=(1, 2)).tolist() == [12 * 16.0] * 4                          # 12 of 16 patches
    assert not torch.equal(mask[0], mask[1])                                          # random per image
    _, _, (_, again) = batch_of("masked_autoencoder", x)
    assert torch.equal(again, targets)                                                # same seed, same mask


def test_denoising_and_superresolution_baselines_are_the_damaged_inputs(digits):
    x = digits["train"]["x"][:8]
    for name, options in (("denoising", {"noise": "masking", "level": 0.5}), ("superresolution", {"factor": 2})):
        task, _, (inputs, targets) = batch_of(name, x, **options)
        clean, damaged = task.split(targets)
        assert torch.equal(damaged, inputs) and not torch.equal(inputs, clean)
        assert float(task.metrics(clean, targets)[task.baseline]) == pytest.approx(float(((inputs - clean) ** 2).mean()))


def test_colorization_sees_luminance_and_predicts_chrominance():
    x = dd.photo_crops(4, size=8, seed=2)
    task, _, (gray, uv) = batch_of("colorization", x)
    rgb = torch.from_numpy(x).float().permute(0, 3, 1, 2) / 255
    y = 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]
    assert gray.shape == (4, 1, 8, 8) and uv.shape == (4, 2, 8, 8)
    torch.testing.assert_close(gray[:, 0], y)
    from selfsup.pretext.colorization import to_rgb
    torch.testing.assert_close(to_rgb(torch.cat([gray, uv], 1)), rgb, atol=1e-5, rtol=0)


def test_future_frame_target_is_the_frame_after_the_context():
    video = dd.moving_digits(6, frames=5, size=24, seed=3)
    task, stored, (inputs, targets) = batch_of("future_frame", video, context=2)
    assert stored.shape == (6, 24, 24, 5)                     # time stored as channels
    v = torch.from_numpy(video).float() / 255
    for i in range(6):
        start = next(s for s in range(3) if torch.equal(inputs[i], v[i, s:s + 2]))
        assert torch.equal(targets[i, 0], v[i, start + 2])    # the next frame
        assert torch.equal(targets[i, 1], v[i, start + 1])    # the last seen frame (baseline)


def test_restoration_silences_one_stretch_of_gap_samples():
    x = dd.audio_signals(5, samples=64, seed=4) + 2.0         # no zeros in the signal itself
    task, _, (inputs, targets) = batch_of("restoration", x, gap=0.25)
    m = targets[:, 1]
    assert m.sum(1).tolist() == [16.0] * 5
    assert ((m[:, 1:] - m[:, :-1]).abs().sum(1) <= 2).all()   # one contiguous stretch
    assert torch.equal(inputs == 0, m.bool())


def test_masked_token_masks_only_words_bert_style():
    texts = dd.austen_text(["persuasion"])[:300]
    task, ids, (inputs, targets) = batch_of("masked_token", texts)
    ids = torch.from_numpy(ids)
    picked = targets != -100
    assert (ids[picked] > dd.MASK).all()                      # never pad / unknown
    assert torch.equal(targets[picked], ids[picked])
    assert torch.equal(inputs[~picked], ids[~picked])
    rate = picked.sum() / (ids > dd.MASK).sum()
    assert 0.13 < float(rate) < 0.17
    share_masked = float((inputs[picked] == dd.MASK).float().mean())
    assert 0.75 < share_masked < 0.85
    assert task.options["vocab"][:3] == ["[PAD]", "[UNK]", "[MASK]"]


def test_masked_token_learns_beyond_the_most_frequent_word():
    model = ssl_pretrain(SENTENCES * 16, "masked_token", epochs=10, batch_size=16, lr=3e-3, seed=0, device=DEVICE,
                         verbose=False, seq_len=8, dim=32, depth=1, mask_rate=0.3)
    last = model.history[-1]
    assert last["accuracy"] > last["accuracy_most_frequent"] + 0.1


def test_masked_token_takes_one_string_and_embeds_one_row_per_text():
    model = ssl_pretrain(" ".join(SENTENCES * 10), "masked_token", **FIT)
    assert model.spec["pretext"]["options"]["vocab"][3] == "the"
    feats = ssl_embed(model, ["the cat", "", "an entirely unknown phrase"], device=DEVICE)
    assert feats.shape == (3, 64)


@pytest.mark.parametrize("task, x, message", [
    ("colorization", np.zeros((4, 8, 8), np.uint8), r"needs RGB images.*\(n, height, width, 3\).*grayscale"),
    ("masked_token", np.zeros((4, 8, 8), np.uint8), r"needs text.*list of strings.*character vector"),
    ("masked_token", [1, 2, 3], r"needs text"),
    ("future_frame", np.zeros((4, 8, 8), np.uint8), r"needs sequences.*\(n, t, height, width\).*single images"),
    ("future_frame", np.zeros((4, 8, 8, 3), np.uint8), r"looks like images with 3 channel"),
    ("restoration", np.zeros((4, 8, 8)), r"needs 1-D signals.*\(n, samples\)"),
    ("restoration", np.zeros((4, 8)), r"at least 16"),
    ("masked_autoencoder", np.zeros((4, 6, 6), np.uint8), r"at least 8x8"),
    ("superresolution", np.zeros((4, 5, 5), np.uint8), r"at least 6x6"),
    ("inpainting", ["a", "b"], r"`x` must be a numeric array"),
])
def test_wrong_modality_says_what_the_task_needs(task, x, message):
    options = {"factor": 3} if task == "superresolution" else {}
    with pytest.raises((ValueError, TypeError), match=message):
        ssl_pretrain(x, task, **FIT, **options)


def test_bad_options_and_encoders_are_named(digits):
    x = digits["train"]["x"][:8]
    with pytest.raises(TypeError, match=r"no option 'size'.*region"):
        ssl_pretrain(x, "inpainting", size=3, **FIT)
    with pytest.raises(ValueError, match=r"`noise` must be one of"):
        ssl_pretrain(x, "denoising", noise="pink", **FIT)
    with pytest.raises(ValueError, match=r'`encoder` must be one of "cnn", "mlp", "convnet" for task "autoencoder"; got'):
        ssl_pretrain(x, "autoencoder", encoder="transformer", **FIT)
    with pytest.raises(ValueError, match=r'`encoder` must be one of "cnn", "transformer" for task "masked_token" '
                                         r'\("cnn" means "transformer" here\); got \'mlp\''):
        ssl_pretrain(SENTENCES, "masked_token", encoder="mlp", **FIT)
    with pytest.raises(ValueError, match=r"`context` is 5 but sequences have 4 frames"):
        ssl_pretrain(dd.moving_digits(4, frames=4, size=24, seed=0), "future_frame", context=5, **FIT)


def test_mlp_encoder_works_for_images_and_signals(digits):
    assert ssl_pretrain(digits["train"]["x"][:32], "autoencoder", encoder="mlp", **FIT).spec["encoder"]["name"] == "mlp"
    model = ssl_pretrain(dd.audio_signals(16, samples=32, seed=0), "restoration", encoder="mlp", **FIT)
    assert model.spec["encoder"]["name"] == "mlp"


def test_inpainting_with_adversarial_term_trains_a_discriminator_deterministically(digits):
    x = digits["train"]["x"][:64]
    a = ssl_pretrain(x, "inpainting", adversarial=0.1, **FIT)
    b = ssl_pretrain(x, "inpainting", adversarial=0.1, **FIT)
    plain = ssl_pretrain(x, "inpainting", **FIT)
    assert a.history == b.history and "mse_region" in a.history[0]
    assert a.history[0]["loss"] != plain.history[0]["loss"]
    assert not any("disc" in k for k in get_weights(a))            # a training aid, not saved


def test_restoration_loss_weighs_the_stretch_and_the_context():
    x = dd.audio_signals(6, samples=32, seed=5)
    for weight in (0.0, 1.0):
        task, _, (inputs, targets) = batch_of("restoration", x, context_weight=weight)
        guess = torch.zeros(6, 32)
        gap = float(task.metrics(guess, targets)["mse_gap"])
        assert gap == pytest.approx(float(task.metrics(guess, targets)["mse_silence"]))
        whole = float(task.loss(guess, targets))
        rest = float(((targets[:, 0] * (1 - targets[:, 1])) ** 2).sum() / (1 - targets[:, 1]).sum())
        assert whole == pytest.approx(gap + weight * rest, rel=1e-5)


@pytest.mark.parametrize("task", ["autoencoder", "denoising"])
def test_general_tasks_take_feature_rows_with_an_mlp(task, digits):
    rows = digits["train"]["x"][:64].reshape(64, -1).astype(np.float32) / 255
    model = ssl_pretrain(rows, task, noise="masking", **FIT) if task == "denoising" else ssl_pretrain(rows, task, **FIT)
    assert model.spec["encoder"] == {"name": "mlp", "input_shape": [64]}
    assert ssl_embed(model, rows[:3], device=DEVICE).shape == (3, 256)
    with pytest.raises(ValueError, match=r"needs images"):
        ssl_pretrain(rows, "inpainting", **FIT)


def test_inpainting_random_blocks_move_per_image(digits):
    x = digits["train"]["x"][:16]
    _, _, (_, targets) = batch_of("inpainting", x, where="random", region=0.25)
    mask = targets[:, -1]
    assert mask.sum(dim=(1, 2)).tolist() == [4.0] * 16                 # a 2x2 square of the 8x8 image
    assert len({tuple(torch.nonzero(m)[0].tolist()) for m in mask}) > 1
