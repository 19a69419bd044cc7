# Reinforcement learning from R: named tables, factors of actions, learning curves, errors.
# Tiny runs only (bench/rl_report.py has the real-size numbers).
skip_if_no_selfsup_python()


test_that("value iteration gives named value tables and a factor policy", {
  vi <- rl_value_iteration("FrozenLake-v1", gamma = 0.99)
  expect_s3_class(vi, "selfsup_rl_tabular")
  expect_equal(dim(vi$q), c(16L, 4L))
  expect_equal(colnames(vi$q), c("Left", "Down", "Right", "Up"))
  expect_equal(rownames(vi$q)[c(1, 16)], c("0:S", "15:G"))
  expect_equal(names(vi$values), rownames(vi$q))
  expect_s3_class(vi$policy, "factor")
  expect_equal(levels(vi$policy), c("Left", "Down", "Right", "Up"))
  expect_equal(unname(vi$values), unname(apply(vi$q, 1, max)))
  expect_equal(as.character(vi$policy[c("0:S", "14:F")]), c("Left", "Down"))
  expect_equal(unname(vi$values["0:S"]), 0.542, tolerance = 1e-3)
  expect_equal(names(vi$history), c("iteration", "delta"))
  expect_type(vi$history$iteration, "integer")
  pi <- rl_policy_iteration("FrozenLake-v1", gamma = 0.99)
  expect_equal(pi$values, vi$values, tolerance = 1e-6)
  expect_equal(names(pi$history), c("iteration", "delta", "policy_changes"))
})

test_that("a user-given MDP uses R's array indexing P[s, a, s']", {
  P <- array(0, c(2, 2, 2))
  P[1, 1, 1] <- 1  # state 1, "stay": stays (reward 1)
  P[1, 2, 2] <- 1  # state 1, "go": to state 2 (reward 0)
  P[2, , 2] <- 1   # state 2 keeps paying 2
  R <- matrix(c(1, 2, 0, 2), 2)
  vi <- rl_value_iteration(transitions = P, rewards = R, gamma = 0.9)
  expect_equal(unname(vi$values), c(18, 20), tolerance = 1e-8)
  expect_equal(as.integer(vi$policy), c(2L, 1L))
  expect_error(rl_value_iteration(transitions = P), "both `transitions`")
  expect_error(rl_value_iteration(transitions = P * 0.5, rewards = R), "`transitions` must hold probabilities")
})

test_that("Monte Carlo on Blackjack maps tuple observations to named states, seeded", {
  a <- rl_monte_carlo("Blackjack-v1", episodes = 200, seed = 2)
  b <- rl_monte_carlo("Blackjack-v1", episodes = 200, seed = 2)
  expect_equal(dim(a$q), c(704L, 2L))
  expect_equal(colnames(a$q), c("Stick", "Hit"))
  expect_true("(21,10,1)" %in% rownames(a$q))
  expect_identical(a$q, b$q)
  expect_identical(a$history, b$history)
  expect_equal(names(a$history), c("episode", "return", "length", "epsilon"))
  expect_type(a$visits, "integer")
})

test_that("Q-learning learns deterministic FrozenLake; evaluate and play take it", {
  lake <- rl_env("FrozenLake-v1", is_slippery = FALSE)
  q <- rl_q_learning(lake, episodes = 400, alpha = 0.5, epsilon = 1, epsilon_end = 0.1, seed = 0)
  ev <- rl_evaluate(q, episodes = 3, seed = 0)
  expect_s3_class(ev, "selfsup_rl_evaluation")
  expect_equal(ev$success_rate, 1)
  expect_equal(ev$lengths, rep(6L, 3))
  ep <- rl_play(q, seed = 0)
  expect_s3_class(ep, "selfsup_rl_episode")
  expect_length(ep$frames, 7)
  expect_true(all(ep$actions %in% 1:4))
  expect_equal(ep$action_names, colnames(q$q)[ep$actions])
  expect_true(ep$success)
  expect_output(print(ep), "6 steps, return 1 \\(success\\)")
  shown <- capture.output(print(ep))          # not a terminal: no escape codes, the agent is "@"
  expect_false(any(grepl("\033", shown, fixed = TRUE)))
  expect_equal(shown[3:6], c("@FFF", "FHFH", "FFFH", "HFFG"))
})

test_that("policies can be factors, 1-based integers, R functions or 'random'", {
  vi <- rl_value_iteration("FrozenLake-v1")
  ref <- rl_evaluate(vi, episodes = 30, seed = 4)$returns
  expect_identical(rl_evaluate(vi$policy, "FrozenLake-v1", episodes = 30, seed = 4)$returns, ref)
  expect_identical(rl_evaluate(as.integer(vi$policy), "FrozenLake-v1", episodes = 30, seed = 4)$returns, ref)
  by_fun <- rl_evaluate(function(obs) vi$policy[obs + 1], "FrozenLake-v1", episodes = 30, seed = 4)
  expect_identical(by_fun$returns, ref)
  expect_lt(rl_evaluate("random", "FrozenLake-v1", episodes = 30, seed = 4)$success_rate, 0.5)
})

test_that("learning curves are data frames with a ggplot", {
  skip_if_not_installed("ggplot2")
  q <- rl_q_learning("FrozenLake-v1", episodes = 60, seed = 1)
  expect_s3_class(as.data.frame(q), "data.frame")
  expect_equal(nrow(as.data.frame(q)), 60)
  p <- plot(q)
  expect_s3_class(p, "ggplot")
  geoms <- vapply(p$layers, function(l) class(l$geom)[1], "")
  expect_equal(geoms, c("GeomPoint", "GeomLine"))           # the moving average is drawn last: on top
  expect_equal(nrow(p$layers[[2]]$data), 60 - 1 + 1)        # window 1 for 60 episodes: every episode
  expect_s3_class(plot(rl_value_iteration("FrozenLake-v1")), "ggplot")
  expect_output(print(q), "q_learning")
})

test_that("DQN returns its Q-network as a selfsup model, seeded", {
  args <- list("CartPole-v1", steps = 200, learning_starts = 50, train_every = 50, gradient_steps = 2,
               hidden = 8, seed = 3, device = "cpu", verbose = FALSE)
  a <- do.call(rl_dqn, args)
  b <- do.call(rl_dqn, args)
  expect_s3_class(a, "selfsup_rl_dqn")
  expect_s3_class(a$model, "selfsup_model")
  expect_equal(a$model$classes, c("Left", "Right"))
  expect_identical(a$history, b$history)
  expect_identical(get_weights(a$model), get_weights(b$model))
  expect_equal(names(a$history), c("episode", "step", "return", "length", "epsilon", "loss"))
  expect_s3_class(plot(a), "ggplot")
  expect_match(rl_play(a, seed = 0)$frames[1], "cart at")
})

test_that("bad input gives R errors naming the argument", {
  expect_error(rl_value_iteration("NoSuchEnv-v0"), "`env` 'NoSuchEnv-v0' is not a registered gymnasium")
  expect_error(rl_q_learning("MountainCarContinuous-v0"), "continuous or structured action space")
  expect_error(rl_monte_carlo("CartPole-v1", episodes = 1), "is tabular")
  expect_error(rl_value_iteration("FrozenLake-v1", gamma = 0), "`gamma` must be in \\(0.0, 1.0\\]")
  expect_error(rl_q_learning(gamma = 1.5), "`gamma` must be in")
  expect_error(rl_monte_carlo(episodes = 0), "`episodes` must be at least 1; got 0")
  expect_error(rl_q_learning(episodes = 2.5), "`episodes` must be a single whole number")
  expect_error(rl_evaluate("random", "FrozenLake-v1", episodes = 0), "`episodes` must be at least 1")
  expect_error(rl_evaluate(list(1), "FrozenLake-v1"), "`policy` must be an agent")
  expect_error(rl_value_iteration(42), "`env` must be a gymnasium environment id")
})

test_that("an episode cut by max_steps is not a success (CartPole's own time limit is)", {
  ev <- rl_evaluate("random", "CartPole-v1", episodes = 4, max_steps = 5, seed = 0)
  expect_equal(ev$success_rate, 0)
  expect_equal(ev$lengths, rep(5L, 4))
  ep <- rl_play("random", "CartPole-v1", max_steps = 5, seed = 0)
  expect_false(ep$success)
  expect_output(print(ep), "5 steps, return 5 \\(cut at the step limit\\)")
  short <- rl_evaluate("random", rl_env("CartPole-v1", max_episode_steps = 3L), episodes = 4, max_steps = 5, seed = 0)
  expect_equal(short$success_rate, 1)
})
