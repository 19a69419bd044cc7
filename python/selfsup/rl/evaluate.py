"""Judge a policy (mean return, success rate) and watch it play one episode."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from .. import _validate as v
from .envs import action_names, env_id, env_name, rl_env, spaces, state_index, success


@dataclass
class Evaluation:
    """Returns of a policy over `episodes` episodes.

    mean_return, std_return, success_rate, mean_length : float
    returns, lengths : arrays (episodes,); successes : bool array (episodes,)
    """
    env_id: str | None
    episodes: int
    mean_return: float
    std_return: float
    success_rate: float
    mean_length: float
    returns: np.ndarray
    lengths: np.ndarray
    successes: np.ndarray
    seed: int | None

    def __repr__(self) -> str:
        return (f"<selfsup Evaluation on {self.env_id}: {self.episodes:,} episodes, mean return "
                f"{self.mean_return:.4f} (sd {self.std_return:.3f}), success rate {self.success_rate:.4f}>")


@dataclass
class Episode:
    """One recorded episode.

    frames : list of str, the environment drawn as text before the first and after every step
        (gymnasium's ANSI rendering for text environments, else a one-line description)
    rgb : array (steps + 1, height, width, 3) of uint8, or None when the environment cannot draw
        images without extra packages (pygame)
    observations : list (steps + 1), actions : int array (steps,), action_names : list of str (steps,),
    rewards : float array (steps,); total_return : float; success, terminated, truncated : bool
    """
    env_id: str | None
    frames: list
    rgb: np.ndarray | None
    observations: list
    actions: np.ndarray
    action_names: list
    rewards: np.ndarray
    total_return: float
    success: bool
    terminated: bool
    truncated: bool

    def __repr__(self) -> str:
        end = "success" if self.success else ("cut at the step limit" if self.truncated else "failure")
        return (f"<selfsup Episode on {self.env_id}: {len(self.actions)} steps, return {self.total_return:g} "
                f"({end}); print(ep.frames[i]) to watch it>")


def _env_for(policy, env):
    """The environment to run: `env` if given, else the one the agent was trained on."""
    if env is None:
        name = getattr(policy, "env_id", None)
        if name is None:
            raise ValueError("Give `env`: the policy does not say which environment it was trained on.")
        return rl_env(name, **getattr(policy, "env_kwargs", {}))
    return rl_env(env)


def policy_function(policy, env):
    """`policy` as a function observation -> action.

    Accepted: an agent from rl_value_iteration/rl_policy_iteration/rl_monte_carlo/rl_q_learning/rl_dqn,
    an array with one action per state (tabular environments), a function of the observation, or
    "random" (uniform actions from the environment's action space, seeded).
    """
    n_actions = int(env.action_space.n) if isinstance(env.action_space, spaces.Discrete) else None
    if isinstance(policy, str):
        v.check_choice(policy, "policy", ["random"])
        return lambda obs: env.action_space.sample()
    if hasattr(policy, "act"):
        q = getattr(policy, "q", None)
        if q is not None:  # a tabular agent: its table must fit the environment
            index = state_index(env, "rl_evaluate")
            if q.shape != (index.n_states, n_actions):
                raise ValueError(f"`policy` has a table of {q.shape[0]} states x {q.shape[1]} actions, but `env` "
                                 f"{env_id(env)} has {index.n_states} states x {n_actions} actions.")
        return policy.act
    if callable(policy):
        return policy
    table = v.as_numeric_array(policy, "policy")
    index = state_index(env, "rl_evaluate")
    if table.shape != (index.n_states,):
        raise ValueError(f"`policy` must be one action per state: a vector of length {index.n_states}; "
                         f"got shape {table.shape}.")
    if n_actions is None or table.min() < 0 or table.max() >= n_actions or not np.all(table == np.round(table)):
        raise ValueError(f"`policy` must hold action indices 0..{(n_actions or 1) - 1}.")
    table = table.astype(np.int64)
    return lambda obs: int(table[index.index(obs)])


def _check_action(action, env):
    if isinstance(env.action_space, spaces.Discrete):
        a = int(action)
        if not env.action_space.contains(a):
            raise ValueError(f"`policy` chose action {action!r}, outside `env`'s actions {env.action_space}.")
        return a
    return action


def rl_evaluate(policy, env=None, *, episodes: int = 100, max_steps: int = 10_000,
                seed: int | None = None) -> Evaluation:
    """Mean return and success rate of `policy` over `episodes` episodes.

    Parameters
    ----------
    policy : agent, array of actions per state, function of the observation, or "random"
    env : str or gymnasium.Env, optional
        Default: the environment the agent was trained on.
    episodes : int, default=100
    max_steps : int, default=10_000
        Cut an episode after this many steps (environments without a time limit).
    seed : int, optional
        Seeds the environment (first reset) and a random policy: same seed, same episodes.

    Success is judged per environment (see `envs.success`): reaching the goal (FrozenLake, Taxi,
    CliffWalking), winning (Blackjack), balancing until the time limit (CartPole).
    """
    episodes = v.check_int(episodes, "episodes")
    max_steps = v.check_int(max_steps, "max_steps")
    seed = v.check_seed(seed)
    env = _env_for(policy, env)
    act = policy_function(policy, env)
    env.action_space.seed(seed)
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=np.int64)
    wins = np.zeros(episodes, dtype=bool)
    with _running(policy):
        _play_episodes(act, env, max_steps, seed, returns, lengths, wins)
    return Evaluation(env_id(env), episodes, float(returns.mean()), float(returns.std()), float(wins.mean()),
                      float(lengths.mean()), returns, lengths, wins, seed)


def _running(policy):
    """The policy's own context for many steps (a DQN agent: one CPU thread), else nothing."""
    return policy.running() if hasattr(policy, "running") else contextlib.nullcontext()


def _play_episodes(act, env, max_steps, seed, returns, lengths, wins) -> None:
    """Fill returns/lengths/wins with one episode each; the first reset is seeded."""
    name = env_name(env)
    obs, _ = env.reset(seed=seed)
    for ep in range(len(returns)):
        rewards, terminated, truncated = [], False, False
        while len(rewards) < max_steps:
            obs, reward, terminated, truncated, _ = env.step(_check_action(act(obs), env))
            rewards.append(float(reward))
            if terminated or truncated:
                break
        returns[ep], lengths[ep] = sum(rewards), len(rewards)
        wins[ep] = success(name, rewards, terminated, truncated)   # before max_steps counts as a cut
        obs, _ = env.reset()


def rl_play(policy, env=None, *, max_steps: int = 1_000, seed: int | None = None) -> Episode:
    """Record one episode of `policy` so that a learner can watch it (`print(frame)` for each frame).

    Text environments (FrozenLake, Taxi, CliffWalking) are drawn by gymnasium as ANSI text; others
    get a one-line description per step (Blackjack's hands, CartPole's cart and pole). RGB images are
    recorded too (`rgb`) when `env` was made with ``rl_env(id, render_mode="rgb_array")`` and can draw
    them; gymnasium draws images with pygame (``pip install "gymnasium[classic-control]"`` or
    ``"gymnasium[toy-text]"``), and without it `rgb` is None.
    """
    max_steps = v.check_int(max_steps, "max_steps")
    seed = v.check_seed(seed)
    env = _env_for(policy, env)
    act = policy_function(policy, env)
    env.action_space.seed(seed)
    names = action_names(env) if isinstance(env.action_space, spaces.Discrete) else None
    obs, _ = env.reset(seed=seed)
    observations, actions, rewards = [obs], [], []
    frames, images = [_frame(env, obs, None, None)], _image(env)
    rgb = [images] if images is not None else None
    terminated = truncated = False
    while len(actions) < max_steps:
        action = _check_action(act(obs), env)
        obs, reward, terminated, truncated, _ = env.step(action)
        observations.append(obs)
        actions.append(action)
        rewards.append(float(reward))
        frames.append(_frame(env, obs, names[action] if names else str(action), float(reward)))
        if rgb is not None:
            rgb.append(_image(env))
        if terminated or truncated:
            break
    won = success(env_name(env), rewards, terminated, truncated)
    truncated = truncated or not terminated   # reported: cut by the environment's limit or by max_steps
    return Episode(env_id(env), frames, None if rgb is None else np.stack(rgb), observations,
                   np.asarray(actions), [names[a] for a in actions] if names else [str(a) for a in actions],
                   np.asarray(rewards), float(sum(rewards)), won, bool(terminated), bool(truncated))


def _frame(env, obs, action: str | None, reward: float | None) -> str:
    head = "start" if action is None else f"action {action}, reward {reward:g}"
    if env.render_mode == "ansi":
        return f"{head}\n{env.render()}"
    return f"{head}: {describe(env_name(env), obs)}"


def describe(name: str, obs) -> str:
    """One line saying what an observation means, for environments that cannot draw themselves as text."""
    if name == "Blackjack":
        player, dealer, ace = (int(o) for o in obs)
        card = "A" if dealer == 1 else dealer
        return f"player's sum {player}, dealer shows {card}, usable ace {'yes' if ace else 'no'}"
    if name == "CartPole":
        x, speed, angle, spin = (float(o) for o in obs)
        track = [" "] * 41
        where = min(40, max(0, int(round((x + 2.4) / 4.8 * 40))))      # the track is x in [-2.4, 2.4]
        track[where] = "/" if angle > 0.03 else "\\" if angle < -0.03 else "|"   # leaning right, left, upright
        return (f"[{''.join(track)}] cart at {x:+.2f} (speed {speed:+.2f}), pole {np.degrees(angle):+.1f} degrees "
                f"(turning {np.degrees(spin):+.1f} degrees/s)")
    return f"observation {np.array2string(np.asarray(obs), precision=3)}"


def _image(env):
    """An RGB frame when the environment draws one without missing packages, else None."""
    if env.render_mode != "rgb_array":
        return None
    try:
        return np.asarray(env.render(), dtype=np.uint8)
    except Exception:  # gymnasium.error.DependencyNotInstalled (pygame) and friends
        return None
