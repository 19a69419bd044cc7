# Progress through R's condition system; Python warnings as R warnings (both through py_call()).

test_that("each epoch is one message that shows every metric, and suppressMessages() silences it", {
  s <- small_digits()
  msgs <- character()
  withCallingHandlers(
    fit_supervised(s$x, s$y, epochs = 2, batch_size = 32, validation_split = 0.2, seed = 1, device = "cpu"),
    message = function(m) {
      msgs <<- c(msgs, conditionMessage(m))
      invokeRestart("muffleMessage")
    })
  expect_length(msgs, 2)
  expect_match(msgs, "^Epoch [12]/2 - ")
  for (metric in c("loss", "accuracy", "val_loss", "val_accuracy")) expect_match(msgs, sprintf(" %s: [0-9.]+", metric))
  expect_silent(suppressMessages(fit_supervised(s$x, s$y, epochs = 1, seed = 1, device = "cpu")))
})

test_that("knitr captures the epoch lines, and tabular RL reports its progress", {
  skip_if_not_installed("knitr")
  s <- small_digits()
  env <- new.env()
  assign("s", s, envir = env)
  out <- knitr::knit(text = c("```{r}", "m <- fit_supervised(s$x, s$y, epochs = 1, seed = 1, device = 'cpu')", "```"),
                     quiet = TRUE, envir = env)
  expect_match(out, "## Epoch 1/1 - [0-9.]+s - loss: [0-9.]+ - accuracy: [0-9.]+")
  msgs <- character()
  withCallingHandlers(rl_q_learning("FrozenLake-v1", episodes = 100, seed = 1), message = function(m) {
    msgs <<- c(msgs, conditionMessage(m))
    invokeRestart("muffleMessage")
  })
  expect_equal(sub(" - .*", "", trimws(msgs)), sprintf("Episodes %d/100", seq(10, 100, 10)))
  expect_match(msgs, "mean_return: [0-9.]+ - epsilon: 0.1000")
  expect_silent(rl_monte_carlo("Blackjack-v1", episodes = 10, seed = 1, verbose = FALSE))
})

test_that("a Python warning is an R warning that R's handlers see", {
  s <- small_digits()
  y <- s$y
  y[-(1:40)] <- NA
  expect_warning(label_spreading(matrix(s$x, 200), y, max_iter = 1), "did not converge in `max_iter` = 1")
  seen <- 0
  withCallingHandlers(label_spreading(matrix(s$x, 200), y, max_iter = 1), warning = function(w) {
    seen <<- seen + 1
    invokeRestart("muffleWarning")
  })
  expect_equal(seen, 1)
  expect_silent(suppressWarnings(label_spreading(matrix(s$x, 200), y, max_iter = 1)))
})

test_that("nothing reaches the console around R's condition system (a fresh R process)", {
  code <- paste(
    "library(selfsup); d <- load_dataset('digits'); x <- d$train$x[1:100, , ]; y <- d$train$y[1:100]",
    "m <- suppressMessages(fit_supervised(x, y, epochs = 1, seed = 1, device = 'cpu'))",
    "y[-(1:30)] <- NA; r <- suppressWarnings(label_spreading(matrix(x, 100), y, max_iter = 1))",
    "cat('done\\n')", sep = "; ")
  out <- suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", "-e", shQuote(code)),
                                  stdout = TRUE, stderr = TRUE,
                                  env = paste0("R_LIBS=", paste(.libPaths(), collapse = ":"))))
  expect_identical(out, "done", info = paste(out, collapse = "\n"))
})
