# Values cross between R and Python through R/convert.R only: checked there, converted there.
skip_if_no_selfsup_python()

test_that("environment options from R are converted like task options (whole numbers as integers)", {
  lake <- rl_env("FrozenLake-v1", is_slippery = FALSE, max_episode_steps = 5)
  expect_identical(lake$spec$max_episode_steps, 5L)   # Python int, not 5.0
  expect_error(rl_env("FrozenLake-v1", is_slippery = NA), "`is_slippery` must be a value, not NA; got NA.",
               fixed = TRUE)
  expect_error(rl_env("FrozenLake-v1", FALSE), "options of the environment in `...` must be named", fixed = TRUE)
})

test_that("selfsup_device() checks `device` in R", {
  expect_error(selfsup_device(NA_character_), "`device` must be a single string; got NA.", fixed = TRUE)
  expect_error(selfsup_device(c("cpu", "cuda")), "`device` must be a single string; got 2 values", fixed = TRUE)
})

test_that("a whole number below R's integers is refused with the argument's own bound", {
  x <- array(0, c(4, 8, 8))
  # said "`epochs` must be at most 2147483647 (R's largest integer)" for a negative number
  expect_error(fit_supervised(x, c(0, 1, 0, 1), epochs = -3e9, device = "cpu", verbose = FALSE),
               "`epochs` must be at least 1; got -3000000000.", fixed = TRUE)
  expect_error(fit_supervised(x, c(0, 1, 0, 1), epochs = 3e9, device = "cpu", verbose = FALSE),
               "`epochs` must be at most 2147483647 (R's largest integer); got 3e+09.", fixed = TRUE)
})
