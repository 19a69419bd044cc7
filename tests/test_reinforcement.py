"""Reinforcement learning on gymnasium environments: exact MDP solutions, Monte Carlo control,
Q-learning, DQN, evaluation and playback. Tiny runs only; the real-size numbers are in
bench/rl_report.py."""
import numpy as np
import pytest

pytest.importorskip("gymnasium", reason="gymnasium is a dependency of the RL functions (pip install gymnasium)")

from selfsup.reinforcement import (DQNAgent, TabularAgent, rl_dqn, rl_env, rl_evaluate,  # noqa: E402
                                   rl_monte_carlo, rl_play, rl_policy_iteration, rl_q_learning,
                                   rl_value_iteration)
import torch  # noqa: E402

from selfsup.rl.dqn import Best  # noqa: E402
from selfsup.rl.envs import StateIndex  # noqa: E402

# A two-state chain: in state 0 "stay" pays 1 and stays, "go" pays 0 and moves to state 1,
# which pays 2 per step forever. With gamma = 0.9: V(1) = 20, Q(0, go) = 18 > Q(0, stay) = 1 + 0.9 * 18.
P = np.array([[[1.0, 0.0], [0.0, 1.0]],
              [[0.0, 1.0], [0.0, 1.0]]])
R = np.array([[1.0, 0.0],
              [2.0, 2.0]])


@pytest.mark.parametrize("solver", [rl_value_iteration, rl_policy_iteration])
def test_solvers_match_the_closed_form_on_a_given_mdp(solver):
    agent = solver(transitions=P, rewards=R, gamma=0.9)
    np.testing.assert_allclose(agent.values, [18.0, 20.0], atol=1e-8)
    np.testing.assert_allclose(agent.q, [[1 + 0.9 * 18, 18.0], [20.0, 20.0]], atol=1e-8)
    assert agent.policy.tolist() == [1, 0]
    assert agent.converged and agent.env_id is None and agent.state_names == ["0", "1"]


@pytest.mark.parametrize("solver", [rl_value_iteration, rl_policy_iteration])
def test_frozenlake_solution_is_the_known_optimum(solver):
    agent = solver("FrozenLake-v1", gamma=0.99)
    assert isinstance(agent, TabularAgent) and agent.q.shape == (16, 4)
    assert agent.action_names == ["Left", "Down", "Right", "Up"]
    assert agent.state_names[:2] == ["0:S", "1:F"] and agent.state_names[15] == "15:G"
    # the textbook optimal policy of 4x4 slippery FrozenLake (gamma 0.99), holes and goal: any action
    assert agent.policy.reshape(4, 4)[[0, 0, 0, 0, 1, 2, 2, 2, 3, 3], [0, 1, 2, 3, 0, 0, 1, 2, 1, 2]].tolist() == \
        [0, 3, 3, 3, 0, 3, 1, 0, 2, 1]
    assert agent.values[0] == pytest.approx(0.542, abs=1e-3)


def test_value_and_policy_iteration_agree_on_taxi():
    vi, pi = rl_value_iteration("Taxi-v4", gamma=0.95), rl_policy_iteration("Taxi-v4", gamma=0.95)
    np.testing.assert_allclose(vi.values, pi.values, atol=1e-6)
    assert vi.action_names == ["South", "North", "East", "West", "Pickup", "Dropoff"]
    assert vi.state_names[0] == "taxi(0,0) passenger:R to:R"
    assert rl_evaluate(pi, episodes=5, seed=0).success_rate == 1.0


def test_history_of_value_iteration_shrinks():
    agent = rl_value_iteration("FrozenLake-v1", gamma=0.9, tol=1e-6)
    d = agent.history["delta"]
    assert len(d) == agent.iterations and d[-1] < 1e-6 and d[0] > d[-1]
    np.testing.assert_array_equal(agent.history["iteration"], np.arange(1, agent.iterations + 1))


def test_state_index_round_trips_tuple_observations():
    idx = StateIndex([32, 11, 2], [0, 0, 0], is_tuple=True)
    assert idx.n_states == 704
    for obs in [(0, 0, 0), (21, 10, 1), (13, 2, 0)]:
        assert idx.observation(idx.index(obs)) == obs
    assert idx.index((0, 0, 1)) == 1 and idx.index((0, 1, 0)) == 2


def test_monte_carlo_on_blackjack_learns_tuple_states_and_is_seeded():
    a = rl_monte_carlo("Blackjack-v1", episodes=300, seed=3)
    b = rl_monte_carlo("Blackjack-v1", episodes=300, seed=3)
    assert a.q.shape == (704, 2) and a.action_names == ["Stick", "Hit"]
    assert a.state_names[a.index.index((21, 10, 1))] == "(21,10,1)"
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.history["return"], b.history["return"])
    assert a.visits.sum() > 0 and len(a.history["return"]) == 300
    c = rl_monte_carlo("Blackjack-v1", episodes=300, seed=4)
    assert not np.array_equal(a.q, c.q)


def test_every_visit_and_constant_alpha_differ_from_first_visit():
    first = rl_monte_carlo("FrozenLake-v1", episodes=200, seed=1)
    every = rl_monte_carlo("FrozenLake-v1", episodes=200, seed=1, first_visit=False)
    assert every.visits.sum() > first.visits.sum()
    const = rl_monte_carlo("FrozenLake-v1", episodes=200, seed=1, alpha=0.5)
    assert const.settings["alpha"] == 0.5


def test_q_learning_on_deterministic_frozenlake_finds_the_goal():
    env = rl_env("FrozenLake-v1", is_slippery=False)
    agent = rl_q_learning(env, episodes=400, alpha=0.5, epsilon=1.0, epsilon_end=0.1, seed=0)
    assert agent.env_kwargs["is_slippery"] is False
    ev = rl_evaluate(agent, episodes=3, seed=0)   # remade from env_id + env_kwargs: not slippery
    assert ev.success_rate == 1.0 and ev.mean_length == 6
    np.testing.assert_allclose(agent.history["epsilon"][[0, -1]], [1.0, 0.1])


def test_evaluate_accepts_tables_functions_and_random():
    vi = rl_value_iteration("FrozenLake-v1")
    by_agent = rl_evaluate(vi, episodes=50, seed=5)
    by_table = rl_evaluate(vi.policy, "FrozenLake-v1", episodes=50, seed=5)
    by_fun = rl_evaluate(lambda obs: vi.policy[obs], "FrozenLake-v1", episodes=50, seed=5)
    np.testing.assert_array_equal(by_agent.returns, by_table.returns)
    np.testing.assert_array_equal(by_agent.returns, by_fun.returns)
    rand = rl_evaluate("random", "FrozenLake-v1", episodes=50, seed=5)
    assert rand.success_rate < by_agent.success_rate
    assert rl_evaluate("random", "FrozenLake-v1", episodes=50, seed=5).returns.tolist() == rand.returns.tolist()


def test_play_records_ansi_frames_and_text_descriptions():
    ep = rl_play(rl_value_iteration("FrozenLake-v1"), seed=2)
    assert len(ep.frames) == len(ep.actions) + 1 == len(ep.observations)
    assert ep.frames[0].startswith("start") and "SFFF" in ep.frames[0].replace("\x1b[41mS\x1b[0m", "S")
    assert set(ep.action_names) <= {"Left", "Down", "Right", "Up"} and ep.rgb is None
    assert ep.total_return == ep.rewards.sum() and ep.success == (ep.total_return > 0)
    bj = rl_play("random", "Blackjack-v1", seed=0)
    assert "player's sum" in bj.frames[0] and "dealer shows" in bj.frames[0]


def test_dqn_trains_a_q_network_and_is_seeded():
    kw = dict(steps=300, learning_starts=100, train_every=50, gradient_steps=5, hidden=[16], seed=1,
              device="cpu", verbose=False)
    a, b = rl_dqn("CartPole-v1", **kw), rl_dqn("CartPole-v1", **kw)
    assert isinstance(a, DQNAgent) and a.model.classes == ["Left", "Right"]
    assert a.q_values(np.zeros((3, 4))).shape == (3, 2)
    np.testing.assert_array_equal(a.history["return"], b.history["return"])
    np.testing.assert_array_equal(a.q_values(np.ones((1, 4))), b.q_values(np.ones((1, 4))))
    assert a.history["step"][-1] <= 300 and np.isfinite(a.history["loss"][-1])
    ev = rl_evaluate(a, episodes=2, seed=0)
    assert ev.episodes == 2 and ev.mean_return >= 8
    assert "cart at" in rl_play(a, seed=0).frames[0]


def test_dqn_keeps_the_weights_of_its_best_training_stretch():
    net = torch.nn.Linear(2, 1)
    best = Best(window=2)
    for returns, value in [([1, 3], 1.0), ([1, 3, 9], 2.0), ([1, 3, 9, 1], 3.0)]:
        torch.nn.init.constant_(net.weight, value)
        best.update(returns, len(returns), net)
    torch.nn.init.constant_(net.weight, 4.0)
    best.restore(net)
    assert best.episode == 3 and net.weight.detach().tolist() == [[2.0, 2.0]]   # mean(3, 9) was best
    kw = dict(steps=300, learning_starts=100, train_every=50, gradient_steps=5, hidden=[16], seed=1, device="cpu",
              verbose=False)
    assert rl_dqn("CartPole-v1", keep_best=0, **kw).best_episode is None


# Bad input: errors that name the argument.
BAD = [
    (lambda: rl_value_iteration("NoSuchEnv-v0"), ValueError, r"`env` 'NoSuchEnv-v0' is not a registered gymnasium"),
    (lambda: rl_q_learning("Frozenlake-v1"), ValueError, r"Did you mean 'FrozenLake-v1'"),
    (lambda: rl_q_learning("MountainCarContinuous-v0"), ValueError, r"`env` MountainCarContinuous-v0 has a continuous"),
    (lambda: rl_monte_carlo("CartPole-v1", episodes=1), ValueError, r"rl_monte_carlo\(\) is tabular"),
    (lambda: rl_value_iteration("Blackjack-v1"), ValueError, r"does not publish its transition model"),
    (lambda: rl_value_iteration("FrozenLake-v1", gamma=0), ValueError, r"`gamma` must be in \(0.0, 1.0\]; got 0"),
    (lambda: rl_policy_iteration("FrozenLake-v1", gamma=1.5), ValueError, r"`gamma` must be in \(0.0, 1.0\]"),
    (lambda: rl_q_learning("FrozenLake-v1", episodes=0), ValueError, r"`episodes` must be at least 1; got 0"),
    (lambda: rl_monte_carlo("Blackjack-v1", episodes=-3), ValueError, r"`episodes` must be at least 1"),
    (lambda: rl_evaluate("random", "FrozenLake-v1", episodes=0), ValueError, r"`episodes` must be at least 1"),
    (lambda: rl_q_learning("FrozenLake-v1", epsilon=2), ValueError, r"`epsilon` must be in \[0.0, 1.0\]"),
    (lambda: rl_value_iteration(transitions=P), ValueError, r"both `transitions` P\[s, a, s'\] and `rewards`"),
    (lambda: rl_value_iteration(transitions=P * 0.5, rewards=R), ValueError, r"`transitions` must hold probabilities"),
    (lambda: rl_value_iteration(transitions=P, rewards=R[:1]), ValueError,
     r"`rewards` must have shape \(n_states, n_actions\) = \(2, 2\)"),
    (lambda: rl_dqn("FrozenLake-v1", steps=10), ValueError, r"rl_dqn\(\) needs a vector of numbers"),
    (lambda: rl_dqn("Pendulum-v1", steps=10), ValueError, r"has a continuous or structured action space"),
    (lambda: rl_dqn(steps=0), ValueError, r"`steps` must be at least 1"),
    (lambda: rl_dqn(gamma=1.01), ValueError, r"`gamma` must be in \(0.0, 1.0\]"),
    (lambda: rl_evaluate(np.zeros(5), "FrozenLake-v1"), ValueError, r"`policy` must be one action per state"),
    (lambda: rl_evaluate(np.full(16, 7), "FrozenLake-v1"), ValueError, r"`policy` must hold action indices 0..3"),
    (lambda: rl_evaluate(rl_value_iteration("FrozenLake-v1"), "Taxi-v4"), ValueError, r"table of 16 states x 4"),
    (lambda: rl_evaluate(np.zeros(16)), ValueError, r"Give `env`"),
    (lambda: rl_env(3), TypeError, r"`env` must be a gymnasium environment id"),
]


@pytest.mark.parametrize("call, error, message", BAD)
def test_bad_input_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_an_episode_cut_by_max_steps_is_not_a_success():
    # CartPole succeeds only when the environment's own time limit ends the episode; stopping it
    # at the caller's max_steps says nothing about balancing, and a random policy balances 5 steps.
    ev = rl_evaluate("random", "CartPole-v1", episodes=4, max_steps=5, seed=0)
    assert ev.success_rate == 0.0 and ev.mean_length == 5
    ep = rl_play("random", "CartPole-v1", max_steps=5, seed=0)
    assert len(ep.actions) == 5 and ep.truncated and not ep.terminated and not ep.success
    assert "cut at the step limit" in repr(ep)
    # ... while the environment's own time limit (here 3 steps) ending the episode is CartPole's success
    short = rl_evaluate("random", rl_env("CartPole-v1", max_episode_steps=3), episodes=4, max_steps=5, seed=0)
    assert short.success_rate == 1.0 and short.mean_length == 3
    # FrozenLake's optimal policy at 3 steps (the goal needs 6) is cut, not a success either
    lake = rl_env("FrozenLake-v1", is_slippery=False)
    agent = rl_value_iteration(lake)
    assert rl_evaluate(agent, episodes=2, max_steps=3, seed=0).success_rate == 0.0
    assert rl_evaluate(agent, episodes=2, max_steps=6, seed=0).success_rate == 1.0
