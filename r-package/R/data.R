#' Load a data set as train/test splits
#'
#' Reads local files only (nothing is downloaded). Images come back as integer arrays
#' `(n, height, width)` with values 0..255, labels as factors whose levels are the class names.
#'
#' @param name One of `"fashion_mnist"` (Debian package `dataset-fashion-mnist`), `"mnist"`
#'   (IDX files or a keras `mnist.npz` given by `path`) or `"digits"` (scikit-learn's 8x8 digits).
#' @param path Optional folder of IDX files, or an `.npz` file.
#' @returns A list with `train` and `test` (each a list of `x` and `y`) and `classes`.
#' @family data
#' @seealso Python: `selfsup.load_dataset()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")   # scikit-learn's 8x8 digits: 1,437 + 360 images
#' dim(d$train$x)
#' table(d$train$y)
#' @export
load_dataset <- function(name, path = NULL) {
  as_r_dataset(py_call(selfsup_py$load_dataset, as_py_str(name, "name"),
                       path = if (is.null(path)) NULL else as_py_path(path)))
}

#' Draw random indices
#'
#' `size` random integers from `1..n` (without replacement unless `replace`). The seminar's
#' random draws come from here, so R and Python draw the same ones for the same seed
#' (Python gets the same draws, 0-based).
#'
#' @param n Number to draw from.
#' @param size How many to draw.
#' @param replace Draw with replacement.
#' @param seed Seed; the same seed gives the same draws in R and Python.
#' @returns An integer vector of 1-based indices.
#' @family data
#' @seealso Python: `selfsup.sample_indices()` (0-based).
#' @examplesIf selfsup_available()
#' sample_indices(100, 5, seed = 1)   # the same 5 indices (0-based) in Python for seed 1
#' identical(sample_indices(100, 5, seed = 1), sample_indices(100, 5, seed = 1))
#' @export
sample_indices <- function(n, size, replace = FALSE, seed = NULL) {
  as_r_indices(py_call(selfsup_py$sample_indices, as_py_int(n, "n"), as_py_int(size, "size"),
                       replace = as_py_bool(replace, "replace"), seed = as_py_seed(seed)))
}
