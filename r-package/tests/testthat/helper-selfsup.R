# Shared by every test file: small data, shared constants, and the golden outputs.

# One torch thread, as pytest and shared-data/make_golden.py use (same numbers, and tiny
# batches run 10x faster than with a thread pool on a busy 2-core machine).
reticulate::import("torch")$set_num_threads(1L)
shared_data <- function(...) {
  # tests run from r-package/tests/testthat; shared-data/ sits at the repository root
  file.path(testthat::test_path("..", "..", "..", "shared-data"), ...)
}

digits <- local({
  cache <- NULL
  function() {
    if (is.null(cache)) cache <<- load_dataset("digits")
    cache
  }
})

small_digits <- function(n = 200, k = 60) {
  d <- digits()
  list(x = d$train$x[seq_len(n), , ], y = d$train$y[seq_len(n)],
       xt = d$test$x[seq_len(k), , ], yt = d$test$y[seq_len(k)])
}

quick_fit <- function(..., epochs = 2, seed = 1) {
  fit_supervised(..., epochs = epochs, batch_size = 32, seed = seed, device = "cpu", verbose = FALSE)
}
