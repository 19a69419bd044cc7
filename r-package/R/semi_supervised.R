# Semi-supervised learning: thin wrappers over selfsup.semi_supervised. Unlabelled samples are NA
# in `y` (-1 in Python).

#' Self-training with pseudo-labels
#'
#' Lee (2013) and curriculum labelling (Cascante-Bonilla et al. 2021): train a classifier on the
#' labelled images (`epochs`, or start from `model`), then in each of `rounds` rounds give the
#' selected unlabelled images their predicted class and train on labelled plus pseudo-labelled
#' images (`round_epochs`): the same model further, or (`fresh = TRUE`) restarted from its weights
#' before round 0.
#'
#' What worked with 150 Fashion-MNIST labels (`make few-labels`): the same model further on strongly
#' augmented images (`augment = "strong"`, as Noisy Student noises its student), about three epochs a
#' round, curriculum selection, balanced: median test accuracy 0.745 over three label draws, above
#' every supervised baseline (0.729); fresh restarts on weakly augmented images gave 0.710.
#'
#' @param x Images `(n, height, width[, channels])` (a matrix with `encoder = "mlp"`).
#' @param y Labels, `NA` for unlabelled images: a factor (its levels are the classes), character
#'   or integer. At least two classes must be labelled.
#' @param threshold Confidence (top class probability) a pseudo-label needs, in \[0, 1\]
#'   (`selection = "threshold"`).
#' @param rounds Number of pseudo-labelling rounds (0: supervised only).
#' @param round_epochs Epochs per round over labelled + pseudo-labelled images.
#' @param selection `"threshold"` (confidence at least `threshold`) or `"curriculum"` (the most
#'   confident k / rounds share in round k).
#' @param balanced Every class keeps the same number of pseudo-labels, its most confident ones.
#' @param fresh Restart every round from the weights before round 0 (curriculum labelling) rather
#'   than train the same model further (self-training).
#' @param model Optional classifier to start from (trained further in place), e.g. from
#'   [ssl_finetune()].
#' @param classes Optional class names (default: the levels of `y`).
#' @param validation_split Share of the labelled images (the last ones) held out for validation.
#' @inheritParams fit_supervised
#' @returns A `selfsup_model` (task `"pseudo_label"`); its history has `round` and
#'   `pseudo_labelled` columns.
#' @family semi-supervised
#' @seealso Python: `selfsup.semi_supervised.fit_pseudo_label()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' x <- d$train$x[1:400, , ]
#' y <- d$train$y[1:400]
#' y[-(1:100)] <- NA                  # 100 labels, 300 unlabelled images
#' m <- fit_pseudo_label(x, y, rounds = 1, epochs = 2, seed = 1, device = "cpu", verbose = FALSE)
#' evaluate(m, d$test$x, d$test$y)
#' @export
fit_pseudo_label <- function(x, y, threshold = 0.95, rounds = 3, round_epochs = 1, selection = "threshold",
                             balanced = TRUE, fresh = FALSE, augment = NULL, flip = FALSE, model = NULL,
                             classes = NULL, encoder = "cnn", epochs = 10, batch_size = 64, validation_split = 0,
                             lr = 0.001, optimizer = "adam", weight_decay = 0, schedule = "constant", ema = 0,
                             seed = NULL, device = "auto", verbose = TRUE) {
  labels <- as_py_labels(y, classes = if (is.null(model)) classes else model$classes, allow_na = TRUE)
  args <- list(
    selfsup_py$fit_pseudo_label, as_py_array(x), labels$codes, threshold = as_py_num(threshold, "threshold"),
    rounds = as_py_int(rounds, "rounds"), round_epochs = as_py_int(round_epochs, "round_epochs"),
    selection = as_py_str(selection, "selection"), balanced = as_py_bool(balanced, "balanced"),
    fresh = as_py_bool(fresh, "fresh"), augment = as_py_str(augment, "augment", null_ok = TRUE),
    flip = as_py_bool(flip, "flip"), model = if (is.null(model)) NULL else as_py_model(model),
    classes = if (is.null(model)) labels$classes else NULL)
  settings <- as_py_fit_settings(encoder, epochs, batch_size, validation_split, lr, optimizer, weight_decay,
                                 schedule, ema, seed, device, verbose)
  fit_result(model, do.call(py_call, c(args, settings)))
}

#' Label spreading on a k-nearest-neighbour graph
#'
#' Zhou et al. (2004), as scikit-learn's `LabelSpreading(kernel = "knn")`: labels flow along a
#' symmetrically normalised kNN graph, `F <- alpha S F + (1 - alpha) Y`, until they settle.
#' Transductive: it labels the samples it is given. With `model` the graph joins samples whose
#' learned features ([ssl_embed()], scaled to unit length) are most alike, not their raw values.
#'
#' @param x A matrix `(n, features)` or images (flattened); with `model`, data the model takes.
#' @param y Labels, `NA` for unlabelled samples (as for [fit_pseudo_label()]).
#' @param n_neighbors Neighbours per sample in the graph (the sample itself counted, as in
#'   scikit-learn).
#' @param alpha Share of its label a sample takes from its neighbours each iteration, in (0, 1).
#' @param max_iter Most iterations.
#' @param tol Stop when the total change of the label distributions is below `tol`.
#' @param model Optional `selfsup_model` (e.g. from [ssl_pretrain()]) whose features of `x` the graph
#'   is built on.
#' @param layer With `model`: the encoder layer read, as in [ssl_embed()].
#' @param classes Optional class names (default: the levels of `y`).
#' @param device `"auto"`, `"cpu"` or `"cuda"`.
#' @returns A `selfsup_label_spreading` list: `labels` (a factor for every sample),
#'   `distributions` (n x classes), `classes`, `iterations`, `history` (`iteration`, `change`).
#' @family semi-supervised
#' @seealso Python: `selfsup.semi_supervised.label_spreading()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' y <- d$train$y
#' y[-(1:50)] <- NA                   # 50 labels
#' ls <- label_spreading(d$train$x, y, device = "cpu")
#' ls
#' mean(ls$labels == d$train$y)
#' @export
label_spreading <- function(x, y, n_neighbors = 7, alpha = 0.2, max_iter = 30, tol = 1e-3, model = NULL,
                            layer = NULL, classes = NULL, device = "auto") {
  labels <- as_py_labels(y, classes = classes, allow_na = TRUE)
  as_r_label_spreading(py_call(
    selfsup_py$label_spreading, as_py_array(x), labels$codes, n_neighbors = as_py_int(n_neighbors, "n_neighbors"),
    alpha = as_py_num(alpha, "alpha"), max_iter = as_py_int(max_iter, "max_iter"), tol = as_py_num(tol, "tol"),
    model = if (is.null(model)) NULL else as_py_model(model), layer = as_py_layer(layer, "layer"),
    classes = labels$classes, device = as_py_str(device, "device")
  ))
}

#' FixMatch
#'
#' Sohn et al. (2020): each step takes a batch of labelled images and `mu` times as many images of
#' the pool (every image of `x`, the labelled ones too, as the paper); the model's prediction on a
#' strongly augmented view (RandAugment with `n_ops` random operations, then Cutout) is trained
#' towards the class predicted for a weakly augmented view (shift, flip), where that prediction is at
#' least `threshold` sure. The defaults are the paper's recipe: SGD with Nesterov momentum, lr 0.03,
#' weight decay 5e-4, cosine decay, and the moving average of the weights (`ema` 0.999) as the model
#' returned. Augmentations are made on the device.
#'
#' @param x Images `(n, height, width[, channels])`.
#' @param y Labels, `NA` for unlabelled images (as for [fit_pseudo_label()]).
#' @param threshold Confidence a pseudo-label needs, in \[0, 1\].
#' @param lambda_u Weight of the unlabelled loss.
#' @param mu Pool images per labelled image in each step.
#' @param flip Use horizontal flips (right for clothes and photos, wrong for digits).
#' @param teacher Where the pseudo-labels come from: `"batch"` (the paper's: the training pass),
#'   `"eval"` (the model in eval mode) or `"ema"` (the moving average; needs `ema > 0`).
#' @param n_ops RandAugment operations per strong view.
#' @param model Optional classifier to train further (in place), e.g. from [ssl_finetune()].
#' @param classes Optional class names (default: the levels of `y`).
#' @param epochs Passes over the *labelled* images (`ceiling(n_labelled / batch_size)` steps each).
#' @param batch_size Labelled images per step; each step also takes `mu * batch_size` unlabelled ones.
#' @param validation_split Share of the labelled images (the last ones) held out for validation.
#' @inheritParams fit_supervised
#' @returns A `selfsup_model` (task `"fixmatch"`); its history has `mask_rate`, the share of
#'   pool images confident enough to learn from.
#' @family semi-supervised
#' @seealso Python: `selfsup.semi_supervised.fit_fixmatch()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' x <- d$train$x[1:200, , ]
#' y <- d$train$y[1:200]
#' y[-(1:40)] <- NA                   # 40 labels, 160 unlabelled images
#' m <- fit_fixmatch(x, y, mu = 2, epochs = 1, batch_size = 8, seed = 1, device = "cpu",
#'                   verbose = FALSE)
#' m$history
#' @export
fit_fixmatch <- function(x, y, threshold = 0.95, lambda_u = 1, mu = 7, flip = FALSE, teacher = "batch", n_ops = 2,
                         model = NULL, classes = NULL, encoder = "cnn", epochs = 10, batch_size = 64,
                         validation_split = 0, lr = 0.03, optimizer = "sgd", weight_decay = 5e-4,
                         schedule = "cosine", ema = 0.999, seed = NULL, device = "auto", verbose = TRUE) {
  labels <- as_py_labels(y, classes = if (is.null(model)) classes else model$classes, allow_na = TRUE)
  args <- list(
    selfsup_py$fit_fixmatch, as_py_array(x), labels$codes, threshold = as_py_num(threshold, "threshold"),
    lambda_u = as_py_num(lambda_u, "lambda_u"), mu = as_py_int(mu, "mu"), flip = as_py_bool(flip, "flip"),
    teacher = as_py_str(teacher, "teacher"), n_ops = as_py_int(n_ops, "n_ops"),
    model = if (is.null(model)) NULL else as_py_model(model),
    classes = if (is.null(model)) labels$classes else NULL)
  settings <- as_py_fit_settings(encoder, epochs, batch_size, validation_split, lr, optimizer, weight_decay,
                                 schedule, ema, seed, device, verbose)
  fit_result(model, do.call(py_call, c(args, settings)))
}

#' @export
print.selfsup_label_spreading <- function(x, ...) {
  cat(sprintf("Label spreading: %d samples, %d classes, %d iterations\n",
              length(x$labels), length(x$classes), x$iterations))
  print(table(x$labels, dnn = NULL))
  invisible(x)
}

#' Plot how label spreading converged
#'
#' @param x A result of [label_spreading()].
#' @param y,... Unused.
#' @returns A ggplot object: total change of the label distributions per iteration (log scale).
#' @family semi-supervised
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' y <- d$train$y
#' y[-(1:50)] <- NA
#' plot(label_spreading(d$train$x, y, device = "cpu"))
#' @export
plot.selfsup_label_spreading <- function(x, y, ...) {
  need_ggplot2()
  ggplot2::ggplot(x$history, ggplot2::aes(iteration, change)) + ggplot2::geom_line() + ggplot2::geom_point() +
    ggplot2::scale_y_log10() + ggplot2::labs(title = "Label spreading: change per iteration") +
    ggplot2::theme_minimal()
}

utils::globalVariables(c("iteration", "change"))
