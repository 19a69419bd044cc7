# `make report`: the seminar as one self-contained HTML page. Runs seminar.R (as `make seminar`)
# unless SEMINAR_OUT already holds a finished run of the same preset and data, then renders
# r-package/inst/seminar/report.Rmd over its outputs into SEMINAR_OUT/seminar-report.html.
# Environment: SEMINAR_PRESET (full, quick, tiny), SEMINAR_DATASET / SEMINAR_DATA, SEMINAR_OUT,
# SEMINAR_SEED, SEMINAR_DEVICE (as seminar.R reads them), BEST_PIPELINE (a CSV to show), RERUN=1.
setting <- function(name, default) if (nzchar(Sys.getenv(name))) Sys.getenv(name) else default
out <- setting("SEMINAR_OUT", "seminar-output")
preset <- setting("SEMINAR_PRESET", "full")
dataset <- setting("SEMINAR_DATASET", if (nzchar(Sys.getenv("SEMINAR_DATA"))) "mnist" else "fashion_mnist")
script <- normalizePath("r-package/inst/seminar/seminar.R", mustWork = TRUE)

run_file <- file.path(out, "run-r.csv")
previous <- if (file.exists(run_file)) utils::read.csv(run_file, stringsAsFactors = FALSE)
reuse <- !nzchar(Sys.getenv("RERUN")) && !is.null(previous) && previous$preset == preset &&
  previous$data == dataset && file.exists(file.path(out, "results-r.csv"))
if (reuse) {
  message(sprintf("report: reusing the %s run in %s (%s; RERUN=1 runs seminar.R again)", preset, out,
                  previous$finished))
} else {
  message(sprintf("report: running seminar.R (preset %s, %s) into %s", preset, dataset, out))
  status <- system2(file.path(R.home("bin"), "Rscript"), shQuote(script),
                    env = c(sprintf("SEMINAR_PRESET=%s", preset), sprintf("SEMINAR_DATASET=%s", dataset),
                            sprintf("SEMINAR_OUT=%s", out)))
  if (status != 0) stop("seminar.R failed (exit status ", status, "); no report.", call. = FALSE)
}
options(rmarkdown.html_vignette.check_title = FALSE)   # a report, not a vignette: no index entry
html <- rmarkdown::render("r-package/inst/seminar/report.Rmd", output_dir = normalizePath(out),
                          output_file = "seminar-report.html", intermediates_dir = tempdir(), quiet = TRUE,
                          params = list(out = normalizePath(out), script = script,
                                        best_pipeline = Sys.getenv("BEST_PIPELINE")))
message(sprintf("report: %s (%.0f KB, self-contained)", html, file.size(html) / 1024))
