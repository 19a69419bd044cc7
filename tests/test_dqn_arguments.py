"""rl_dqn's settings are real keyword arguments: they show in its signature and help(), and a
misspelt one is an error naming the valid ones."""
import inspect
import pydoc
from dataclasses import fields

import pytest

import selfsup as ss
from selfsup.reinforcement import DQNSettings


def test_every_setting_is_a_keyword_argument_with_its_default():
    params = inspect.signature(ss.rl_dqn).parameters
    assert list(params) == ["env"] + [f.name for f in fields(DQNSettings)]
    assert all(p.kind is p.KEYWORD_ONLY for name, p in params.items() if name != "env")
    assert params["steps"].default == 100_000 and params["keep_best"].default == 0 and params["seed"].default is None


def test_help_shows_the_settings():
    text = pydoc.render_doc(ss.rl_dqn, renderer=pydoc.plaintext)
    assert "learning_starts: 'int' = 1000" in text and "exploration_fraction" in text
    assert "Environment steps of training." in text


def test_a_misspelt_setting_names_the_valid_ones():
    with pytest.raises(TypeError, match=r"rl_dqn\(\) has no argument `stepz` \(did you mean `steps`\?\); "
                                        r"its arguments are: env, steps, gamma, lr, .*, seed, device, verbose\."):
        ss.rl_dqn("CartPole-v1", stepz=100)


def test_each_misspelt_setting_gets_its_suggestion():
    with pytest.raises(TypeError, match=r"no argument `learning_start`, `gama` \(did you mean `learning_starts`, `gamma`\?\)"):
        ss.rl_dqn("CartPole-v1", learning_start=10, gama=0.9)
