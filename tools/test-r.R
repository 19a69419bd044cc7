# `make test-r`: the testthat suite against the installed selfsup package (what users get).
# Prints testthat's summary and a closing "N passed, N failed" line; exits non-zero on any failure.
res <- testthat::test_dir("r-package/tests/testthat", package = "selfsup", load_package = "installed",
                          reporter = testthat::SummaryReporter$new(show_praise = FALSE),
                          stop_on_failure = FALSE)
df <- as.data.frame(res)
failed <- sum(df$failed) + sum(df$error)
cat(sprintf("\ntestthat: %d passed, %d failed, %d skipped\n", sum(df$passed), failed, sum(df$skipped)))
quit(status = if (failed > 0 || sum(df$skipped) > 0) 1 else 0)
