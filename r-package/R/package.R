#' selfsup: the five types of learning, from R
#'
#' Every function calls the `selfsup` Python core (PyTorch) through reticulate and returns R
#' objects. The package loads without Python; the core is imported the first time a function
#' needs it.
#'
#' Which Python, first found: `RETICULATE_PYTHON`; the option `selfsup.python`; the environment
#' variable `SELFSUP_PYTHON`; the Python that [install_selfsup()] set up; the Python recorded by
#' `make install` in the installed package (the project's `.venv`). With none of these,
#' reticulate chooses. [selfsup_available()] says whether the core can be used.
#' @keywords internal
"_PACKAGE"

# The Python module, bound in .onLoad (delayed: importing happens on first use).
selfsup_py <- NULL

.onLoad <- function(libname, pkgname) {
  python <- selfsup_python(pkgname)
  if (nzchar(python) && !reticulate::py_available(initialize = FALSE)) {
    reticulate::use_python(python, required = FALSE)
  }
  selfsup_py <<- reticulate::import("selfsup", delay_load = list(before_load = load_torch_deepbind,
                                                                  on_error = python_missing))
}

# R has already loaded its own BLAS (Debian's reference BLAS) into the process when torch comes
# in; torch's matrix products would then bind to it: about 50x slower than the MKL that torch
# ships, and numbers that differ from the same call in Python. Loading torch with RTLD_DEEPBIND
# makes it resolve those symbols in its own libraries first. (Under rpy2, Python loads torch
# before R, and nothing needs doing.)
#
# Python's temporary files go into this R session's tempdir(), which R removes when it ends (torch
# makes a cache folder there; R CMD check counts anything left in the temp folder as detritus).
load_torch_deepbind <- function() {
  reticulate::py_run_string(local = TRUE, paste(
    "import os, sys, tempfile",
    sprintf("tempfile.tempdir = %s", encodeString(normalizePath(tempdir(), winslash = "/"), quote = "'")),
    "if 'torch' not in sys.modules and hasattr(os, 'RTLD_DEEPBIND'):",
    "    flags = sys.getdlopenflags()",
    "    sys.setdlopenflags(flags | os.RTLD_DEEPBIND)",
    "    try:",
    "        import torch",
    "    except ImportError:",
    "        pass  # importing selfsup then fails with the message of python_missing()",
    "    finally:",
    "        sys.setdlopenflags(flags)",
    sep = "\n"))
}

# The Python to use, unless reticulate is told otherwise: "" leaves the choice to reticulate.
selfsup_python <- function(pkgname = "selfsup") {
  if (nzchar(Sys.getenv("RETICULATE_PYTHON"))) return("")
  candidates <- c(getOption("selfsup.python", ""), Sys.getenv("SELFSUP_PYTHON"),
                  read_first_line(installed_python_record()),
                  read_first_line(system.file("python-path", package = pkgname)))
  found <- candidates[nzchar(candidates) & file.exists(candidates)]
  if (length(found)) found[[1]] else ""
}

# Where install_selfsup() records its Python (the user's config folder, not the library, which
# may not be writable); `make install` writes `python-path` into the installed package instead.
installed_python_record <- function() file.path(tools::R_user_dir("selfsup", "config"), "python-path")

read_first_line <- function(path) {
  if (!nzchar(path) || !file.exists(path)) return("")
  line <- readLines(path, n = 1L, warn = FALSE)
  if (length(line)) trimws(line) else ""
}

#' Is selfsup's Python core available?
#'
#' `TRUE` when the Python that selfsup uses (see [install_selfsup()] to set one up) has the
#' `selfsup` and `torch` modules. Checking starts that Python in this R session (without
#' importing torch) when it is not running yet. When no Python was set up for selfsup (none of
#' those listed in [selfsup-package]) and none is running, it is `FALSE` at once: it starts no
#' Python of reticulate's choosing (recent reticulate would download one).
#' @returns `TRUE` or `FALSE`.
#' @family setup
#' @examples
#' selfsup_available()
#' @export
selfsup_available <- function() {
  if (!reticulate::py_available(initialize = FALSE) && !nzchar(Sys.getenv("RETICULATE_PYTHON")) &&
      !nzchar(selfsup_python())) {
    return(FALSE)
  }
  tryCatch(reticulate::py_module_available("selfsup") && reticulate::py_module_available("torch"),
           error = function(e) FALSE)
}

python_missing <- function(error) {
  stop(
    "selfsup could not load its Python core (the `selfsup` Python package): ",
    conditionMessage(error), "\n",
    "Fix: run install_selfsup() (a virtual environment with torch and selfsup), or `make install` ",
    "in the selfsup source folder, or point RETICULATE_PYTHON (or options(selfsup.python = ...)) at a ",
    "Python where `pip install python/` was run; then restart R.",
    call. = FALSE
  )
}

# Column names used inside ggplot2::aes().
utils::globalVariables(c("epoch", "value", "data", "metric"))

# selfsup._r, the module every call goes through (py_call() in R/convert.R); imported on first use.
py_bridge <- local({
  bridge <- NULL
  function() {
    if (is.null(bridge)) {
      selfsup_py$`__version__`  # loads selfsup first (torch with RTLD_DEEPBIND, see above)
      bridge <<- reticulate::import("selfsup._r")
    }
    bridge
  }
})
