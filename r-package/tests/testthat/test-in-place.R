# A model changed in place keeps the bytes saveRDS() stores in step with its Python side, however the
# change ends: returned, an R error (training diverged: the weights from before the epoch are kept),
# or Ctrl-C (the partial training is kept).
skip_if_no_selfsup_python()
skip_on_os("windows")   # Ctrl-C is sent with tools::pskill(SIGINT)

# Runs `expr` and presses Ctrl-C (SIGINT to this process) when the first epoch's summary line
# arrives; the interrupt reaches R once the line's message() has returned to Python.
interrupted <- function(expr) {
  sent <- FALSE
  tryCatch(withCallingHandlers(expr, message = function(m) {
    if (!sent) {
      sent <<- TRUE
      tools::pskill(Sys.getpid(), tools::SIGINT)
    }
    invokeRestart("muffleMessage")
  }), interrupt = function(e) "interrupt")
}

# What readRDS() would rebuild the model from: the model of its kept bytes.
kept <- function(m) now(selfsup:::as_r_model(selfsup:::py_call(selfsup:::py_bridge()$model_from_bytes,
                                                               .subset2(m, "state")$bytes)))
now <- function(m) list(history = m$history, weights = get_weights(m), layers = m$layers)
expect_same_model <- function(a, b, info = NULL) {
  expect_identical(a$history, b$history, info = info)
  expect_identical(a$layers, b$layers, info = info)
  expect_true(identical(a$weights, b$weights), info = paste(info, "weights"))   # (waldo cannot print 4-d arrays)
}

test_that("a diverged or interrupted fit leaves saveRDS() the model's current weights and history (new session)", {
  s <- small_digits(64)
  diverged <- build_model(c(8, 8), levels(s$y), seed = 1)
  # one batch per epoch: epoch 1's step leaves finite weights near 1e30, epoch 2's loss is NaN
  expect_error(fit(diverged, s$x, s$y, epochs = 3, batch_size = 64, lr = 1e30, seed = 1, device = "cpu",
                   verbose = FALSE), "Training diverged: the loss became nan at epoch 2")
  expect_equal(nrow(diverged$history), 1L)
  stopped <- build_model(c(8, 8), levels(s$y), seed = 1)
  expect_identical(interrupted(fit_supervised(s$x, s$y, model = stopped, epochs = 50, batch_size = 8, seed = 1,
                                              device = "cpu")), "interrupt")
  expect_equal(nrow(stopped$history), 1L)
  side <- list(build_model(c(8, 8), levels(s$y), seed = 1), build_model(c(8, 8), levels(s$y), seed = 2))
  expect_identical(interrupted(fit_replicates(side, s$x, s$y, list(1:32, 33:64), seeds = 1:2, epochs = 50,
                                              batch_size = 8, device = "cpu")), "interrupt")
  models <- c(list(diverged, stopped), side)

  file <- tempfile(fileext = ".rds")
  out_file <- tempfile(fileext = ".rds")
  saveRDS(models, file)
  code <- sprintf(paste("library(selfsup); ms <- readRDS('%s');",
                        "saveRDS(lapply(ms, function(m) list(history = m$history, weights = get_weights(m), layers = m$layers)),",
                        "'%s')"),
                  file, out_file)
  out <- system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", "-e", shQuote(code)), stdout = TRUE,
                 stderr = TRUE, env = paste0("R_LIBS=", paste(.libPaths(), collapse = ":")))
  expect_true(file.exists(out_file), info = paste(out, collapse = "\n"))
  back <- readRDS(out_file)
  for (i in seq_along(models)) expect_same_model(back[[i]], now(models[[i]]), sprintf("model %d", i))
})

test_that("every wrapper that trains a model in place refreshes its kept bytes when interrupted", {
  s <- small_digits(64)
  y <- s$y
  y[-(1:30)] <- NA
  m <- build_model(c(8, 8), levels(s$y), seed = 1)
  expect_identical(interrupted(fit_pseudo_label(s$x, y, model = m, rounds = 5, threshold = 0, batch_size = 8,
                                                seed = 1, device = "cpu")), "interrupt")
  expect_same_model(kept(m), now(m))
  rows <- nrow(m$history)
  expect_identical(interrupted(fit_fixmatch(s$x, y, model = m, mu = 1, epochs = 5, batch_size = 8, seed = 1,
                                            device = "cpu")), "interrupt")
  expect_gt(nrow(m$history), rows)
  expect_same_model(kept(m), now(m))
})

test_that("freezing, unfreezing and new weights are kept", {
  m <- build_model(c(8, 8), 3, seed = 1)
  freeze_weights(m, to_layer = "drop2")
  expect_same_model(kept(m), now(m))
  expect_false(any(kept(m)$layers$trainable[1:6]))
  unfreeze_weights(m, from_layer = 2)
  expect_same_model(kept(m), now(m))
  w <- get_weights(build_model(c(8, 8), 3, seed = 2))
  set_weights(m, w)
  expect_identical(kept(m)$weights, w)
})
