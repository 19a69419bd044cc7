# S3 methods of selfsup_model. The Python object owns the state; fields are read from it on
# access, so a model trained further (in place) always shows its current history.

#' Fields of a model
#'
#' A model is a handle on a Python object: its fields are read from it on access, so a model
#' trained further (in place) always shows its current history. `$`, `[[`, `names()`,
#' `length()` and `str()` agree on the fields.
#'
#' @param x A `selfsup_model`.
#' @param name,i A field: `"history"` (a data frame, one row per epoch; when Ctrl-C cut an epoch,
#'   its row holds the means over the batches it ran and a column `partial` says their share,
#'   `NA` for whole epochs), `"classes"`, `"task"`,
#'   `"input_shape"`, `"layers"` (as [summary()] shows them) or `"py"` (the Python object).
#' @param object,... For `str()`: the model, and unused.
#' @returns The field.
#' @name selfsup_model-fields
#' @keywords internal
NULL

#' @rdname selfsup_model-fields
#' @export
`$.selfsup_model` <- function(x, name) model_field(x, name)

#' @rdname selfsup_model-fields
#' @export
`[[.selfsup_model` <- function(x, i, ...) {
  if (is.numeric(i)) i <- model_fields[[i]]
  model_field(x, i)
}

#' @rdname selfsup_model-fields
#' @export
names.selfsup_model <- function(x) model_fields

#' @rdname selfsup_model-fields
#' @export
length.selfsup_model <- function(x) length(model_fields)

#' @rdname selfsup_model-fields
#' @importFrom utils str
#' @export
str.selfsup_model <- function(object, ...) {
  cat(model_description(object), "\n", sep = "")
  h <- object$history
  cat(sprintf(" $ history    : data frame, %d epochs: %s\n", nrow(h), paste(names(h), collapse = ", ")))
  cat(sprintf(" $ classes    : %s\n", if (is.null(object$classes)) "NULL" else
    paste(utils::head(object$classes, 10), collapse = ", ")))
  cat(sprintf(" $ task       : \"%s\"\n", object$task))
  cat(sprintf(" $ input_shape: %s\n", paste(object$input_shape, collapse = " x ")))
  cat(sprintf(" $ layers     : data frame, %d layers\n", nrow(object$layers)))
  cat(" $ py         : the Python object\n")
  invisible()
}

#' @export
print.selfsup_model <- function(x, ...) {
  cat(model_description(x), "\n", sep = "")
  history <- x$history
  if (nrow(history)) {
    # an interrupted last epoch is said in the description; `partial` is no metric
    last <- history[nrow(history), setdiff(names(history), c("epoch", "partial")), drop = FALSE]
    last <- last[!is.na(unlist(last))]
    cat(sprintf("Final epoch (plot to see history): %s\n",
                paste(sprintf("%s=%.4f", names(last), unlist(last)), collapse = " ")))
  }
  invisible(x)
}

#' The weights of a model; fitted values are not kept
#'
#' `coef()` gives the weights, as [get_weights()] does. `fitted()` is an error: a model does not
#' keep its training data; use `predict(model, x)`.
#'
#' @param object A `selfsup_model`.
#' @param ... Unused.
#' @returns `coef()`: a named list of arrays.
#' @importFrom stats coef fitted
#' @export
coef.selfsup_model <- function(object, ...) get_weights(object)

#' @rdname coef.selfsup_model
#' @export
fitted.selfsup_model <- function(object, ...) {
  stop("a selfsup model does not keep its training data, so it has no fitted values; use predict(model, x).",
       call. = FALSE)
}

#' Summary of a model: its layers
#'
#' @param object A `selfsup_model`.
#' @param ... Unused.
#' @returns A data frame with one row per layer (position, name, type, number of weights,
#'   trainable), printed with the model's description.
#' @examplesIf selfsup_available()
#' summary(build_model(c(8, 8), 10, seed = 1))
#' @export
summary.selfsup_model <- function(object, ...) {
  structure(object$layers, model = model_description(object),
            class = c("selfsup_model_summary", "data.frame"))
}

#' @export
print.selfsup_model_summary <- function(x, ...) {
  cat(attr(x, "model"), "\n\n", sep = "")
  print(structure(x, class = "data.frame", model = NULL), row.names = FALSE)
  cat(sprintf("\nTrainable weights: %s of %s\n",
              format(sum(x$params[x$trainable]), big.mark = ","), format(sum(x$params), big.mark = ",")))
  invisible(x)
}

#' Long-format training history
#'
#' @param x A `selfsup_model`.
#' @param row.names,optional Unused (for the generic).
#' @param ... Unused.
#' @returns A data frame with columns `epoch`, `metric`, `value` and `data`
#'   (`"training"` or `"validation"`). Bookkeeping columns of the history that are not metrics
#'   (`round` and `pseudo_labelled` of [fit_pseudo_label()], `partial` of an epoch cut by Ctrl-C)
#'   stay in `x$history` only.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' m <- fit_supervised(d$train$x[1:200, , ], d$train$y[1:200], epochs = 2, validation_split = 0.2,
#'                     seed = 1, device = "cpu", verbose = FALSE)
#' as.data.frame(m)
#' @export
as.data.frame.selfsup_model <- function(x, row.names = NULL, optional = FALSE, ...) {
  history <- x$history
  cols <- setdiff(names(history), c("epoch", bookkeeping_columns))
  if (!length(cols)) return(data.frame(epoch = integer(), metric = character(), value = numeric(), data = character()))
  long <- do.call(rbind, lapply(cols, function(col) {
    validation <- startsWith(col, "val_")
    data.frame(epoch = history$epoch, metric = sub("^val_", "", col), value = history[[col]],
               data = if (validation) "validation" else "training")
  }))
  long$data <- factor(long$data, levels = c("training", "validation"))
  long
}

#' Plot the training history
#'
#' One panel per metric (loss, accuracy, ...), training and validation curves by epoch;
#' ggplot2 when installed, base graphics otherwise.
#'
#' @param x A `selfsup_model`.
#' @param y Unused.
#' @param ... Unused.
#' @returns A ggplot object (or `NULL` invisibly with base graphics).
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' m <- fit_supervised(d$train$x[1:200, , ], d$train$y[1:200], epochs = 2, validation_split = 0.2,
#'                     seed = 1, device = "cpu", verbose = FALSE)
#' plot(m)
#' @export
plot.selfsup_model <- function(x, y, ...) {
  long <- as.data.frame(x)
  if (!nrow(long)) stop("`x` has no training history to plot; train it first.", call. = FALSE)
  rounds <- round_starts(x$history)
  xlim <- if (max(long$epoch) <= 1) c(0.5, 1.5)      # one epoch: not an axis from 0.95 to 1.05
  if (requireNamespace("ggplot2", quietly = TRUE)) {
    p <- ggplot2::ggplot(long, ggplot2::aes(epoch, value, colour = data)) +
      (if (max(long$epoch) > 1) ggplot2::geom_line()) + ggplot2::geom_point() +
      ggplot2::facet_wrap(~metric, ncol = 1, scales = "free_y") +
      ggplot2::scale_x_continuous(breaks = epoch_breaks, minor_breaks = NULL, limits = xlim) +
      ggplot2::labs(x = "epoch", y = NULL, colour = NULL, title = "Training history") +
      ggplot2::theme_minimal()
    if (length(rounds)) {
      p <- p + ggplot2::geom_vline(xintercept = rounds - 0.5, linetype = "dashed", colour = "grey50") +
        ggplot2::labs(subtitle = sprintf("dashed: a pseudo-labelling round starts (pseudo-labelled images: %s)",
                                         paste(x$history$pseudo_labelled[x$history$epoch %in% rounds],
                                               collapse = ", ")))
    }
    return(p)
  }
  metrics <- unique(long$metric)
  old <- graphics::par(mfrow = c(length(metrics), 1))
  on.exit(graphics::par(old))
  for (m in metrics) {
    d <- long[long$metric == m, ]
    graphics::plot(d$epoch, d$value, type = "n", xlab = "epoch", ylab = m, xaxt = "n", xlim = xlim %||% range(d$epoch))
    graphics::axis(1, at = epoch_breaks(range(d$epoch)))
    graphics::abline(v = rounds - 0.5, lty = 2, col = "grey50")
    for (s in levels(d$data)) graphics::lines(d$epoch[d$data == s], d$value[d$data == s],
                                             type = "b", col = match(s, levels(d$data)))
  }
  invisible(NULL)
}

# History columns that count rather than measure: kept out of the metrics and their plots.
# `partial`: the share of its batches an epoch cut by Ctrl-C ran (only when one was cut).
bookkeeping_columns <- c("round", "pseudo_labelled", "partial")

# Whole epochs only (an axis of epochs 1, 2, 3, not 1.5 or 2.5).
epoch_breaks <- function(limits) {
  b <- pretty(limits)
  b <- b[b >= 1 & b == round(b)]
  if (length(b)) b else max(1, ceiling(limits[1]))
}

# First epochs of the pseudo-labelling rounds after round 0 (fit_pseudo_label()); none otherwise.
round_starts <- function(history) {
  if (!"round" %in% names(history) || nrow(history) < 2) return(numeric())
  history$epoch[c(FALSE, diff(history$round) != 0)]
}
