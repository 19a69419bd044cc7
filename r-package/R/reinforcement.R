# Reinforcement learning on gymnasium environments: thin wrappers over selfsup.reinforcement.

#' Make a gymnasium environment
#'
#' Needed only for options such as `is_slippery = FALSE`; every `rl_*` function also takes an
#' environment id such as `"FrozenLake-v1"`. Text environments (FrozenLake, Taxi, CliffWalking)
#' are made to draw themselves as text for [rl_play()].
#'
#' @param env An environment id: `"FrozenLake-v1"`, `"FrozenLake8x8-v1"`, `"Taxi-v4"`,
#'   `"CliffWalking-v1"`, `"Blackjack-v1"`, `"CartPole-v1"`, ...
#' @param ... Options of the environment, e.g. `is_slippery = FALSE`, `map_name = "8x8"`.
#' @returns A gymnasium environment (a Python object).
#' @family reinforcement
#' @seealso Python: `selfsup.reinforcement.rl_env()`.
#' @examplesIf selfsup_available()
#' lake <- rl_env("FrozenLake-v1", is_slippery = FALSE)
#' rl_value_iteration(lake)
#' @export
rl_env <- function(env, ...) {
  options <- as_py_options(list(...), "options of the environment in `...` must be named, e.g. is_slippery = FALSE.")
  do.call(py_call, c(list(selfsup_py$rl_env, as_py_env(env)), options))
}

#' Solve a known MDP: value iteration and policy iteration
#'
#' Exact solutions for environments that publish their model (FrozenLake, Taxi, CliffWalking),
#' or for your own transition and reward arrays. Value iteration repeats Bellman optimality
#' backups until no value changes by more than `tol`; policy iteration evaluates the current
#' policy exactly and improves it greedily until it stops changing.
#'
#' @param env An environment id or [rl_env()] object; or `NULL` with `transitions` and `rewards`.
#' @param transitions Optional array `P[s, a, s']` of dimension (states, actions, states): the
#'   probability of moving from `s` to `s'` with action `a`; each `P[s, a, ]` sums to 1.
#' @param rewards Optional matrix `R[s, a]` (states x actions): the expected reward.
#' @param gamma Discount in (0, 1].
#' @param tol Convergence tolerance.
#' @param max_iterations Most sweeps (value iteration) or improvements (policy iteration).
#' @returns A `selfsup_rl_tabular` agent: `q` (states x actions matrix), `values` and `policy`
#'   (a factor of actions), both named by state, `history` (a data frame: `iteration`, `delta`),
#'   `iterations`, `gamma`.
#' @family reinforcement
#' @seealso Python: `selfsup.reinforcement.rl_value_iteration()`.
#' @examplesIf selfsup_available()
#' vi <- rl_value_iteration("FrozenLake-v1", gamma = 0.99)
#' matrix(vi$policy, 4, 4, byrow = TRUE)
#' rl_evaluate(vi, episodes = 200, seed = 1)
#' @export
rl_value_iteration <- function(env = NULL, transitions = NULL, rewards = NULL, gamma = 0.99, tol = 1e-10,
                               max_iterations = 100000) {
  rl_solve(selfsup_py$rl_value_iteration, env, transitions, rewards, gamma, tol, max_iterations)
}

#' @rdname rl_value_iteration
#' @export
rl_policy_iteration <- function(env = NULL, transitions = NULL, rewards = NULL, gamma = 0.99, tol = 1e-10,
                                max_iterations = 1000) {
  rl_solve(selfsup_py$rl_policy_iteration, env, transitions, rewards, gamma, tol, max_iterations)
}

rl_solve <- function(fun, env, transitions, rewards, gamma, tol, max_iterations) {
  as_r_agent(py_call(
    fun, as_py_env(env),
    transitions = if (is.null(transitions)) NULL else as_py_array(transitions, "transitions"),
    rewards = if (is.null(rewards)) NULL else as_py_array(rewards, "rewards"),
    gamma = as_py_num(gamma, "gamma"), tol = as_py_num(tol, "tol"), max_iterations = as_py_int(max_iterations, "max_iterations")
  ))
}

#' Learn from episodes: Monte Carlo control and Q-learning
#'
#' Tabular control for environments with a finite set of states (FrozenLake, Taxi, CliffWalking,
#' Blackjack's (player sum, dealer card, usable ace) tuples). Monte Carlo control plays whole
#' episodes with an epsilon-greedy policy and averages the returns that followed each
#' (state, action); Q-learning updates after every step towards r + gamma max Q(s', .).
#'
#' @param env An environment id or [rl_env()] object.
#' @param episodes Number of training episodes.
#' @param gamma Discount in (0, 1].
#' @param epsilon Exploration rate (of the first episode when `epsilon_end` is given).
#' @param epsilon_end Optional: decay epsilon linearly to this value by the last episode.
#' @param first_visit Monte Carlo: use only the first visit of a pair in an episode.
#' @param alpha Step size; for Monte Carlo `NULL` means sample averages (1/n).
#' @param max_steps Cut episodes longer than this. An episode cut here has not ended, so it never
#'   counts as a success (CartPole's success is reaching the environment's own time limit).
#' @param seed Seed: the same seed gives the same tables, in R and in Python.
#' @param verbose Show progress: a message after every tenth of the episodes (their mean return).
#' @returns A `selfsup_rl_tabular` agent (see [rl_value_iteration()]) with `visits` (how often
#'   each state-action pair was updated) and `history` per episode (`episode`, `return`,
#'   `length`, `epsilon`); `plot()` shows the learning curve.
#' @family reinforcement
#' @seealso Python: `selfsup.reinforcement.rl_monte_carlo()`, `rl_q_learning()`.
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' mc <- rl_monte_carlo("Blackjack-v1", episodes = 5000, seed = 1)
#' rl_evaluate(mc, episodes = 500, seed = 2)
#' q <- rl_q_learning("FrozenLake-v1", episodes = 2000, seed = 1)
#' plot(q)
#' @export
rl_monte_carlo <- function(env = "Blackjack-v1", episodes = 500000, gamma = 1, epsilon = 0.1,
                           epsilon_end = NULL, first_visit = TRUE, alpha = NULL, max_steps = 1000,
                           seed = NULL, verbose = TRUE) {
  as_r_agent(py_call(
    selfsup_py$rl_monte_carlo, as_py_env(env), episodes = as_py_int(episodes, "episodes"), gamma = as_py_num(gamma, "gamma"),
    epsilon = as_py_num(epsilon, "epsilon"), epsilon_end = as_py_num(epsilon_end, "epsilon_end", null_ok = TRUE),
    first_visit = as_py_bool(first_visit, "first_visit"), alpha = as_py_num(alpha, "alpha", null_ok = TRUE),
    max_steps = as_py_int(max_steps, "max_steps"), seed = as_py_seed(seed), verbose = as_py_bool(verbose, "verbose")
  ))
}

#' @rdname rl_monte_carlo
#' @export
rl_q_learning <- function(env = "FrozenLake-v1", episodes = 20000, gamma = 0.99, alpha = 0.1, epsilon = 0.1,
                          epsilon_end = NULL, max_steps = 1000, seed = NULL, verbose = TRUE) {
  as_r_agent(py_call(
    selfsup_py$rl_q_learning, as_py_env(env), episodes = as_py_int(episodes, "episodes"), gamma = as_py_num(gamma, "gamma"),
    alpha = as_py_num(alpha, "alpha"), epsilon = as_py_num(epsilon, "epsilon"),
    epsilon_end = as_py_num(epsilon_end, "epsilon_end", null_ok = TRUE), max_steps = as_py_int(max_steps, "max_steps"),
    seed = as_py_seed(seed), verbose = as_py_bool(verbose, "verbose")
  ))
}

#' Deep Q-learning (DQN)
#'
#' A Q-network (an MLP on the torch core, GPU when present) learns from a replay buffer of the
#' agent's own transitions, with a target network and epsilon-greedy exploration. Defaults are
#' tuned for CartPole-v1.
#'
#' @param env An environment id or [rl_env()] object with vector observations and discrete actions.
#' @param steps Environment steps of training.
#' @param gamma Discount in (0, 1].
#' @param lr Adam's learning rate.
#' @param batch_size Transitions per gradient step.
#' @param buffer_size Transitions kept in the replay buffer.
#' @param learning_starts Steps of random actions before learning starts.
#' @param train_every,gradient_steps Every `train_every` steps, take `gradient_steps` gradient steps.
#' @param target_update Steps between copies of the online network into the target network.
#' @param epsilon,epsilon_end,exploration_fraction Exploration decays linearly from `epsilon` to
#'   `epsilon_end` over this share of the steps.
#' @param hidden Widths of the hidden layers.
#' @param double Use Double DQN targets.
#' @param max_grad_norm Gradient clipping.
#' @param lr_decay Decay the learning rate linearly to 0 by the last step.
#' @param keep_best If > 0, keep the weights with the best mean return over this many consecutive
#'   training episodes (a heuristic against a late collapse of the policy; no extra steps); 0 keeps
#'   the last weights.
#' @param seed Seed for the network, environment, exploration and replay sampling.
#' @param device `"auto"` (GPU when available), `"cpu"` or `"cuda"`.
#' @param verbose Show progress.
#' @returns A `selfsup_rl_dqn` agent: `model` (the Q-network, a `selfsup_model`), `history`
#'   (per training episode: `episode`, `step`, `return`, `length`, `epsilon`, `loss`), `seconds`,
#'   `best_episode` (the episode after which the kept weights were saved; `NULL`: the last weights).
#' @family reinforcement
#' @seealso Python: `selfsup.reinforcement.rl_dqn()`.
#' @examplesIf selfsup_available()
#' agent <- rl_dqn("CartPole-v1", steps = 600, learning_starts = 200, train_every = 100,
#'                 gradient_steps = 10, hidden = 32, seed = 1, device = "cpu", verbose = FALSE)
#' agent
#' rl_evaluate(agent, episodes = 5, seed = 2)
#' @export
rl_dqn <- function(env = "CartPole-v1", steps = 100000, gamma = 0.99, lr = 0.0023, batch_size = 64,
                   buffer_size = 100000, learning_starts = 1000, train_every = 256, gradient_steps = 128,
                   target_update = 10, epsilon = 1, epsilon_end = 0.04, exploration_fraction = 0.16,
                   hidden = c(256, 256), double = TRUE, max_grad_norm = 10, lr_decay = TRUE, keep_best = 0,
                   seed = NULL, device = "auto", verbose = TRUE) {
  if (!is.numeric(hidden) || !length(hidden)) stop_value("hidden", "one or more layer widths", hidden)
  hidden <- lapply(seq_along(hidden), function(i) as_py_int(hidden[[i]], sprintf("hidden[%d]", i)))
  as_r_agent(py_call(
    selfsup_py$rl_dqn, as_py_env(env), steps = as_py_int(steps, "steps"), gamma = as_py_num(gamma, "gamma"), lr = as_py_num(lr, "lr"),
    batch_size = as_py_int(batch_size, "batch_size"), buffer_size = as_py_int(buffer_size, "buffer_size"),
    learning_starts = as_py_int(learning_starts, "learning_starts"),
    train_every = as_py_int(train_every, "train_every"), gradient_steps = as_py_int(gradient_steps, "gradient_steps"),
    target_update = as_py_int(target_update, "target_update"),
    epsilon = as_py_num(epsilon, "epsilon"), epsilon_end = as_py_num(epsilon_end, "epsilon_end"),
    exploration_fraction = as_py_num(exploration_fraction, "exploration_fraction"), hidden = hidden,
    double = as_py_bool(double, "double"), max_grad_norm = as_py_num(max_grad_norm, "max_grad_norm"), lr_decay = as_py_bool(lr_decay, "lr_decay"),
    keep_best = as_py_int(keep_best, "keep_best"),
    seed = as_py_seed(seed), device = as_py_str(device, "device"), verbose = as_py_bool(verbose, "verbose")
  ))
}

#' Evaluate a policy: mean return and success rate
#'
#' @param policy An agent from an `rl_*` function, `"random"`, one action per state (a factor of
#'   action names or 1-based integers), or a function of the observation returning an action.
#' @param env An environment id or [rl_env()] object; default: the agent's own environment.
#' @param episodes Number of episodes.
#' @param max_steps Cut episodes longer than this. An episode cut here has not ended, so it never
#'   counts as a success (CartPole's success is reaching the environment's own time limit).
#' @param seed Seed of the environment (and of a random policy).
#' @returns A `selfsup_rl_evaluation`: `mean_return`, `std_return`, `success_rate` (reaching the
#'   goal; winning at Blackjack; balancing to the time limit in CartPole), `mean_length`, and per
#'   episode `returns`, `lengths`, `successes`.
#' @family reinforcement
#' @seealso Python: `selfsup.reinforcement.rl_evaluate()`.
#' @examplesIf selfsup_available()
#' rl_evaluate("random", "CartPole-v1", episodes = 20, seed = 1)
#' vi <- rl_value_iteration("FrozenLake-v1")
#' rl_evaluate(vi, episodes = 200, seed = 1)
#' @export
rl_evaluate <- function(policy, env = NULL, episodes = 100, max_steps = 10000, seed = NULL) {
  as_r_evaluation(py_call(
    selfsup_py$rl_evaluate, as_py_policy(policy), as_py_env(env), episodes = as_py_int(episodes, "episodes"),
    max_steps = as_py_int(max_steps, "max_steps"), seed = as_py_seed(seed)
  ))
}

#' Record one episode to watch
#'
#' @inheritParams rl_evaluate
#' @returns A `selfsup_rl_episode`: `frames` (text: gymnasium's drawing of text environments,
#'   else a one-line description per step; `print()` shows them one after another), `actions`
#'   (1-based), `action_names`, `rewards`, `total_return`, `success`, and `rgb` images where the
#'   environment draws them without extra packages (else `NULL`).
#' @family reinforcement
#' @seealso Python: `selfsup.reinforcement.rl_play()`.
#' @examplesIf selfsup_available()
#' ep <- rl_play(rl_value_iteration("FrozenLake-v1"), seed = 1)
#' length(ep$frames)
#' ep
#' @export
rl_play <- function(policy, env = NULL, max_steps = 1000, seed = NULL) {
  as_r_episode(py_call(
    selfsup_py$rl_play, as_py_policy(policy), as_py_env(env), max_steps = as_py_int(max_steps, "max_steps"),
    seed = as_py_seed(seed)
  ))
}

# ---------------------------------------------------------------------------------- S3 methods
#' @export
print.selfsup_rl_agent <- function(x, ...) {
  cat(py_description(x$py), "\n", sep = "")
  if (inherits(x, "selfsup_rl_tabular")) {
    shown <- utils::head(data.frame(value = x$values, policy = x$policy), 16)
    print(shown)
    if (length(x$values) > 16) cat(sprintf("... %d more states ($values, $policy, $q)\n", length(x$values) - 16))
  }
  cat("Learning curve: plot(x) or as.data.frame(x)\n")
  invisible(x)
}

#' Learning curve of an RL agent
#'
#' @param x A `selfsup_rl_agent`.
#' @param row.names,optional Unused (for the generic).
#' @param ... Unused.
#' @returns The agent's `history`: one row per sweep (value/policy iteration) or per episode.
#' @examplesIf selfsup_available()
#' q <- rl_q_learning("FrozenLake-v1", episodes = 500, seed = 1)
#' head(as.data.frame(q))
#' @export
as.data.frame.selfsup_rl_agent <- function(x, row.names = NULL, optional = FALSE, ...) {
  x$history
}

#' Plot an RL agent's learning curve
#'
#' Learners (Monte Carlo, Q-learning, DQN): the return of each episode as faint points, and its
#' moving average over `window` episodes as a bold line on top. Value and policy iteration: the largest value change per sweep (log scale).
#' ggplot2 when installed, base graphics otherwise.
#'
#' @param x A `selfsup_rl_agent`.
#' @param y Unused.
#' @param window Episodes per moving average (default: 1/50 of the episodes, at least 1).
#' @param ... Unused.
#' @returns A ggplot object (or `NULL` invisibly with base graphics).
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' plot(rl_q_learning("FrozenLake-v1", episodes = 2000, seed = 1))
#' plot(rl_value_iteration("FrozenLake-v1"))
#' @export
plot.selfsup_rl_agent <- function(x, y, window = NULL, ...) {
  h <- x$history
  if ("delta" %in% names(h)) {
    d <- data.frame(step = h$iteration, value = pmax(h$delta, .Machine$double.eps), curve = "largest value change")
    labels <- list(x = "sweep", y = "max |V_new - V_old|", title = paste(x$method, "on", x$env_id %||% "a given MDP"))
  } else {
    window <- as_py_int(window %||% max(1, nrow(h) %/% 50), "window")
    steps <- if ("step" %in% names(h)) h$step else h$episode
    smooth <- as.vector(stats::filter(h$return, rep(1 / window, window), sides = 1))
    curves <- c("return of each episode", sprintf("mean of %d episodes", window))
    d <- rbind(data.frame(step = steps, value = h$return, curve = curves[1]),
               data.frame(step = steps, value = smooth, curve = curves[2]))
    d <- d[!is.na(d$value), ]
    d$curve <- factor(d$curve, levels = curves)
    labels <- list(x = if ("step" %in% names(h)) "environment step" else "episode", y = "return",
                   title = paste(x$method, "on", x$env_id))
  }
  if ("delta" %in% names(h)) return(plot_curve(d, labels, log = TRUE))
  plot_returns(d, labels)
}

# Value/policy iteration: one line (the largest value change per sweep), log scale.
plot_curve <- function(d, labels, log) {
  if (requireNamespace("ggplot2", quietly = TRUE)) {
    return(ggplot2::ggplot(d, ggplot2::aes(step, value)) + ggplot2::geom_line() + ggplot2::scale_y_log10() +
             ggplot2::theme_minimal() + ggplot2::labs(x = labels$x, y = labels$y, title = labels$title))
  }
  graphics::plot(d$step, d$value, type = "l", xlab = labels$x, ylab = labels$y, main = labels$title, log = "y")
  invisible(NULL)
}

# Learners: the raw returns as faint points (Blackjack's and FrozenLake's are -1/0/1: a line through
# them is a solid block), and their moving average drawn after them, bold, so it stays on top.
plot_returns <- function(d, labels) {
  raw <- d[d$curve == levels(d$curve)[1], ]
  avg <- d[d$curve == levels(d$curve)[2], ]
  colours <- stats::setNames(c("grey55", "#C0392B"), levels(d$curve))
  if (requireNamespace("ggplot2", quietly = TRUE)) {
    return(ggplot2::ggplot(mapping = ggplot2::aes(step, value, colour = curve)) +
      ggplot2::geom_point(data = raw, size = 0.6, alpha = min(0.5, 50 / nrow(raw) + 0.05), shape = 16) +
      ggplot2::geom_line(data = avg, linewidth = 1.1) +
      ggplot2::scale_colour_manual(values = colours, drop = FALSE) +
      ggplot2::guides(colour = ggplot2::guide_legend(override.aes = list(alpha = 1, size = 2, linewidth = 1))) +
      ggplot2::theme_minimal() + ggplot2::theme(legend.position = "bottom") +
      ggplot2::labs(x = labels$x, y = labels$y, colour = NULL, title = labels$title))
  }
  graphics::plot(raw$step, raw$value, pch = 16, cex = 0.4, col = grDevices::adjustcolor(colours[1], 0.3),
                 xlab = labels$x, ylab = labels$y, main = labels$title)
  graphics::lines(avg$step, avg$value, col = colours[2], lwd = 2.5)
  graphics::legend("bottomright", legend = levels(d$curve), col = colours, pch = c(16, NA), lty = c(NA, 1),
                   lwd = c(NA, 2.5), bty = "n")
  invisible(NULL)
}

#' @export
print.selfsup_rl_evaluation <- function(x, ...) {
  cat(sprintf(paste0("Evaluation on %s: %s episodes\n  mean return  %.4f (sd %.3f)\n",
                     "  success rate %.4f\n  mean length  %.1f steps\n"),
              x$env_id %||% "?", format(x$episodes, big.mark = ","), x$mean_return, x$std_return,
              x$success_rate, x$mean_length))
  invisible(x)
}

#' @export
print.selfsup_rl_episode <- function(x, ...) {
  frames <- if (ansi_colours()) x$frames else plain_frames(x$frames)
  for (frame in frames) cat(frame, "\n", sep = "")
  end <- if (x$success) "success" else if (x$truncated) "cut at the step limit" else "failure"
  cat(sprintf("%s: %d steps, return %g (%s)\n", x$env_id %||% "episode", length(x$actions), x$total_return, end))
  invisible(x)
}

# gymnasium draws text environments with ANSI colours: the agent's cell on a coloured background
# (FrozenLake, Taxi), places in coloured letters. Where colours do not show (knitr, a file, a dumb
# terminal) the agent's cell becomes "@" and the letters stay, without the escape codes.
ansi_colours <- function() {
  (isatty(stdout()) || nzchar(Sys.getenv("RSTUDIO"))) && Sys.getenv("TERM") != "dumb" &&
    !isTRUE(getOption("knitr.in.progress"))
}

plain_frames <- function(frames) {
  frames <- gsub("\033\\[(?:[0-9]+;)*4[0-7]m.\033\\[0m", "@", frames, perl = TRUE)   # background: the agent
  gsub("\033\\[[0-9;]*m", "", frames, perl = TRUE)
}

# Column names used inside ggplot2::aes().
utils::globalVariables(c("step", "curve"))
