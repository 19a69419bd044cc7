# Shared by every test file: small data, shared constants, and the golden outputs.

# Where selfsup's Python core or the shared golden data are absent (R CMD check of the tarball on
# a machine without them), tests skip with the reason; `make test` counts any skip as a failure.
has_selfsup_python <- selfsup_available()
skip_if_no_selfsup_python <- function() {
  testthat::skip_if_not(has_selfsup_python, "selfsup's Python core is not available (see install_selfsup())")
}

# One torch thread, as pytest and shared-data/make_golden.py use (same numbers, and tiny
# batches run 10x faster than with a thread pool on a busy 2-core machine).
if (has_selfsup_python) reticulate::import("torch")$set_num_threads(1L)

# shared-data/ sits at the repository root, three folders above r-package/tests/testthat; the
# tarball has no copy (SELFSUP_SHARED_DATA points at one, as `make check` does).
shared_data <- function(...) {
  root <- Sys.getenv("SELFSUP_SHARED_DATA")
  file.path(if (nzchar(root)) root else testthat::test_path("..", "..", "..", "shared-data"), ...)
}
skip_if_no_shared_data <- function() {
  testthat::skip_if_not(dir.exists(shared_data("golden")),
                        "the shared golden data are absent (shared-data/ of the source tree; set SELFSUP_SHARED_DATA)")
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
