#' Train a classifier on labelled images
#'
#' Builds the seminar CNN (or an MLP) and trains it with Adam, or trains `model` further.
#'
#' @param x Images: a numeric array `(n, height, width)` or `(n, height, width, channels)`.
#'   Integers are pixel values 0..255 (scaled to \[0, 1\]); doubles are used as given.
#'   With `encoder = "mlp"` also a matrix `(n, features)`.
#' @param y Labels, one per image: a factor (its levels are the classes), character or integer.
#' @param model Optional model to train further (it is changed in place, as in keras).
#' @param classes Optional class names of a new model (default: the levels of `y`).
#' @param encoder `"cnn"` (the seminar's CNN) or `"mlp"`.
#' @param epochs,batch_size Number of passes over the data and samples per gradient step.
#' @param validation_split Share of samples (the last ones, as in keras) held out for validation, in \[0, 1).
#' @param lr Adam's learning rate.
#' @param seed Seed for initial weights, batch order and dropout; the same seed gives the same model.
#' @param device `"auto"` (GPU when available), `"cpu"` or `"cuda"`.
#' @param verbose Show progress.
#' @returns A `selfsup_model`; `model$history` is a data frame with one row per epoch.
#' @family supervised
#' @seealso Python: `selfsup.fit_supervised()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' m <- fit_supervised(d$train$x[1:300, , ], d$train$y[1:300], epochs = 2, validation_split = 0.2,
#'                     seed = 1, device = "cpu", verbose = FALSE)
#' m
#' evaluate(m, d$test$x, d$test$y)
#' @export
fit_supervised <- function(x, y, model = NULL, classes = NULL, encoder = "cnn", epochs = 10,
                           batch_size = 64, validation_split = 0, lr = 0.001, seed = NULL,
                           device = "auto", verbose = TRUE) {
  model_py <- if (is.null(model)) NULL else as_py_model(model)
  labels <- as_py_labels(y, classes = if (is.null(model)) classes else model$classes)
  fitted <- py_call(
    selfsup_py$fit_supervised, as_py_array(x), labels$codes,
    model = model_py, classes = if (is.null(model)) labels$classes else NULL, encoder = encoder,
    epochs = as_py_int(epochs, "epochs"), batch_size = as_py_int(batch_size, "batch_size"),
    validation_split = validation_split, lr = lr, seed = as_py_int(seed, "seed"),
    device = device, verbose = verbose
  )
  as_r_model(fitted)
}

#' Loss and accuracy of a classifier
#'
#' @param model A `selfsup_model` classifier.
#' @param x,y Images and their labels (as for [fit_supervised()]).
#' @param batch_size Samples per forward pass.
#' @param device `"auto"`, `"cpu"` or `"cuda"`.
#' @returns A named list: `loss` (cross-entropy) and `accuracy`.
#' @family supervised
#' @seealso Python: `selfsup.evaluate()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' m <- fit_supervised(d$train$x[1:300, , ], d$train$y[1:300], epochs = 2, seed = 1, device = "cpu",
#'                     verbose = FALSE)
#' evaluate(m, d$test$x, d$test$y)
#' @export
evaluate <- function(model, x, y, batch_size = 1024, device = "auto") {
  py <- as_py_model(model)
  labels <- as_py_labels(y, classes = model$classes)
  py_call(selfsup_py$evaluate, py, as_py_array(x), labels$codes,
          batch_size = as_py_int(batch_size, "batch_size"), device = device)
}

#' Predict classes or class probabilities
#'
#' @param object A `selfsup_model` classifier.
#' @param x Images (as for [fit_supervised()]).
#' @param type `"class"` (a factor) or `"prob"` (a matrix, one column per class).
#' @param batch_size Samples per forward pass.
#' @param device `"auto"`, `"cpu"` or `"cuda"`.
#' @param ... Unused.
#' @returns A factor with the model's classes as levels, or a probability matrix.
#' @family supervised
#' @seealso Python: `selfsup.predict()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' m <- fit_supervised(d$train$x[1:300, , ], d$train$y[1:300], epochs = 2, seed = 1, device = "cpu",
#'                     verbose = FALSE)
#' head(predict(m, d$test$x))
#' round(predict(m, d$test$x[1:3, , ], type = "prob"), 2)
#' @export
predict.selfsup_model <- function(object, x, type = c("class", "prob"), batch_size = 1024,
                                  device = "auto", ...) {
  type <- match.arg(type)
  py <- as_py_model(object, "object")
  out <- py_call(selfsup_py$predict, py, as_py_array(x), type = type,
                 batch_size = as_py_int(batch_size, "batch_size"), device = device)
  if (type == "class") return(as_r_labels(out, object$classes))
  colnames(out) <- object$classes
  out
}
