#' Build an untrained classifier
#'
#' @param input_shape `c(height, width)` or `c(height, width, channels)`; `c(features)` for the MLP.
#' @param classes Number of classes or their names.
#' @param encoder `"cnn"` (the seminar CNN: conv 64@2x2, pool, dropout .3, conv 32@2x2, pool,
#'   dropout .3, dense 256, dropout .5, dense k) or `"mlp"`.
#' @param seed Seed for the initial weights.
#' @returns A `selfsup_model` with no training history.
#' @family model
#' @seealso Python: `selfsup.build_model()`.
#' @examplesIf selfsup_available()
#' m <- build_model(c(8, 8), classes = 10, seed = 1)
#' m
#' summary(m)
#' @export
build_model <- function(input_shape, classes = 10, encoder = "cnn", seed = NULL) {
  as_r_model(py_call(selfsup_py$build_model, as_py_shape(input_shape), as_py_classes(classes),
                     encoder = as_py_str(encoder, "encoder"), seed = as_py_seed(seed)))
}

#' An independent copy of a model
#'
#' Models are handles (training changes them in place); `clone_model()` copies weights,
#' frozen layers and history.
#' @param model A `selfsup_model`.
#' @returns A new `selfsup_model`.
#' @family model
#' @examplesIf selfsup_available()
#' m <- build_model(c(8, 8), 3, seed = 1)
#' copy <- clone_model(m)
#' identical(get_weights(m), get_weights(copy))
#' @export
clone_model <- function(model) {
  as_r_model(py_call(selfsup_py$clone_model, as_py_model(model)))
}

#' Get, set, freeze and unfreeze weights
#'
#' Weights are named by layer, as `summary(model)` lists them (`conv1.weight`, `dense1.bias`,
#' `output.weight`, ...), in torch's layout (a convolution kernel is `(out, in, height, width)`).
#'
#' @param model A `selfsup_model`.
#' @param weights A named list of arrays, all or some of those `get_weights()` returns; names and
#'   shapes are checked before anything changes.
#' @param from_layer,to_layer First and last layer (inclusive), by name or 1-based position;
#'   `NULL` means the first / last layer.
#' @returns `get_weights()`: a named list of arrays. The others: the model, changed in place.
#' @family model
#' @seealso Python: `selfsup.get_weights()` and friends.
#' @examplesIf selfsup_available()
#' m <- build_model(c(8, 8), 10, seed = 1)
#' w0 <- get_weights(m)          # keep the initial weights ...
#' set_weights(m, w0)            # ... and reset to them later
#' freeze_weights(m, to_layer = "drop2")   # freeze the convolution block
#' summary(m)
#' unfreeze_weights(m)
#' @export
get_weights <- function(model) {
  py_call(selfsup_py$get_weights, as_py_model(model))
}

#' @rdname get_weights
#' @export
set_weights <- function(model, weights) {
  in_place(model, py_call(selfsup_py$set_weights, as_py_model(model), as_py_weights(weights)))
}

#' @rdname get_weights
#' @export
freeze_weights <- function(model, from_layer = NULL, to_layer = NULL) {
  in_place(model, py_call(selfsup_py$freeze_weights, as_py_model(model), as_py_layer(from_layer, "from_layer"),
                          as_py_layer(to_layer, "to_layer")))
}

#' @rdname get_weights
#' @export
unfreeze_weights <- function(model, from_layer = NULL, to_layer = NULL) {
  in_place(model, py_call(selfsup_py$unfreeze_weights, as_py_model(model), as_py_layer(from_layer, "from_layer"),
                          as_py_layer(to_layer, "to_layer")))
}

#' Save and load a model
#'
#' One safetensors file holds the weights and, in its header, the model's description, classes,
#' frozen layers and history. No pickle: loading never runs code. Saving writes a temporary file
#' and renames it, so an existing file is never left half-written.
#'
#' @param model A `selfsup_model`.
#' @param path File path, e.g. `"model.safetensors"`.
#' @returns `save_model()`: the path, invisibly. `load_model()`: a `selfsup_model`.
#' @family model
#' @seealso Python: `selfsup.save_model()`, `selfsup.load_model()`.
#' @examplesIf selfsup_available()
#' m <- build_model(c(8, 8), 3, seed = 1)
#' path <- tempfile(fileext = ".safetensors")
#' save_model(m, path)
#' m2 <- load_model(path)
#' identical(get_weights(m), get_weights(m2))
#' unlink(path)
#' @export
save_model <- function(model, path) {
  invisible(py_call(selfsup_py$save_model, as_py_model(model), as_py_path(path)))
}

#' @rdname save_model
#' @export
load_model <- function(path) {
  as_r_model(py_call(selfsup_py$load_model, as_py_path(path)))
}
