test_that("set_threads() fixes the threads, returns the previous setting, and NULL restores the rule", {
  skip_if_no_selfsup_python()
  before <- set_threads(1)
  on.exit(set_threads(before))
  expect_null(before)
  expect_identical(set_threads(NULL), 1L)
  expect_error(set_threads(0), "`n` must be at least 1; got 0")
  expect_error(set_threads(1.5), "`n` must be a single whole number")
})

test_that("fit_replicates(exact = FALSE) trains the replicates as one grouped network", {
  skip_if_no_selfsup_python()
  d <- digits()
  first <- build_model(c(8, 8), d$classes, seed = 1)
  models <- list(first, clone_model(first))
  draws <- lapply(1:2, function(r) sample_indices(nrow(d$train$x), 30, seed = r))
  fit_replicates(models, d$train$x, d$train$y, draws, seeds = 1:2, epochs = 2, batch_size = 4,
                 validation_split = 0.2, exact = FALSE, device = "cpu", verbose = FALSE)
  expect_identical(nrow(models[[2]]$history), 2L)
  expect_false(identical(get_weights(models[[1]]), get_weights(models[[2]])))
  expect_error(fit_replicates(models, d$train$x, d$train$y, draws, exact = NA), "`exact` must be TRUE or FALSE")
})
