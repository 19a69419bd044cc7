"""selfsup: the five types of learning of a self-supervised-learning seminar, on one PyTorch core.

The public API is flat: ``import selfsup as ss; ss.fit_supervised(x, y)``.
"""
from .cli import torchrun_command
from .cpu import set_threads
from .data import load_dataset, sample_indices
from .demo_data import audio_signals, austen_text, build_vocab, encode_text, moving_digits, photo_crops, tokenize
from .device import DeviceInfo, resolve_device, selfsup_device
from .model import (Model, build_model, clone_model, freeze_weights, get_weights, load_model,
                    save_model, set_weights, unfreeze_weights)
from .reinforcement import (DQNAgent, Episode, Evaluation, TabularAgent, rl_dqn, rl_env, rl_evaluate,
                            rl_monte_carlo, rl_play, rl_policy_iteration, rl_q_learning, rl_value_iteration)
from .replicates import fit_replicates
from .self_supervised import (plot_ssl_show, ssl_embed, ssl_evaluate, ssl_finetune, ssl_pretrain, ssl_show,
                              ssl_tasks)
from .semi_supervised import LabelSpreadingResult, fit_fixmatch, fit_pseudo_label, label_spreading
from .supervised import evaluate, fit_supervised, predict
from .unsupervised import (KMeansResult, PCAResult, encode, fit_autoencoder, k_means, pca, pca_inverse,
                           pca_transform, reconstruct)

__version__ = "0.1.0"

__all__ = [
    # data
    "load_dataset", "sample_indices", "moving_digits", "austen_text", "audio_signals", "photo_crops",
    "tokenize", "build_vocab", "encode_text",
    # models and weights
    "Model", "build_model", "clone_model", "get_weights", "set_weights", "freeze_weights",
    "unfreeze_weights", "save_model", "load_model", "resolve_device", "selfsup_device", "DeviceInfo",
    "set_threads",
    # supervised
    "fit_supervised", "fit_replicates", "evaluate", "predict",
    # more than one GPU or machine
    "torchrun_command",
    # unsupervised
    "k_means", "pca", "pca_transform", "pca_inverse", "fit_autoencoder", "encode", "reconstruct",
    "KMeansResult", "PCAResult",
    # semi-supervised
    "fit_pseudo_label", "label_spreading", "fit_fixmatch", "LabelSpreadingResult",
    # reinforcement
    "rl_env", "rl_value_iteration", "rl_policy_iteration", "rl_monte_carlo", "rl_q_learning", "rl_dqn",
    "rl_evaluate", "rl_play", "TabularAgent", "DQNAgent", "Evaluation", "Episode",
    # self-supervised
    "ssl_tasks", "ssl_pretrain", "ssl_finetune", "ssl_embed", "ssl_evaluate", "ssl_show", "plot_ssl_show",
]
