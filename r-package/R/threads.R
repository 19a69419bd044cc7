#' How many CPU threads selfsup trains and predicts with
#'
#' By default each call picks its threads from the size of its work: one step of too little work to
#' split across cores (the seminar's batch of one image) runs on one thread, which is several times
#' faster than a thread pool there; larger work (from about 0.1 GFLOP a step, such as the seminar CNN
#' at batch 64) uses torch's threads. Models trained side by side ([fit_replicates()]) whose steps
#' run on one thread are shared among torch's threads instead, each thread stepping its own group
#' (the same models, bit for bit). Torch's own setting is restored after each call. The linear
#' probe's logistic regressions ([ssl_evaluate()]) run their matrix products (BLAS) on one thread,
#' which on two cores was 3 to 5 times faster than on both; `set_threads(n)` gives them n threads.
#' `set_threads(n)` fixes the number for every call from now on; `set_threads(NULL)` returns to the
#' automatic choice. The environment variable `SELFSUP_THREADS` does the same when set before
#' selfsup's Python core starts (for example in `.Renviron`). On a machine busy with other jobs,
#' `set_threads(1)` is faster. Results are the same bit for bit only at the same number of threads
#' (sums split over threads round differently); on one thread they are exactly those of the
#' automatic choice's one-thread calls.
#'
#' @param n A whole number of threads, or `NULL` for the automatic choice.
#' @returns The previous setting (a number, or `NULL`), invisibly, to restore it later.
#' @family model
#' @seealso Python: `selfsup.set_threads()`.
#' @examplesIf selfsup_available()
#' before <- set_threads(1)
#' set_threads(before)
#' @export
set_threads <- function(n = NULL) {
  invisible(py_call(selfsup_py$set_threads, as_py_int(n, "n")))
}
