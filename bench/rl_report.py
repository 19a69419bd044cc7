"""Reinforcement-learning benchmark of issue 5: the numbers the issue asks to show.

    nice python bench/rl_report.py [--only frozenlake,blackjack,cartpole] [--device auto] > /tmp/rl_report.log

- FrozenLake-v1 4x4 slippery: value-iteration policy success over 10,000 episodes (known optimum 0.74,
  within 0.01); Monte Carlo and Q-learning policies (>= 0.70).
- Blackjack-v1: Monte Carlo policy mean return over 100,000 games (>= -0.06; optimal about -0.043).
- CartPole-v1: DQN mean return over 100 evaluation episodes (>= 475) within 100,000 environment steps,
  with the wall time.
"""
from __future__ import annotations

import argparse
import ast
import os
import platform
import time

import gymnasium
import numpy as np
import torch

from selfsup.reinforcement import (rl_dqn, rl_evaluate, rl_monte_carlo, rl_policy_iteration, rl_q_learning,
                                   rl_value_iteration)

SEED = 2026          # one seed for every learner
EVAL_SEED = 7        # evaluation episodes use their own seed, different from training
ROWS: list[tuple] = []
DQN_OPTIONS: dict = {}  # rl_dqn's defaults; --dqn key=value overrides, for experiments


def report(name, value, target, ok, seconds, note=""):
    ROWS.append((name, value, target, "PASS" if ok else "FAIL", seconds, note))
    print(f"{name:<52} {value:>10} {target:>14} {'PASS' if ok else 'FAIL':>5} {seconds:>8.1f}s  {note}", flush=True)


def frozenlake():
    t = time.perf_counter()
    vi = rl_value_iteration("FrozenLake-v1", gamma=0.99)
    pi = rl_policy_iteration("FrozenLake-v1", gamma=0.99)
    ev = rl_evaluate(vi, episodes=10_000, seed=EVAL_SEED)
    report("FrozenLake 4x4 value iteration: success", f"{ev.success_rate:.4f}", "0.74 +- 0.01",
           abs(ev.success_rate - 0.74) <= 0.01, time.perf_counter() - t,
           f"{vi.iterations} sweeps; policy iteration same policy: {bool((pi.policy == vi.policy).all())}")

    t = time.perf_counter()
    mc = rl_monte_carlo("FrozenLake-v1", episodes=100_000, gamma=0.99, epsilon=1.0, epsilon_end=0.05,
                        first_visit=True, alpha=0.01, seed=SEED)
    train_s = time.perf_counter() - t
    ev = rl_evaluate(mc, episodes=10_000, seed=EVAL_SEED)
    report("FrozenLake 4x4 Monte Carlo (100k episodes): success", f"{ev.success_rate:.4f}", ">= 0.70",
           ev.success_rate >= 0.70, time.perf_counter() - t,
           f"train {train_s:.0f}s; same policy as value iteration in {_agree(mc, vi)} of 16 states")

    t = time.perf_counter()
    ql = rl_q_learning("FrozenLake-v1", episodes=50_000, gamma=0.99, alpha=0.05, epsilon=1.0, epsilon_end=0.05,
                       seed=SEED)
    train_s = time.perf_counter() - t
    ev = rl_evaluate(ql, episodes=10_000, seed=EVAL_SEED)
    report("FrozenLake 4x4 Q-learning (50k episodes): success", f"{ev.success_rate:.4f}", ">= 0.70",
           ev.success_rate >= 0.70, time.perf_counter() - t,
           f"train {train_s:.0f}s; same policy as value iteration in {_agree(ql, vi)} of 16 states")


def _agree(agent, reference) -> int:
    """States where the greedy actions agree (holes and the goal count: every action is the same there)."""
    same = agent.policy == reference.policy
    ends = np.array([name.endswith(("H", "G")) for name in reference.state_names])
    return int((same | ends).sum())


def blackjack():
    t = time.perf_counter()
    mc = rl_monte_carlo("Blackjack-v1", episodes=500_000, gamma=1.0, epsilon=0.1, epsilon_end=0.0,
                        first_visit=True, seed=SEED)
    train_s = time.perf_counter() - t
    ev = rl_evaluate(mc, episodes=100_000, seed=EVAL_SEED)
    report("Blackjack Monte Carlo (500k episodes): mean return", f"{ev.mean_return:+.4f}", ">= -0.06",
           ev.mean_return >= -0.06, time.perf_counter() - t,
           f"train {train_s:.0f}s; win rate {ev.success_rate:.3f}; optimal about -0.043")


def cartpole(device):
    t, cpu = time.perf_counter(), time.process_time()
    agent = rl_dqn("CartPole-v1", steps=100_000, seed=SEED, device=device, verbose=False, **DQN_OPTIONS)
    cpu = time.process_time() - cpu
    ev = rl_evaluate(agent, episodes=100, seed=EVAL_SEED)
    report(f"CartPole DQN (100k steps, {agent.device}): mean return", f"{ev.mean_return:.1f}", ">= 475",
           ev.mean_return >= 475, time.perf_counter() - t,
           f"training: wall {agent.seconds:.0f}s, CPU {cpu:.0f}s; {len(agent.history['return'])} episodes, "
           f"weights kept from episode {agent.best_episode}; min eval return {ev.returns.min():.0f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="frozenlake,blackjack,cartpole")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=SEED, help="training seed of every learner")
    parser.add_argument("--dqn", nargs="*", default=[], help="rl_dqn options, e.g. lr_decay=True keep_best=10")
    args = parser.parse_args()
    DQN_OPTIONS.update({k: ast.literal_eval(val) for k, val in (kv.split("=", 1) for kv in args.dqn)})
    globals()["SEED"] = args.seed
    print(f"selfsup RL report; gymnasium {gymnasium.__version__}, torch {torch.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
          f"cuda: {torch.cuda.is_available()}; training seed {SEED}, evaluation seed {EVAL_SEED}; "
          f"rl_dqn options {DQN_OPTIONS or 'default'}", flush=True)
    print(f"{'benchmark':<52} {'value':>10} {'target':>14} {'':>5} {'wall':>9}", flush=True)
    start = time.perf_counter()
    for part in args.only.split(","):
        {"frozenlake": frozenlake, "blackjack": blackjack, "cartpole": lambda: cartpole(args.device)}[part]()
    fails = sum(r[3] == "FAIL" for r in ROWS)
    print(f"\n{len(ROWS) - fails}/{len(ROWS)} passed in {time.perf_counter() - start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
