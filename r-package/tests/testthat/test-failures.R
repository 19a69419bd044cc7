# Failures explained from R: training that blows up, out of memory, numbers float32 cannot hold.
skip_if_no_selfsup_python()

test_that("training that blows up stops with an R error and keeps the last finite weights", {
  s <- small_digits()
  m <- quick_fit(s$x, s$y)
  w <- get_weights(m)
  expect_error(quick_fit(s$x, s$y, model = m, lr = 1e30),
               "Training diverged: the loss became nan at epoch 3, batch \\d+ of 7\\. Try a smaller `lr`")
  expect_identical(get_weights(m), w)
  expect_equal(nrow(m$history), 2)
})

test_that("out of memory names `batch_size` and a size that fits, from R", {
  # torch's own text, raised where a batch runs (a real one would need 40 GB)
  reticulate::py_run_string(paste(
    "import selfsup.train as _t, selfsup.memory as _m",
    "_saved = (_t._step_forward, _m.free_bytes)",
    "def _oom(*args):",
    "    raise RuntimeError(\"DefaultCPUAllocator: can't allocate memory: you tried to allocate 40140800000 bytes.\")",
    "_t._step_forward, _m.free_bytes = _oom, lambda device: 10 * 10**9",
    sep = "\n"))
  on.exit(reticulate::py_run_string("_t._step_forward, _m.free_bytes = _saved"))
  s <- small_digits()
  e <- expect_error(fit_supervised(s$x, s$y, epochs = 1, batch_size = 64, device = "cpu", verbose = FALSE),
                    paste("Out of memory on the CPU: a batch of `batch_size` = 64 needs 40.1 GB more than the 10 GB free.",
                          "Lower `batch_size`: about 4 should fit."), fixed = TRUE)
  expect_s3_class(e, "selfsup_MemoryError")    # OutOfMemory is a MemoryError, as torch's is
})

test_that("a Python error is an R error: our message alone, the Python type among its classes", {
  s <- small_digits()
  x <- s$x * 1.0
  x[1, 1, 1] <- 1e300
  e <- tryCatch(quick_fit(x, s$y), error = identity)
  expect_s3_class(e, c("selfsup_ValueError", "selfsup_error", "error", "condition"), exact = TRUE)
  expect_identical(conditionMessage(e), paste("`x` holds values too large for float32 (largest magnitude 1e+300;",
                                              "float32 holds up to 3.4e+38); rescale them first."))
  expect_null(conditionCall(e))
  # the Python class and its bases: TrainingDiverged is a FloatingPointError, an ArithmeticError
  expect_error(quick_fit(s$x, s$y, lr = 1e30), "^Training diverged", class = "selfsup_TrainingDiverged")
  expect_error(quick_fit(s$x, s$y, lr = 1e30), class = "selfsup_ArithmeticError")
})

test_that("values too large for float32 are named as such, not as NA", {
  s <- small_digits()
  x <- s$x * 1.0
  x[1, 1, 1] <- 1e300
  expect_error(quick_fit(x, s$y), "`x` holds values too large for float32 (largest magnitude 1e+300", fixed = TRUE)
})
