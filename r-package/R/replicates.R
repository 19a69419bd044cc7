#' Train several classifiers, each on its own draw of the data
#'
#' The seminar's replicates: model `i` trains on `x[subsets[[i]], , ]` and `y[subsets[[i]]]` with
#' seed `seeds[i]`. This gives exactly the models that calling [fit_supervised()] once per model
#' gives; side by side, each step advances all models with one backward pass and one Adam update,
#' and on a CPU with several cores each of torch's threads steps its own group of the models (a step
#' of one small model at batch 1 is too small to split across cores). See [set_threads()].
#'
#' @param models A list of `selfsup_model` classifiers, one per replicate, with the same classes
#'   (distinct models: make them with [build_model()] or [clone_model()]). Trained in place.
#' @param x,y All images and their labels (as for [fit_supervised()]).
#' @param subsets A list of index vectors, one per model: the (1-based) positions of the samples
#'   it trains on, in that order; the last `validation_split` share of each is held out.
#' @param seeds One seed per model (batch order and dropout); `NULL` draws them at random.
#' @param epochs,batch_size,validation_split,lr As for [fit_supervised()].
#' @param side_by_side `TRUE`: train all models at once; `FALSE`: one after another. Both give
#'   identical models. `NULL` (default): side by side when the subsets have equal size (it needs that).
#' @param exact `TRUE` (default): each model bit-identical to training it alone with [fit_supervised()].
#'   `FALSE`: the models train as one grouped network (grouped convolutions, batched matrix products):
#'   results equal in distribution but not bit for bit, faster where per-step overhead dominates (GPUs;
#'   on 2 CPU cores at batch 1 the exact path, which shares the cores among the models, is 1.13x
#'   faster). Needs equal-size subsets and `"cnn"`/`"mlp"` models of one
#'   architecture.
#' @param device `"auto"` (GPU when available), `"cpu"` or `"cuda"`.
#' @param verbose Show progress.
#' @returns The list of trained `models` (invisibly).
#' @family supervised
#' @seealso Python: `selfsup.fit_replicates()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' first <- build_model(c(8, 8), d$classes, seed = 1)
#' models <- c(list(first), replicate(2, clone_model(first), simplify = FALSE))
#' draws <- lapply(1:3, function(r) sample_indices(dim(d$train$x)[1], 50, seed = r))
#' fit_replicates(models, d$train$x, d$train$y, draws, seeds = 1:3, epochs = 1, batch_size = 8,
#'                device = "cpu", verbose = FALSE)
#' sapply(models, function(m) evaluate(m, d$test$x, d$test$y)$accuracy)
#' @export
fit_replicates <- function(models, x, y, subsets, seeds = NULL, epochs = 10, batch_size = 64,
                           validation_split = 0, lr = 0.001, side_by_side = NULL, exact = TRUE, device = "auto",
                           verbose = TRUE) {
  models_py <- as_py_models(models)
  classes <- models[[1]]$classes
  for (i in seq_along(models)) {
    if (!identical(models[[i]]$classes, classes)) {
      stop(sprintf("`models[[%d]]` has classes (%s), `models[[1]]` has (%s); replicates need the same classes.",
                   i, paste(models[[i]]$classes, collapse = ", "), paste(classes, collapse = ", ")), call. = FALSE)
    }
  }
  labels <- as_py_labels(y, classes = classes)
  n <- if (is.null(dim(x))) length(x) else dim(x)[1]
  in_place(models, py_call(
    selfsup_py$fit_replicates, models_py, as_py_array(x), labels$codes, as_py_subsets(subsets, n),
    seeds = as_py_seeds(seeds, length(models_py)), epochs = as_py_int(epochs, "epochs"),
    batch_size = as_py_int(batch_size, "batch_size"), validation_split = as_py_num(validation_split, "validation_split"), lr = as_py_num(lr, "lr"),
    side_by_side = as_py_flag(side_by_side, "side_by_side"), exact = as_py_bool(exact, "exact"),
    device = as_py_str(device, "device"), verbose = as_py_bool(verbose, "verbose")
  ))
}
