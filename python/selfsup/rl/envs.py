"""Gymnasium environments as the RL learners see them: checked, with state and action names.

Tabular methods need a finite set of states: a ``Discrete`` observation space, or a ``Tuple`` of
``Discrete`` spaces (Blackjack's ``(player sum, dealer card, usable ace)``), flattened to one index
in row-major order. `StateIndex` does that mapping and gives each state a readable name.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_number

try:  # gymnasium is an optional dependency: only the RL functions need it
    import gymnasium as gym
    from gymnasium import spaces
except ImportError:  # pragma: no cover - exercised only without gymnasium
    gym = None
    spaces = None

# Action names where the environment documents them (by `env.spec.name`).
ACTION_NAMES = {
    "FrozenLake": ["Left", "Down", "Right", "Up"],
    "FrozenLake8x8": ["Left", "Down", "Right", "Up"],
    "CliffWalking": ["Up", "Right", "Down", "Left"],
    "CliffWalkingSlippery": ["Up", "Right", "Down", "Left"],
    "Taxi": ["South", "North", "East", "West", "Pickup", "Dropoff"],
    "Blackjack": ["Stick", "Hit"],
    "CartPole": ["Left", "Right"],
    "MountainCar": ["Left", "None", "Right"],
    "Acrobot": ["-1", "0", "+1"],
    "LunarLander": ["None", "Left engine", "Main engine", "Right engine"],
}
TAXI_PLACES = ["R", "G", "Y", "B", "in taxi"]


def require_gymnasium():
    if gym is None:
        raise ImportError("Reinforcement learning needs the `gymnasium` package: pip install gymnasium "
                          "(from R: reticulate::py_install(\"gymnasium\")).")


def rl_env(env, **kwargs):
    """A gymnasium environment from its id (``"FrozenLake-v1"``), with options (``is_slippery=False``).

    An environment object is returned as it is. Text environments (FrozenLake, Taxi, CliffWalking)
    are made with ``render_mode="ansi"`` so that `rl_play` can show them as text.
    """
    require_gymnasium()
    if isinstance(env, gym.Env):
        if kwargs:
            raise ValueError("Options such as " + ", ".join(f"`{k}`" for k in kwargs)
                             + " apply only when `env` is an environment id, not an environment object.")
        return env
    if not isinstance(env, str):
        raise TypeError(f"`env` must be a gymnasium environment id such as \"FrozenLake-v1\", or an "
                        f"environment; got {type(env).__name__}.")
    if env not in gym.envs.registry:
        close = [k for k in gym.envs.registry if k.split("-")[0].lower() == env.split("-")[0].lower()]
        hint = (f" Did you mean {', '.join(repr(k) for k in close)}?" if close else
                " Known toy-text and classic-control ids: FrozenLake-v1, FrozenLake8x8-v1, Taxi-v4, "
                "CliffWalking-v1, Blackjack-v1, CartPole-v1, MountainCar-v0, Acrobot-v1.")
        raise ValueError(f"`env` {env!r} is not a registered gymnasium environment id.{hint}")
    spec = gym.spec(env)
    if "render_mode" not in kwargs and "ansi" in _render_modes(spec):
        kwargs["render_mode"] = "ansi"
    try:
        return gym.make(env, **kwargs)
    except TypeError as err:
        raise ValueError(f"`env` {env!r} does not accept these options: {err}") from None


def _render_modes(spec) -> list[str]:
    try:
        return list(gym.envs.registration.load_env_creator(spec.entry_point).metadata.get("render_modes", []))
    except Exception:  # an entry point we cannot inspect: no text rendering
        return []


def env_id(env) -> str | None:
    spec = getattr(env, "spec", None)
    return spec.id if spec is not None else None


def env_kwargs(env) -> dict:
    """The options the environment was made with (render mode aside), to make it again."""
    spec = getattr(env, "spec", None)
    return {k: val for k, val in (spec.kwargs if spec else {}).items() if k != "render_mode"}


def env_name(env) -> str:
    spec = getattr(env, "spec", None)
    return spec.name if spec is not None else type(env.unwrapped).__name__


def action_names(env) -> list[str]:
    n = int(env.action_space.n)
    names = ACTION_NAMES.get(env_name(env))
    return list(names) if names is not None and len(names) == n else [str(a) for a in range(n)]


def check_gamma(gamma) -> float:
    return check_number(gamma, "gamma", 0.0, 1.0, low_inclusive=False)


def check_discrete_actions(env, fun: str) -> int:
    space = env.action_space
    if not isinstance(space, spaces.Discrete):
        raise ValueError(f"`env` {env_id(env) or env_name(env)} has a continuous or structured action space "
                         f"({space}); {fun}() needs a finite set of actions (a Discrete action space).")
    return int(space.n)


# ------------------------------------------------------------------------------ state indexing
@dataclass
class StateIndex:
    """Maps observations of a Discrete or Tuple-of-Discrete space to 0..n_states-1 and back.

    `sizes[i]` and `starts[i]` are the size and first value of component i; an index is the
    row-major position of ``(obs[0] - starts[0], obs[1] - starts[1], ...)``.
    """
    sizes: list[int]
    starts: list[int]
    is_tuple: bool

    @property
    def n_states(self) -> int:
        return int(np.prod(self.sizes))

    def index(self, obs) -> int:
        if not self.is_tuple:
            return int(obs) - self.starts[0]
        i = 0
        for o, n, s in zip(obs, self.sizes, self.starts):
            i = i * n + (int(o) - s)
        return i

    def observation(self, index: int):
        if not self.is_tuple:
            return index + self.starts[0]
        parts = []
        for n, s in zip(reversed(self.sizes), reversed(self.starts)):
            parts.append(index % n + s)
            index //= n
        return tuple(reversed(parts))


def state_index(env, fun: str) -> StateIndex:
    """The `StateIndex` of a tabular environment; a clear error for continuous observations."""
    space = env.observation_space
    if isinstance(space, spaces.Discrete):
        return StateIndex([int(space.n)], [int(space.start)], is_tuple=False)
    if isinstance(space, spaces.Tuple) and all(isinstance(s, spaces.Discrete) for s in space.spaces):
        return StateIndex([int(s.n) for s in space.spaces], [int(s.start) for s in space.spaces], is_tuple=True)
    raise ValueError(f"`env` {env_id(env) or env_name(env)} has observations {space}, but {fun}() is tabular: "
                     "it needs a finite set of states (a Discrete observation space, or a Tuple of them). "
                     "Use rl_dqn() for continuous observations.")


def state_names(env, index: StateIndex) -> list[str]:
    """Readable state names: the tile for grid worlds ("0:S"), decoded Taxi states, observation tuples."""
    raw = env.unwrapped
    n = index.n_states
    desc = getattr(raw, "desc", None)
    if desc is not None and np.size(desc) == n:
        tiles = [t.decode() if isinstance(t, bytes) else str(t) for t in np.asarray(desc).ravel()]
        return [f"{s}:{tile}" for s, tile in enumerate(tiles)]
    if env_name(env) == "Taxi" and hasattr(raw, "decode"):
        names = []
        for s in range(n):
            row, col, passenger, dest = raw.decode(s)
            names.append(f"taxi({row},{col}) passenger:{TAXI_PLACES[passenger]} to:{TAXI_PLACES[dest]}")
        return names
    if index.is_tuple:
        return ["(" + ",".join(str(int(o)) for o in index.observation(s)) + ")" for s in range(n)]
    return [str(index.observation(s)) for s in range(n)]


# ---------------------------------------------------------------------------------- outcomes
def success(name: str, rewards: list[float], terminated: bool, truncated: bool) -> bool:
    """Whether an episode succeeded, in the sense each environment's documentation gives it.

    `terminated` and `truncated` are the environment's own flags from its last step; an episode that
    the caller's `max_steps` cut before either was set has not ended, so it is never a success.
    CartPole: the pole stayed up until the environment's time limit; Blackjack: the game was won;
    CliffWalking and Taxi: the goal was reached (the episode terminated); otherwise (FrozenLake and
    the rest): the episode terminated on a positive reward.
    """
    if not (terminated or truncated):
        return False
    if name == "CartPole":
        return truncated and not terminated
    if name == "Blackjack":
        return sum(rewards) > 0
    if name in ("CliffWalking", "CliffWalkingSlippery", "Taxi"):
        return terminated
    return terminated and bool(rewards) and rewards[-1] > 0
