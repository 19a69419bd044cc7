"""Tabular reinforcement learning: exact solutions of a known MDP (value and policy iteration) and
learning from episodes (Monte Carlo control, Q-learning).

Every method returns a `TabularAgent`: a Q-table (states x actions), the state values and greedy
policy read off it, the state and action names, and a learning curve. Randomness comes from one
numpy Generator seeded with `seed` plus the environment's own seed, so the same seed gives the
same tables, from Python or from R.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import _validate as v
from .. import progress
from ..device import resolve_seed
from .envs import (StateIndex, action_names, check_discrete_actions, check_gamma, env_id, env_kwargs, env_name,
                   rl_env, state_index, state_names)


@dataclass
class TabularAgent:
    """A tabular solution or learner.

    method : "value_iteration", "policy_iteration", "monte_carlo" or "q_learning"
    q : array (n_states, n_actions), action values
    values : array (n_states,), max over actions of `q` (for policy iteration: the policy's values)
    policy : array (n_states,) of int, the greedy action of each state (ties: the first action)
    iterations : sweeps over the states (value/policy iteration) or training episodes
    gamma : float, the discount
    state_names, action_names : list of str
    history : dict of equal-length arrays: per sweep (iteration, delta[, policy_changes]) or per
        episode (episode, return, length, epsilon)
    visits : array (n_states, n_actions) of int, how often each pair was updated (learners only)
    settings : dict, the arguments used (seed included)
    env_id : str or None; env_kwargs : dict, the options the environment was made with
    """
    method: str
    q: np.ndarray
    values: np.ndarray
    policy: np.ndarray
    iterations: int
    gamma: float
    state_names: list
    action_names: list
    history: dict
    settings: dict = field(default_factory=dict)
    visits: np.ndarray | None = None
    env_id: str | None = None
    env_kwargs: dict = field(default_factory=dict)
    state_sizes: list = field(default_factory=list)
    state_starts: list = field(default_factory=list)
    state_is_tuple: bool = False
    converged: bool = True
    seconds: float = 0.0

    @property
    def index(self) -> StateIndex:
        return StateIndex(list(self.state_sizes), list(self.state_starts), self.state_is_tuple)

    def act(self, obs) -> int:
        """The greedy action in observation `obs`."""
        return int(self.policy[self.index.index(obs)])

    def __repr__(self) -> str:
        n_s, n_a = self.q.shape
        what = "sweeps" if self.method in ("value_iteration", "policy_iteration") else "episodes"
        return (f"<selfsup TabularAgent ({self.method}) on {self.env_id or 'a given MDP'}: {n_s} states x "
                f"{n_a} actions, gamma={self.gamma:g}, {self.iterations:,} {what}>")


# ------------------------------------------------------------------------------- known MDPs
def mdp_arrays(env=None, transitions=None, rewards=None):
    """The model of a finite MDP as arrays: (T, R, info).

    T[s, a, s'] is the probability of moving to s' *and continuing* (transitions that end the
    episode are left out, so a terminal state adds no future value); R[s, a] the expected reward.
    """
    if env is not None and (transitions is not None or rewards is not None):
        raise ValueError("Give either `env` or `transitions` and `rewards`, not both.")
    if env is None:
        if transitions is None or rewards is None:
            raise ValueError("Give an environment `env` with a known model (FrozenLake, Taxi, CliffWalking) "
                             "or both `transitions` P[s, a, s'] and `rewards` R[s, a].")
        return _user_arrays(transitions, rewards)
    env = rl_env(env)
    n_actions = check_discrete_actions(env, "rl_value_iteration")
    index = state_index(env, "rl_value_iteration")
    model = getattr(env.unwrapped, "P", None)
    if not isinstance(model, dict) or index.is_tuple:
        raise ValueError(f"`env` {env_id(env) or env_name(env)} does not publish its transition model "
                         "(env.unwrapped.P), so it cannot be solved exactly; learn from episodes with "
                         "rl_monte_carlo() or rl_q_learning(), or give `transitions` and `rewards`.")
    n = index.n_states
    T, R = np.zeros((n, n_actions, n)), np.zeros((n, n_actions))
    for s, by_action in model.items():
        for a, outcomes in by_action.items():
            for prob, s2, reward, done in outcomes:
                R[s, a] += prob * reward
                if not done:
                    T[s, a, int(s2)] += prob
    return T, R, _info(env, index)


def _user_arrays(transitions, rewards):
    T = v.as_numeric_array(transitions, "transitions").astype(np.float64)
    if T.ndim != 3 or T.shape[0] != T.shape[2]:
        raise ValueError("`transitions` must have shape (n_states, n_actions, n_states), P[s, a, s']; "
                         f"got shape {T.shape}.")
    R = v.as_numeric_array(rewards, "rewards").astype(np.float64)
    if R.shape != T.shape[:2]:
        raise ValueError(f"`rewards` must have shape (n_states, n_actions) = {T.shape[:2]}, R[s, a]; "
                         f"got shape {R.shape}.")
    if not (np.isfinite(T).all() and np.isfinite(R).all()):
        raise ValueError("`transitions` and `rewards` must be finite (no NA/NaN/Inf).")
    rows = T.sum(axis=2)
    if (T < 0).any() or not np.allclose(rows, 1.0, atol=1e-8):
        s, a = np.unravel_index(np.argmax(np.abs(rows - 1)), rows.shape)
        raise ValueError(f"`transitions` must hold probabilities that sum to 1 over s' for each (s, a); "
                         f"P[{s}, {a}, ] sums to {rows[s, a]:.6g}. Model a terminal state as a state that "
                         "leads to itself with reward 0.")
    n_s, n_a = R.shape
    info = {"state_names": [str(s) for s in range(n_s)], "action_names": [str(a) for a in range(n_a)],
            "env_id": None, "env_kwargs": {}, "state_sizes": [n_s], "state_starts": [0], "state_is_tuple": False}
    return T, R, info


def _info(env, index: StateIndex) -> dict:
    return {"state_names": state_names(env, index), "action_names": action_names(env), "env_id": env_id(env),
            "env_kwargs": env_kwargs(env), "state_sizes": index.sizes, "state_starts": index.starts,
            "state_is_tuple": index.is_tuple}


def _check_solver_args(gamma, tol, max_iterations):
    return (check_gamma(gamma), v.check_number(tol, "tol", 0.0, None, low_inclusive=False),
            v.check_int(max_iterations, "max_iterations"))


def rl_value_iteration(env=None, *, transitions=None, rewards=None, gamma: float = 0.99, tol: float = 1e-10,
                       max_iterations: int = 100_000) -> TabularAgent:
    """Solve a known MDP by value iteration (Bellman optimality backups until the values settle).

    Parameters
    ----------
    env : str or gymnasium.Env, optional
        An environment that publishes its model (``env.unwrapped.P``): FrozenLake, Taxi, CliffWalking.
    transitions : array of shape (n_states, n_actions, n_states), optional
        P[s, a, s'] instead of `env`; each P[s, a, ] sums to 1.
    rewards : array of shape (n_states, n_actions), optional
        Expected reward R[s, a] of taking action a in state s.
    gamma : float in (0, 1], default=0.99
        Discount. With gamma=1 the values converge only if every episode ends.
    tol : float, default=1e-10
        Stop when no value changes by more than `tol` in a sweep.
    max_iterations : int, default=100_000

    Returns
    -------
    TabularAgent with `history` = (iteration, delta).

    Examples
    --------
    >>> P = np.array([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]])  # 2 states, 2 actions
    >>> R = np.array([[1.0, 0.0], [0.0, 0.0]])
    >>> rl_value_iteration(transitions=P, rewards=R, gamma=0.9).policy
    array([1, 0])
    """
    gamma, tol, max_iterations = _check_solver_args(gamma, tol, max_iterations)
    T, R, info = mdp_arrays(env, transitions, rewards)
    start = time.perf_counter()
    values = np.zeros(R.shape[0])
    deltas = []
    for _ in range(max_iterations):
        q = R + gamma * T @ values                     # (S, A)
        new = q.max(axis=1)
        deltas.append(float(np.max(np.abs(new - values))))
        values = new
        if deltas[-1] < tol:
            break
    converged = deltas[-1] < tol
    if not converged:
        warnings.warn(f"rl_value_iteration: values still changed by {deltas[-1]:.3g} after {max_iterations} "
                      "sweeps; raise `max_iterations` or use gamma < 1.", RuntimeWarning, stacklevel=2)
    q = R + gamma * T @ values
    history = {"iteration": np.arange(1, len(deltas) + 1), "delta": np.asarray(deltas)}
    return TabularAgent("value_iteration", q, q.max(axis=1), q.argmax(axis=1), len(deltas), gamma,
                        history=history, settings={"gamma": gamma, "tol": tol, "max_iterations": max_iterations},
                        converged=converged, seconds=time.perf_counter() - start, **info)


def rl_policy_iteration(env=None, *, transitions=None, rewards=None, gamma: float = 0.99, tol: float = 1e-10,
                        max_iterations: int = 1_000) -> TabularAgent:
    """Solve a known MDP by policy iteration: evaluate the policy exactly, improve it greedily, repeat.

    Arguments as in `rl_value_iteration`; `max_iterations` counts improvement steps. A policy only
    changes where another action is better by more than `tol`, so ties cannot make it cycle.
    Returns a TabularAgent with `history` = (iteration, delta, policy_changes).
    """
    gamma, tol, max_iterations = _check_solver_args(gamma, tol, max_iterations)
    T, R, info = mdp_arrays(env, transitions, rewards)
    start = time.perf_counter()
    n_s = R.shape[0]
    rows = np.arange(n_s)
    policy = np.zeros(n_s, dtype=np.int64)
    values = np.zeros(n_s)
    deltas, changes = [], []
    for _ in range(max_iterations):
        # evaluation: solve (I - gamma T_pi) v = R_pi; least squares where gamma=1 leaves it singular
        a_pi = np.eye(n_s) - gamma * T[rows, policy]
        r_pi = R[rows, policy]
        try:
            new = np.linalg.solve(a_pi, r_pi)
        except np.linalg.LinAlgError:
            new = np.linalg.lstsq(a_pi, r_pi, rcond=None)[0]
        deltas.append(float(np.max(np.abs(new - values))))
        values = new
        # improvement: switch only where strictly better
        q = R + gamma * T @ values
        best = q.argmax(axis=1)
        better = q[rows, best] > q[rows, policy] + tol
        changes.append(int(better.sum()))
        policy = np.where(better, best, policy)
        if not better.any():
            break
    converged = changes[-1] == 0
    if not converged:
        warnings.warn(f"rl_policy_iteration: the policy still changed after {max_iterations} improvements.",
                      RuntimeWarning, stacklevel=2)
    q = R + gamma * T @ values
    history = {"iteration": np.arange(1, len(deltas) + 1), "delta": np.asarray(deltas),
               "policy_changes": np.asarray(changes)}
    return TabularAgent("policy_iteration", q, values, policy, len(deltas), gamma, history=history,
                        settings={"gamma": gamma, "tol": tol, "max_iterations": max_iterations},
                        converged=converged, seconds=time.perf_counter() - start, **info)


# ------------------------------------------------------------------------- learning from episodes
@dataclass
class _Run:
    """A learner's checked settings and starting state: Q (zeros), visit counts, per-episode returns and
    lengths, the epsilon of every episode, and the one random generator."""
    env: object
    index: StateIndex
    n_actions: int
    gamma: float
    epsilon: float       # of the first episode
    epsilon_end: float   # of the last
    max_steps: int
    seed: int
    eps: np.ndarray      # (episodes,)
    rng: np.random.Generator
    q: np.ndarray        # (states, actions)
    visits: np.ndarray   # (states, actions), int64
    returns: np.ndarray  # (episodes,)
    lengths: np.ndarray  # (episodes,), int64


def _learner_setup(env, fun, episodes, gamma, epsilon, epsilon_end, max_steps, seed) -> _Run:
    episodes = v.check_int(episodes, "episodes")
    gamma = check_gamma(gamma)
    epsilon = v.check_number(epsilon, "epsilon", 0.0, 1.0)
    epsilon_end = epsilon if epsilon_end is None else v.check_number(epsilon_end, "epsilon_end", 0.0, 1.0)
    max_steps = v.check_int(max_steps, "max_steps")
    seed = resolve_seed(seed)
    env = rl_env(env)
    n_actions = check_discrete_actions(env, fun)
    index = state_index(env, fun)
    shape = (index.n_states, n_actions)
    return _Run(env, index, n_actions, gamma, epsilon, epsilon_end, max_steps, seed,
                _epsilon_schedule(epsilon, epsilon_end, episodes),
                np.random.default_rng(seed), np.zeros(shape), np.zeros(shape, dtype=np.int64),
                np.zeros(episodes), np.zeros(episodes, dtype=np.int64))


def _epsilon_schedule(epsilon: float, epsilon_end: float, episodes: int) -> np.ndarray:
    """Linear decay from `epsilon` (first episode) to `epsilon_end` (last)."""
    return np.linspace(epsilon, epsilon_end, episodes) if episodes > 1 else np.array([epsilon])


def _run_episodes(run: _Run, verbose: bool, play) -> float:
    """Every episode of `run`: `play(obs, epsilon)` plays one from its first observation, learns from it
    and returns (its return, its length); here the environment resets (seeded once, before the first),
    the returns and lengths are kept and progress is shown. Returns the seconds it took."""
    start = time.perf_counter()
    obs, _ = run.env.reset(seed=run.seed)
    with progress.reporter(verbose) as rep:
        blocks = _blocks(rep, run.returns, run.eps)
        for ep, eps in enumerate(run.eps):
            run.returns[ep], run.lengths[ep] = play(obs, eps)
            obs, _ = run.env.reset()
            blocks.update()
    return time.perf_counter() - start


def _greedy(q_row: np.ndarray, rng: np.random.Generator) -> int:
    """argmax with random tie-breaking, so untried actions are not all biased to action 0."""
    best = np.flatnonzero(q_row == q_row.max())
    return int(best[0]) if len(best) == 1 else int(best[rng.integers(len(best))])


def _choose(q_row, eps, n_actions, rng) -> int:
    return int(rng.integers(n_actions)) if rng.random() < eps else _greedy(q_row, rng)


def rl_monte_carlo(env="Blackjack-v1", *, episodes: int = 500_000, gamma: float = 1.0, epsilon: float = 0.1,
                   epsilon_end: float | None = None, first_visit: bool = True, alpha: float | None = None,
                   max_steps: int = 1_000, seed: int | None = None, verbose: bool = True) -> TabularAgent:
    """On-policy Monte Carlo control with epsilon-greedy exploration (Sutton & Barto, section 5.4).

    Each episode is played to its end with the current epsilon-greedy policy; then the return that
    followed each (state, action) pair updates its Q-value.

    Parameters
    ----------
    env : str or gymnasium.Env, default="Blackjack-v1"
        Discrete (or Tuple of Discrete) observations and discrete actions.
    episodes : int, default=500_000
    gamma : float in (0, 1], default=1.0
    epsilon : float in [0, 1], default=0.1
        Exploration rate (of the first episode, when `epsilon_end` is given).
    epsilon_end : float, optional
        Decay epsilon linearly to this value by the last episode.
    first_visit : bool, default=True
        Average the return after the first visit of a pair in an episode only (else every visit).
    alpha : float in (0, 1], optional
        Constant step size; default: sample averages (step 1/n for the n-th return of a pair).
    max_steps : int, default=1_000
        Cut episodes of environments without a time limit.
    seed : int, optional
    verbose : bool, default=True
        Show progress: a line after every tenth of the episodes (their mean return, epsilon).

    Returns
    -------
    TabularAgent with `history` = (episode, return, length, epsilon).
    """
    run = _learner_setup(env, "rl_monte_carlo", episodes, gamma, epsilon, epsilon_end, max_steps, seed)
    alpha = None if alpha is None else v.check_number(alpha, "alpha", 0.0, 1.0, low_inclusive=False)
    q, visits, rng = run.q, run.visits, run.rng

    def play(obs, eps):
        # play one episode with the current policy
        pairs, rewards = [], []
        for _ in range(run.max_steps):
            s = run.index.index(obs)
            a = _choose(q[s], eps, run.n_actions, rng)
            obs, reward, terminated, truncated, _ = run.env.step(a)
            pairs.append((s, a))
            rewards.append(float(reward))
            if terminated or truncated:
                break
        # learn: walk back through it, accumulating the return G
        first = {} if not first_visit else {pair: t for t, pair in reversed(list(enumerate(pairs)))}
        g = 0.0
        for t in range(len(pairs) - 1, -1, -1):
            g = run.gamma * g + rewards[t]
            s, a = pairs[t]
            if first_visit and first[(s, a)] != t:
                continue
            visits[s, a] += 1
            q[s, a] += (alpha if alpha is not None else 1.0 / visits[s, a]) * (g - q[s, a])
        return sum(rewards), len(rewards)

    seconds = _run_episodes(run, verbose, play)
    settings = {"episodes": len(run.eps), "gamma": run.gamma, "epsilon": run.epsilon,
                "epsilon_end": run.epsilon_end, "first_visit": bool(first_visit), "alpha": alpha, "max_steps": run.max_steps, "seed": run.seed}
    return _learned("monte_carlo", run, settings, seconds)


def rl_q_learning(env="FrozenLake-v1", *, episodes: int = 20_000, gamma: float = 0.99, alpha: float = 0.1,
                  epsilon: float = 0.1, epsilon_end: float | None = None, max_steps: int = 1_000,
                  seed: int | None = None, verbose: bool = True) -> TabularAgent:
    """Q-learning: off-policy temporal-difference control (Watkins 1989; Sutton & Barto, section 6.5).

    After every step, Q(s, a) moves by `alpha` towards r + gamma * max_a' Q(s', a') (just r when
    the episode terminated; a time-limit cut still bootstraps).

    Parameters
    ----------
    env : str or gymnasium.Env, default="FrozenLake-v1"
    episodes : int, default=20_000
    gamma : float in (0, 1], default=0.99
    alpha : float in (0, 1], default=0.1
        Step size.
    epsilon, epsilon_end, max_steps, seed, verbose : as in `rl_monte_carlo`.

    Returns
    -------
    TabularAgent with `history` = (episode, return, length, epsilon).
    """
    run = _learner_setup(env, "rl_q_learning", episodes, gamma, epsilon, epsilon_end, max_steps, seed)
    alpha = v.check_number(alpha, "alpha", 0.0, 1.0, low_inclusive=False)
    q, visits, rng, gamma = run.q, run.visits, run.rng, run.gamma

    def play(obs, eps):
        s, total, t = run.index.index(obs), 0.0, 0
        for t in range(1, run.max_steps + 1):
            a = _choose(q[s], eps, run.n_actions, rng)
            obs, reward, terminated, truncated, _ = run.env.step(a)
            s2 = run.index.index(obs)
            target = reward if terminated else reward + gamma * q[s2].max()
            q[s, a] += alpha * (target - q[s, a])
            visits[s, a] += 1
            total += float(reward)
            s = s2
            if terminated or truncated:
                break
        return total, t

    seconds = _run_episodes(run, verbose, play)
    settings = {"episodes": len(run.eps), "gamma": gamma, "alpha": alpha, "epsilon": run.epsilon,
                "epsilon_end": run.epsilon_end, "max_steps": run.max_steps, "seed": run.seed}
    return _learned("q_learning", run, settings, seconds)


def _blocks(rep, returns: np.ndarray, eps: np.ndarray) -> progress.Blocks:
    """Progress by tenths of the episodes: the block's mean return and the current epsilon."""
    return progress.Blocks(rep, len(returns), "Episodes", "episode",
                           lambda a, b: {"mean_return": float(returns[a:b].mean()), "epsilon": float(eps[b - 1])})


def _learned(method: str, run: _Run, settings: dict, seconds: float) -> TabularAgent:
    """The agent of a learner; the policy of a never-visited state is action 0 (its Q-row is all 0)."""
    q, returns = run.q, run.returns
    history = {"episode": np.arange(1, len(returns) + 1), "return": returns, "length": run.lengths,
               "epsilon": run.eps}
    return TabularAgent(method, q, q.max(axis=1), q.argmax(axis=1), len(returns), run.gamma, history=history,
                        settings=settings, visits=run.visits, seconds=seconds, **_info(run.env, run.index))
