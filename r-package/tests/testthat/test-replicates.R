# fit_replicates(): side by side gives exactly the models that fit_supervised() one by one gives.
skip_if_no_selfsup_python()

replicate_setup <- function(n_models = 3, size = 26) {
  d <- digits()
  draws <- lapply(seq_len(n_models), function(r) sample_indices(nrow(d$train$x), size, seed = r))
  fresh <- function() {
    first <- build_model(c(8, 8), d$classes, seed = 0)
    c(list(first), lapply(seq_len(n_models - 1), function(i) clone_model(first)))
  }
  list(x = d$train$x, y = d$train$y, draws = draws, seeds = 10 + seq_len(n_models), fresh = fresh)
}

test_that("side by side equals fit_supervised() one model at a time", {
  s <- replicate_setup()
  alone <- s$fresh()
  for (i in seq_along(alone)) {
    fit_supervised(s$x[s$draws[[i]], , ], s$y[s$draws[[i]]], model = alone[[i]], epochs = 2, batch_size = 3,
                   validation_split = 0.2, seed = s$seeds[i], device = "cpu", verbose = FALSE)
  }
  together <- s$fresh()
  out <- fit_replicates(together, s$x, s$y, s$draws, seeds = s$seeds, epochs = 2, batch_size = 3,
                        validation_split = 0.2, side_by_side = TRUE, device = "cpu", verbose = FALSE)
  expect_identical(out, together)
  for (i in seq_along(alone)) {
    expect_identical(get_weights(together[[i]]), get_weights(alone[[i]]))
    expect_identical(together[[i]]$history, alone[[i]]$history)
  }
  expect_false(identical(get_weights(together[[1]]), get_weights(together[[2]])))
  expect_equal(names(together[[1]]$history), c("epoch", "loss", "accuracy", "val_loss", "val_accuracy"))
})

test_that("one after another (side_by_side = FALSE) gives the same models as side by side", {
  s <- replicate_setup(2)
  a <- s$fresh()
  b <- s$fresh()
  fit_replicates(a, s$x, s$y, s$draws, seeds = s$seeds, epochs = 1, batch_size = 4, side_by_side = FALSE,
                 device = "cpu", verbose = FALSE)
  fit_replicates(b, s$x, s$y, s$draws, seeds = s$seeds, epochs = 1, batch_size = 4, side_by_side = TRUE,
                 device = "cpu", verbose = FALSE)
  expect_identical(lapply(a, get_weights), lapply(b, get_weights))
})

test_that("bad input is an R error naming the argument, and the models stay untrained", {
  s <- replicate_setup(2)
  m <- s$fresh()
  w <- lapply(m, get_weights)
  go <- function(...) fit_replicates(..., epochs = 1, device = "cpu", verbose = FALSE)
  expect_error(go(m[[1]], s$x, s$y, s$draws), "`models` must be a non-empty list of selfsup models")
  expect_error(go(list(m[[1]], "x"), s$x, s$y, s$draws), "`models\\[\\[2\\]\\]` must be a selfsup model")
  expect_error(go(list(m[[1]], m[[1]]), s$x, s$y, s$draws), "`models[[1]]` and `models[[2]]` are the same model", fixed = TRUE)
  expect_error(go(m, s$x, s$y, s$draws[1]), "`subsets` has 1 index vectors but there are 2 models")
  expect_error(go(m, s$x, s$y, list(s$draws[[1]], c(0, 5))), "`subsets\\[\\[2\\]\\]` must hold positions 1..1437")
  expect_error(go(m, s$x, s$y, list(s$draws[[1]], c(1.5, 2))), "`subsets\\[\\[2\\]\\]` must be a non-empty vector of whole")
  expect_error(go(m, s$x, s$y, s$draws[[1]]), "`subsets` must be a list of index vectors")
  expect_error(go(m, s$x, s$y, s$draws, seeds = 1), "`seeds` has 1 values but there are 2 models")
  expect_error(go(m, s$x, s$y, s$draws, side_by_side = NA), "`side_by_side` must be TRUE, FALSE or NULL")
  expect_error(go(m, s$x, s$y, list(s$draws[[1]], s$draws[[2]][1:9]), side_by_side = TRUE),
               "`side_by_side` needs `subsets` of equal size")
  other <- list(m[[1]], build_model(c(8, 8), c("a", "b")))
  expect_error(go(other, s$x, s$y, s$draws), "`models\\[\\[2\\]\\]` has classes \\(a, b\\)")
  expect_identical(lapply(m, get_weights), w)
  expect_equal(nrow(m[[1]]$history), 0)
})
