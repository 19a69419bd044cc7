#' selfsup: the five types of learning, from R
#'
#' Every function calls the `selfsup` Python core (PyTorch) through reticulate and returns R
#' objects. The package loads without Python; the core is imported the first time a function
#' needs it.
#'
#' Which Python: `RETICULATE_PYTHON` when set, else the option `selfsup.python`, else the
#' Python recorded by `make install` (the project's `.venv`).
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
load_torch_deepbind <- function() {
  reticulate::py_run_string(local = TRUE, paste(
    "import os, sys",
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
  python <- getOption("selfsup.python", "")
  if (!nzchar(python)) {
    recorded <- system.file("python-path", package = pkgname)
    if (nzchar(recorded)) python <- readLines(recorded, n = 1L, warn = FALSE)
  }
  if (nzchar(python) && file.exists(python)) python else ""
}

python_missing <- function(error) {
  stop(
    "selfsup could not load its Python core (the `selfsup` Python package): ",
    conditionMessage(error), "\n",
    "Fix: run `make install` in the selfsup source folder, or point RETICULATE_PYTHON ",
    "(or options(selfsup.python = ...)) at a Python where `pip install -e python` was run.",
    call. = FALSE
  )
}

# Column names used inside ggplot2::aes().
utils::globalVariables(c("epoch", "value", "data", "metric"))
