#' Set up selfsup's Python side in one call
#'
#' Creates a Python virtual environment with torch and the selfsup Python package, and records
#' it so that every later R session uses it (see [selfsup_available()]). Needs only a Python 3.10
#' or newer with its `venv` module; everything else comes from pip. The selfsup Python package is
#' the one bundled with this R package (`system.file("python", package = "selfsup")`), or the
#' `python/` folder of the selfsup source tree that the working directory is in, or `source`.
#'
#' Running it again does nothing when the environment already has torch and this version of the
#' selfsup Python package (`force = TRUE` reinstalls). When something is missing, the error says
#' what and how to get it.
#'
#' @param envpath Folder of the virtual environment; default: a folder under
#'   `tools::R_user_dir("selfsup", "data")`.
#' @param python The Python 3 to create the environment with; default: `python3` (or `python`) on
#'   the `PATH`.
#' @param torch pip requirements for torch, installed first (the versions selfsup is tested with;
#'   pip picks the CPU or CUDA build for this machine).
#' @param source Folder of the selfsup Python package (the one holding `pyproject.toml`); default:
#'   the bundled copy, else the source tree around the working directory.
#' @param force Reinstall even when the environment is ready.
#' @param quiet Hide pip's output.
#' @returns The environment's Python executable, invisibly.
#' @family setup
#' @seealso [selfsup_device()] for the device training will use.
#' @examples
#' \dontrun{
#' install_selfsup()      # a few minutes the first time; seconds afterwards
#' selfsup_device()
#' }
#' @export
install_selfsup <- function(envpath = NULL, python = NULL, torch = "torch==2.14.1",
                            source = NULL, force = FALSE, quiet = TRUE) {
  envpath <- absolute_path(envpath %||% file.path(tools::R_user_dir("selfsup", "data"), "venv"))
  source <- find_python_source(source)
  want <- source_stamp(source)
  venv_python <- venv_executable(envpath)
  if (!isTRUE(force) && file.exists(venv_python) && identical(read_first_line(stamp_file(envpath)), want) &&
      python_has_core(venv_python)) {
    message("selfsup's Python side is ready in ", envpath, " (nothing to do; `force = TRUE` reinstalls).")
    return(invisible(record_python(venv_python)))
  }
  if (!file.exists(venv_python)) {
    base <- find_base_python(python)
    message("Creating a virtual environment in ", envpath, " with ", base)
    run_python(base, c("-m", "venv", envpath), "create the virtual environment",
               hint = "On Debian or Ubuntu the venv module is a package of its own: apt-get install python3-venv.")
  }
  pip <- function(args, what) {
    run_python(venv_python, c("-m", "pip", "install", "--disable-pip-version-check", if (quiet) "-q", args), what,
               hint = "pip needs to reach its package index (or a local mirror set up in pip.conf).")
  }
  message("Installing ", paste(torch, collapse = " "), " (pip; this takes a few minutes the first time)")
  pip(torch, "install torch")
  message("Installing the selfsup Python package from ", source)
  pip(copy_source(source), "install the selfsup Python package")
  if (!python_has_core(venv_python)) {
    stop("install_selfsup(): the environment in ", envpath, " was set up but cannot import selfsup and torch; ",
         "run it again with `force = TRUE, quiet = FALSE` to see pip's output.", call. = FALSE)
  }
  writeLines(want, stamp_file(envpath))
  record_python(venv_python)
  message("selfsup's Python side is ready: ", venv_python,
          if (reticulate::py_available(initialize = FALSE)) ". Restart R to use it (this session runs another Python)." else ".")
  invisible(venv_python)
}

# An absolute path, without resolving symbolic links (a venv's bin/python is a link to the base Python).
absolute_path <- function(path) {
  if (!is.character(path) || length(path) != 1L || is.na(path) || !nzchar(path)) {
    stop(sprintf("`envpath` must be a folder path (one string); got %s.", deparse(path)[1]), call. = FALSE)
  }
  path <- path.expand(path)
  if (grepl("^(/|[A-Za-z]:)", path)) path else file.path(getwd(), path)
}

venv_executable <- function(envpath) {
  if (.Platform$OS.type == "windows") file.path(envpath, "Scripts", "python.exe") else file.path(envpath, "bin", "python")
}

stamp_file <- function(envpath) file.path(envpath, "selfsup-source.md5")

# One line that changes whenever the Python package's source does: its files' md5 sums, hashed.
source_stamp <- function(source) {
  files <- sort(list.files(source, recursive = TRUE, pattern = "\\.(py|toml)$"))
  sums <- tools::md5sum(file.path(source, files))
  tmp <- tempfile()
  on.exit(unlink(tmp))
  writeLines(paste(files, sums), tmp)
  unname(tools::md5sum(tmp))
}

# The selfsup Python package: `source`, the bundled copy, or python/ in the source tree above getwd().
find_python_source <- function(source = NULL) {
  is_source <- function(dir) nzchar(dir) && file.exists(file.path(dir, "pyproject.toml")) &&
    dir.exists(file.path(dir, "selfsup"))
  if (!is.null(source)) {
    if (!is_source(source)) {
      stop(sprintf("`source` must be the selfsup Python package's folder (with pyproject.toml and selfsup/); got %s.",
                   deparse(source)), call. = FALSE)
    }
    return(normalizePath(source))
  }
  bundled <- system.file("python", package = "selfsup")
  if (is_source(bundled)) return(bundled)
  dir <- normalizePath(getwd(), mustWork = FALSE)
  repeat {
    if (is_source(file.path(dir, "python"))) return(file.path(dir, "python"))
    if (dirname(dir) == dir) break
    dir <- dirname(dir)
  }
  stop("install_selfsup() cannot find the selfsup Python package: this installation of the R package does ",
       "not bundle it (it was installed from a folder rather than from a tarball built with `make r-tarball`), ",
       "and the working directory is not inside a selfsup source tree. Fix: give `source = \"/path/to/selfsup/python\"`.",
       call. = FALSE)
}

# pip builds in the folder it is given: build from a copy, as the installed library may be read-only.
copy_source <- function(source) {
  to <- tempfile("selfsup-python-")
  dir.create(to)
  file.copy(file.path(source, c("pyproject.toml", "selfsup")), to, recursive = TRUE)
  to
}

find_base_python <- function(python = NULL) {
  local_python_env()
  candidates <- if (is.null(python)) unname(Sys.which(c("python3", "python"))) else python
  candidates <- candidates[nzchar(candidates)]
  for (candidate in candidates) {
    version <- tryCatch(suppressWarnings(system2(candidate, c("-c", shQuote("import sys; print('%d.%d' % sys.version_info[:2])")),
                                                 stdout = TRUE, stderr = FALSE)), error = function(e) character())
    if (length(version) && !is.null(attr(version, "status"))) version <- character()
    if (length(version) && package_version(version[1]) >= "3.10") return(candidate)
    if (!is.null(python)) {
      stop(sprintf("`python` must be a Python 3.10 or newer; %s is %s.", python,
                   if (length(version)) paste("Python", version[1]) else "not a Python that runs"), call. = FALSE)
    }
  }
  stop("install_selfsup() needs Python 3.10 or newer to create a virtual environment, and found none on the PATH ",
       "(looked for python3 and python). Install one (Debian or Ubuntu: apt-get install python3 python3-venv; ",
       "macOS and Windows: python.org), or give `python = \"/path/to/python3\"`.", call. = FALSE)
}

run_python <- function(python, args, what, hint) {
  local_python_env()
  out <- suppressWarnings(system2(python, shQuote(args), stdout = TRUE, stderr = TRUE))
  status <- attr(out, "status")
  if (!is.null(status) && status != 0) {
    stop(sprintf("install_selfsup() could not %s (exit status %d):\n%s\n%s", what, status,
                 paste(utils::tail(out, 8), collapse = "\n"), hint), call. = FALSE)
  }
  invisible(out)
}

python_has_core <- function(python) {
  local_python_env()
  out <- suppressWarnings(system2(python, c("-c", shQuote("import selfsup, torch")), stdout = FALSE, stderr = FALSE))
  identical(as.integer(out), 0L)
}

# Every later session finds the environment through this record (see selfsup_python()).
record_python <- function(python) {
  record <- installed_python_record()
  dir.create(dirname(record), recursive = TRUE, showWarnings = FALSE)
  writeLines(python, record)
  if (!reticulate::py_available(initialize = FALSE)) reticulate::use_python(python, required = TRUE)
  python
}

# R puts its own library folders first on LD_LIBRARY_PATH (R_HOME/etc/ldpaths: R's lib, the system
# lib folder, Java's). A Python started from R then loads the system's libpython before its own
# (a pyenv Python's ssl module fails: pip cannot reach its index). Python subprocesses get the
# variable without those folders; the system ones are searched anyway, after the Python's own.
local_python_env <- function(envir = parent.frame()) {
  old <- Sys.getenv("LD_LIBRARY_PATH", unset = NA)
  if (is.na(old)) return(invisible())
  dirs <- strsplit(old, ":", fixed = TRUE)[[1]]
  r_dirs <- c(file.path(R.home(), "lib"), R.home("lib"), "/lib", "/usr/lib", "/lib64", "/usr/lib64",
              Sys.glob("/usr/lib/*-linux-gnu"), Sys.glob("/lib/*-linux-gnu"))
  keep <- dirs[nzchar(dirs) & !dirs %in% r_dirs & !startsWith(dirs, "/usr/lib/jvm/")]
  Sys.setenv(LD_LIBRARY_PATH = paste(keep, collapse = ":"))
  do.call(on.exit, list(substitute(Sys.setenv(LD_LIBRARY_PATH = old), list(old = old)), add = TRUE),
          envir = envir)
  invisible()
}
