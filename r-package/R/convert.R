# The ONLY place that converts between R and Python. Wrappers call these and nothing else.
#
# R arrays and numpy arrays index alike (x[i, j, k] in R is x[i-1, j-1, k-1] in numpy):
# reticulate hands numpy a Fortran-ordered view and the Python core copies it to C order once.
# Labels: factors (or character / integer vectors) in R, 0-based integer codes in Python;
# NA in R is -1 (unlabelled) in Python. Layer and cluster indices are 1-based in R.

# Call a Python function; a Python error becomes an R error with the same message (no traceback).
py_call <- function(fun, ...) {
  tryCatch(fun(...), python.builtin.BaseException = function(e) {
    stop(py_error_message(e), call. = FALSE)
  })
}

py_error_message <- function(e) {
  msg <- conditionMessage(e)
  msg <- sub("\nRun `reticulate::py_last_error\\(\\)` for details\\.?\\s*$", "", msg)
  # "ValueError: `x` must ..." -> "`x` must ..."
  sub("^[A-Za-z_.]*(Error|Exception|Warning)[A-Za-z_]*: ", "", trimws(msg))
}

# Images, sequences or features: a numeric array (or matrix) handed over as it is.
as_py_array <- function(x, arg = "x") {
  if (is.data.frame(x)) x <- as.matrix(x)
  if (!is.numeric(x) && !is.logical(x)) {
    stop(sprintf("`%s` must be a numeric array; got %s.", arg, describe(x)), call. = FALSE)
  }
  if (is.logical(x)) {
    stop(sprintf("`%s` must be a numeric array; got a logical %s.", arg, class(x)[1]), call. = FALSE)
  }
  if (anyNA(x)) {
    stop(sprintf("`%s` contains %d NA/NaN value(s); remove or impute them first.", arg, sum(is.na(x))),
         call. = FALSE)
  }
  reticulate::r_to_py(x)
}

describe <- function(x) {
  if (is.matrix(x) || is.array(x)) sprintf("a %s array", typeof(x)) else sprintf("a %s", class(x)[1])
}

# Class labels -> list(codes = 0-based integer numpy vector, classes = character levels).
# `classes` (a model's classes) maps labels by name; otherwise factor levels, or sorted unique values.
as_py_labels <- function(y, arg = "y", classes = NULL, allow_na = FALSE) {
  if (is.matrix(y) || is.data.frame(y) || is.list(y)) {
    stop(sprintf("`%s` must be a vector of class labels; got %s.", arg, describe(y)), call. = FALSE)
  }
  if (!allow_na && anyNA(y)) {
    stop(sprintf("`%s` contains NA labels; every sample needs a label here.", arg), call. = FALSE)
  }
  if (is.null(classes)) {
    classes <- if (is.factor(y)) levels(y) else as.character(sort(unique(y[!is.na(y)])))
  }
  codes <- match(as.character(y), classes)
  unknown <- unique(as.character(y)[is.na(codes) & !is.na(y)])
  if (length(unknown)) {
    stop(sprintf("`%s` has label(s) %s that are not among the classes (%s).", arg,
                 paste(utils::head(unknown, 5), collapse = ", "), paste(classes, collapse = ", ")),
         call. = FALSE)
  }
  codes <- ifelse(is.na(codes), -1L, codes - 1L)
  list(codes = reticulate::np_array(as.integer(codes), dtype = "int64"), classes = as.list(classes))
}

# 0-based class codes from Python -> factor with the model's classes as levels (-1 -> NA).
as_r_labels <- function(codes, classes) {
  codes <- as.integer(codes)
  factor(classes[ifelse(codes < 0L, NA_integer_, codes + 1L)], levels = classes)
}

# A whole number for Python (R's 10 is a double); NULL stays NULL (Python None).
as_py_int <- function(x, arg) {
  if (is.null(x)) return(NULL)
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x != round(x)) {
    stop(sprintf("`%s` must be a single whole number; got %s.", arg, deparse(x)[1]), call. = FALSE)
  }
  as.integer(x)
}

# A layer given by name (kept) or by 1-based position in R (-> 0-based in Python).
as_py_layer <- function(x, arg) {
  if (is.null(x) || is.character(x)) return(x)
  as_py_int(x, arg) - 1L
}

# Per-epoch history (Python list of dicts) -> data frame, one row per epoch.
as_r_history <- function(rows) {
  rows <- reticulate::py_to_r(rows)
  if (!length(rows)) return(data.frame(epoch = integer()))
  cols <- unique(unlist(lapply(rows, names)))
  out <- lapply(cols, function(col) vapply(rows, function(r) as.numeric(r[[col]] %||% NA), numeric(1)))
  names(out) <- cols
  out <- as.data.frame(out)
  out$epoch <- as.integer(out$epoch)
  out
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# A Python selfsup Model -> the R model object (a handle: Python owns the weights).
as_r_model <- function(py_model) {
  structure(list(py = py_model), class = "selfsup_model")
}

as_py_model <- function(model, arg = "model") {
  if (!inherits(model, "selfsup_model")) {
    stop(sprintf("`%s` must be a selfsup model (from fit_supervised(), build_model(), load_model(), ...); got %s.",
                 arg, describe(model)), call. = FALSE)
  }
  .subset2(model, "py")
}

# Python data set dict -> list(train = list(x, y), test = list(x, y), classes) with factor labels.
as_r_dataset <- function(ds) {
  classes <- unlist(reticulate::py_to_r(ds$classes))
  split <- function(s) list(x = reticulate::py_to_r(s$x), y = as_r_labels(reticulate::py_to_r(s$y), classes))
  list(train = split(ds$train), test = split(ds$test), classes = classes)
}

# Named list of R arrays <-> Python dict of numpy arrays.
as_py_weights <- function(weights, arg = "weights") {
  if (!is.list(weights) || is.null(names(weights)) || any(!nzchar(names(weights)))) {
    stop(sprintf("`%s` must be a named list of arrays, as get_weights() returns.", arg), call. = FALSE)
  }
  arrays <- Map(function(w, name) as_py_array(w, sprintf("%s$`%s`", arg, name)), weights, names(weights))
  reticulate::py_dict(names(arrays), unname(arrays))
}
