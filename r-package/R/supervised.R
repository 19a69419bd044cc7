#' Train a classifier on labelled images
#'
#' Builds the seminar CNN (or an MLP, or a small conv net with batch norm) and trains it with Adam
#' (or SGD), or trains `model` further.
#'
#' @param x Images: a numeric array `(n, height, width)` or `(n, height, width, channels)`.
#'   Integers are pixel values 0..255 (scaled to \[0, 1\]); doubles are used as given.
#'   With `encoder = "mlp"` also a matrix `(n, features)`.
#' @param y Labels, one per image: a factor (its levels are the classes), character or integer.
#' @param model Optional model to train further (it is changed in place, as in keras).
#' @param classes Optional class names of a new model (default: the levels of `y`).
#' @param encoder `"cnn"` (the seminar's CNN), `"mlp"`, or `"convnet"` (a small conv net with batch
#'   norm: better with few labels).
#' @param epochs,batch_size Number of passes over the data and samples per gradient step.
#' @param validation_split Share of samples (the last ones, as in keras) held out for validation, in \[0, 1).
#' @param lr The optimiser's learning rate.
#' @param augment `NULL` (none), `"weak"`: training batches shifted by up to 12.5\% (and flipped with
#'   `flip`), FixMatch's weak augmentation, or `"strong"`: FixMatch's strong one (the weak view, then
#'   two RandAugment operations and Cutout). Made on the device; validation batches are not augmented.
#' @param flip With `augment`: also mirror images left-right (clothes, photos; not digits).
#' @param optimizer `"adam"` (keras' default) or `"sgd"` (SGD with Nesterov momentum 0.9).
#' @param weight_decay L2 penalty on the kernels (not on biases or norms); 0 for none.
#' @param schedule `"constant"` or `"cosine"`: the rate decays as `lr * (1 + cos(pi * step / steps)) / 2`
#'   over the fit's steps.
#' @param ema Decay of a moving average of the weights, in \[0, 1); the fit ends with (and validates)
#'   the averaged weights. 0 for none.
#' @param seed Seed for initial weights, batch order and dropout; the same seed gives the same model.
#' @param device `"auto"` (GPU when available), `"cpu"` or `"cuda"`.
#' @param verbose Show progress.
#' @returns A new `selfsup_model`; `model$history` is a data frame with one row per epoch (an
#'   epoch cut by Ctrl-C is kept, marked in a column `partial`: the share of its batches run). With
#'   `model`: that model, trained in place, invisibly.
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
                           batch_size = 64, validation_split = 0, lr = 0.001, augment = NULL, flip = FALSE,
                           optimizer = "adam", weight_decay = 0, schedule = "constant", ema = 0, seed = NULL,
                           device = "auto", verbose = TRUE) {
  x_py <- as_py_array(x)
  model_py <- if (is.null(model)) NULL else as_py_model(model)
  labels <- as_py_labels(y, classes = if (is.null(model)) classes else model$classes)
  args <- list(selfsup_py$fit_supervised, x_py, labels$codes,
               model = model_py, classes = if (is.null(model)) labels$classes else NULL,
               augment = as_py_str(augment, "augment", null_ok = TRUE), flip = as_py_bool(flip, "flip"))
  settings <- as_py_fit_settings(encoder, epochs, batch_size, validation_split, lr, optimizer, weight_decay,
                                 schedule, ema, seed, device, verbose)
  fit_result(model, do.call(py_call, c(args, settings)))
}

#' Train a model further: the model-first verb for pipes
#'
#' `fit(model, x, y, ...)` trains `model` in place on labelled images and returns it invisibly (as
#' keras' `fit()` returns its history; print `model` to see it), so that
#' `build_model(c(28, 28), 10) |> fit(x, y, epochs = 5) |> evaluate(x_test, y_test)` reads as in
#' keras and luz (whose `fit()` is the same generic, from the generics package: attaching them
#' together masks nothing). It is [fit_supervised()] with `model` first.
#'
#' @param object A `selfsup_model` classifier (from [build_model()], [fit_supervised()], ...).
#' @param x,y Images and labels (as for [fit_supervised()]).
#' @param ... Settings of [fit_supervised()]: `epochs`, `batch_size`, `validation_split`, `lr`,
#'   `seed`, `device`, `verbose`.
#' @returns `object`, trained in place, invisibly (a pipe passes it on all the same).
#' @family supervised
#' @importFrom generics fit
#' @method fit selfsup_model
#' @export
fit.selfsup_model <- function(object, x, y, ...) {
  extra <- intersect(names(list(...)), c("model", "classes", "encoder"))
  if (length(extra)) {
    stop(sprintf("fit(model, x, y) trains `model` as it is; `%s` cannot be changed here.", extra[1]), call. = FALSE)
  }
  fit_supervised(x, y, model = object, ...)
}

#' @importFrom generics fit
#' @export
generics::fit

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
          batch_size = as_py_int(batch_size, "batch_size"), device = as_py_str(device, "device"))
}

#' Predict classes or class probabilities
#'
#' @param object A `selfsup_model` classifier.
#' @param x Images (as for [fit_supervised()]).
#' @param type `"class"` (a factor) or `"prob"` (a matrix, one column per class).
#' @param batch_size Samples per forward pass.
#' @param device `"auto"`, `"cpu"` or `"cuda"`.
#' @param ... Unused.
#' @param newdata The images, as `x` (the name [stats::predict()] methods use).
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
                                  device = "auto", ..., newdata = NULL) {
  if (!is.null(newdata)) {
    if (!missing(x)) stop("give the images as `x` or as `newdata`, not both.", call. = FALSE)
    x <- newdata
  } else if (missing(x)) {
    stop("`x` (or `newdata`) is missing: the images to predict.", call. = FALSE)
  }
  type <- match.arg(type)
  py <- as_py_model(object, "object")
  out <- py_call(selfsup_py$predict, py, as_py_array(x), type = type,
                 batch_size = as_py_int(batch_size, "batch_size"), device = as_py_str(device, "device"))
  if (type == "class") return(as_r_labels(out, object$classes))
  colnames(out) <- object$classes
  out
}
