"""Reinforcement learning: "find the model that maximises reward", on real gymnasium environments.

- Known MDPs, solved exactly: `rl_value_iteration`, `rl_policy_iteration` (FrozenLake, Taxi,
  CliffWalking, or your own transition and reward arrays).
- Learning from episodes, tabular: `rl_monte_carlo` (Blackjack is the textbook case), `rl_q_learning`.
- Deep RL: `rl_dqn`, a Q-network with replay buffer and target network on the torch core (CartPole).
- Judging and watching a policy: `rl_evaluate`, `rl_play`.

The code lives in `selfsup/rl/`: `envs.py` (environments, state indexing, names), `tabular.py`,
`dqn.py`, `evaluate.py`.
"""
from .rl.dqn import DQNAgent, DQNSettings, rl_dqn
from .rl.envs import rl_env
from .rl.evaluate import Episode, Evaluation, rl_evaluate, rl_play
from .rl.tabular import TabularAgent, rl_monte_carlo, rl_policy_iteration, rl_q_learning, rl_value_iteration

__all__ = ["DQNAgent", "DQNSettings", "Episode", "Evaluation", "TabularAgent", "rl_dqn", "rl_env", "rl_evaluate",
           "rl_monte_carlo", "rl_play", "rl_policy_iteration", "rl_q_learning", "rl_value_iteration"]
