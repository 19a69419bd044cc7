"""R and Python give the same reinforcement-learning answers: each R wrapper, called through rpy2
in this process, against the direct Python call with the same seed. Exact equality throughout."""
import numpy as np
import pytest

pytest.importorskip("gymnasium", reason="gymnasium is a dependency of the RL functions (pip install gymnasium)")

from selfsup.reinforcement import (rl_dqn, rl_env, rl_evaluate, rl_monte_carlo, rl_play,  # noqa: E402
                                   rl_policy_iteration, rl_q_learning, rl_value_iteration)

SEED = 13


def assert_same_tables(r, name, py):
    """The R agent `name` holds exactly the Python agent's tables, names and curve."""
    np.testing.assert_array_equal(r.get(f"unname({name}$q)"), py.q)
    np.testing.assert_array_equal(r.get(f"unname({name}$values)"), py.values)
    np.testing.assert_array_equal(r.get(f"as.integer({name}$policy) - 1L"), py.policy)
    assert list(r(f"rownames({name}$q)")) == py.state_names
    assert list(r(f"colnames({name}$q)")) == py.action_names
    assert list(r(f"levels({name}$policy)")) == py.action_names
    for col, values in py.history.items():
        np.testing.assert_array_equal(r.get(f"{name}$history${col}"), values, err_msg=col)
    if py.visits is not None:
        np.testing.assert_array_equal(r.get(f"unname({name}$visits)"), py.visits)


@pytest.mark.parametrize("r_fun, py_fun", [("rl_value_iteration", rl_value_iteration),
                                            ("rl_policy_iteration", rl_policy_iteration)])
@pytest.mark.parametrize("env", ["FrozenLake-v1", "Taxi-v4"])
def test_exact_solutions_identical(r, r_fun, py_fun, env):
    r(f"a <- {r_fun}('{env}', gamma = 0.95)")
    assert_same_tables(r, "a", py_fun(env, gamma=0.95))


def test_user_given_mdp_identical(r):
    rng = np.random.default_rng(0)
    P = rng.random((5, 3, 5))
    P /= P.sum(axis=2, keepdims=True)
    R = rng.normal(size=(5, 3))
    r.assign("P", P)
    r.assign("R", R)
    r("u <- rl_value_iteration(transitions = P, rewards = R, gamma = 0.8)")
    assert_same_tables(r, "u", rl_value_iteration(transitions=P, rewards=R, gamma=0.8))


def test_monte_carlo_identical_on_blackjack(r):
    r(f"mc <- rl_monte_carlo('Blackjack-v1', episodes = 500, epsilon = 0.2, seed = {SEED})")
    assert_same_tables(r, "mc", rl_monte_carlo("Blackjack-v1", episodes=500, epsilon=0.2, seed=SEED))


def test_monte_carlo_every_visit_constant_alpha_identical(r):
    r(f"mc2 <- rl_monte_carlo('FrozenLake-v1', episodes = 200, gamma = 0.99, first_visit = FALSE, alpha = 0.05, "
      f"epsilon = 1, epsilon_end = 0.1, seed = {SEED})")
    assert_same_tables(r, "mc2", rl_monte_carlo("FrozenLake-v1", episodes=200, gamma=0.99, first_visit=False,
                                                 alpha=0.05, epsilon=1.0, epsilon_end=0.1, seed=SEED))


def test_q_learning_identical(r):
    r(f"ql <- rl_q_learning('FrozenLake-v1', episodes = 300, alpha = 0.2, epsilon = 0.5, seed = {SEED})")
    assert_same_tables(r, "ql", rl_q_learning("FrozenLake-v1", episodes=300, alpha=0.2, epsilon=0.5, seed=SEED))


def test_q_learning_with_env_options_identical(r):
    r(f"ql2 <- rl_q_learning(rl_env('FrozenLake-v1', is_slippery = FALSE), episodes = 100, seed = {SEED})")
    assert_same_tables(r, "ql2", rl_q_learning(rl_env("FrozenLake-v1", is_slippery=False), episodes=100, seed=SEED))


def test_evaluate_and_play_identical(r):
    r("vi <- rl_value_iteration('FrozenLake-v1')")
    vi = rl_value_iteration("FrozenLake-v1")
    ev = rl_evaluate(vi, episodes=100, seed=SEED)
    r(f"ev <- rl_evaluate(vi, episodes = 100, seed = {SEED})")
    np.testing.assert_array_equal(r.get("ev$returns"), ev.returns)
    np.testing.assert_array_equal(r.get("ev$lengths"), ev.lengths)
    assert r.get("ev$success_rate")[0] == ev.success_rate
    ep = rl_play(vi, seed=SEED)
    r(f"ep <- rl_play(vi, seed = {SEED})")
    assert list(r("ep$frames")) == ep.frames
    np.testing.assert_array_equal(r.get("ep$actions - 1L"), ep.actions)


def test_dqn_identical_on_cpu(r):
    kw = dict(steps=200, learning_starts=50, train_every=50, gradient_steps=3, hidden=[16], seed=SEED, device="cpu",
              verbose=False)
    r(f"dq <- rl_dqn('CartPole-v1', steps = 200, learning_starts = 50, train_every = 50, gradient_steps = 3, "
      f"hidden = 16, seed = {SEED}, device = 'cpu', verbose = FALSE)")
    py = rl_dqn("CartPole-v1", **kw)
    np.testing.assert_array_equal(r.get("dq$history$return"), py.history["return"])
    np.testing.assert_array_equal(r.get("get_weights(dq$model)[['output.weight']]"),
                                  py.model.net.head.output.weight.detach().numpy())


R_BAD_INPUT = [
    ("rl_value_iteration('NoSuchEnv-v0')", "`env` 'NoSuchEnv-v0' is not a registered gymnasium environment id"),
    ("rl_q_learning('MountainCarContinuous-v0')", "has a continuous or structured action space"),
    ("rl_value_iteration('FrozenLake-v1', gamma = 1.5)", "`gamma` must be in (0.0, 1.0]; got 1.5"),
    ("rl_monte_carlo(episodes = 0)", "`episodes` must be at least 1; got 0"),
]


@pytest.mark.parametrize("code, message", R_BAD_INPUT)
def test_bad_input_is_a_clear_r_error(r, code, message):
    got = r.error(code)
    assert message in got and "Traceback" not in got
