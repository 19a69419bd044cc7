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
