# Unsupervised learning: thin wrappers over selfsup.unsupervised (k-means, PCA, autoencoders),
# and the plots a user wants from them.

#' k-means clustering
#'
#' Lloyd's algorithm from k-means++ starts (greedy, as scikit-learn), run in PyTorch on the CPU or
#' GPU. Named like scikit-learn's `k_means()` so that [stats::kmeans()] stays what it is; the
#' result keeps [stats::kmeans()]'s field names `cluster` and `centers`.
#'
#' @param x A matrix `(n, features)` or images `(n, height, width[, channels])` (flattened; used
#'   as given, pixel units kept).
#' @param k Number of clusters, 1 to `n`.
#' @param n_init Number of k-means++ starts; the one with the lowest inertia is kept.
#' @param max_iter Most iterations per start.
#' @param tol Stop when the centres move less than `tol` times the mean feature variance.
#' @param seed Seed; the same seed gives the same clusters.
#' @param device `"auto"` (GPU when available), `"cpu"` or `"cuda"`.
#' @returns A `selfsup_kmeans` list: `cluster` (1-based integers), `centers` (`k` rows, each
#'   shaped like a sample), `inertia` (sum of squared distances to the centres), `within_ss` (its
#'   share of each cluster), `iterations`,
#'   `n_init`, `seed`.
#' @family unsupervised
#' @seealso Python: `selfsup.k_means()`; R's own [stats::kmeans()].
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' x <- d$train$x[1:300, , ]
#' km <- k_means(x, 10, seed = 1, device = "cpu")
#' km
#' table(km$cluster, d$train$y[1:300])
#' @export
k_means <- function(x, k, n_init = 10, max_iter = 300, tol = 1e-4, seed = NULL, device = "auto") {
  as_r_kmeans(py_call(selfsup_py$k_means, as_py_array(x), as_py_int(k, "k"),
                      n_init = as_py_int(n_init, "n_init"), max_iter = as_py_int(max_iter, "max_iter"),
                      tol = as_py_num(tol, "tol"), seed = as_py_seed(seed), device = as_py_str(device, "device")))
}

#' Principal component analysis
#'
#' SVD of the centred data in double precision (PyTorch). Each component's largest entry is
#' positive, so signs are reproducible.
#'
#' @param x A matrix `(n, features)` or images `(n, height, width[, channels])` (flattened).
#' @param n_components Number of components, at most `min(n, features)`.
#' @param device `"auto"`, `"cpu"` or `"cuda"`.
#' @returns A `selfsup_pca` list: `scores` (n x components), `components` (components x features),
#'   `explained_variance`, `explained_variance_ratio`, `mean`, `sample_shape`. `plot()` draws a
#'   scree plot.
#' @family unsupervised
#' @seealso Python: `selfsup.unsupervised.pca()`.
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' p <- pca(d$train$x, 10, device = "cpu")
#' p
#' plot_embedding(p$scores, d$train$y, title = "digits on their first two principal components")
#' @export
pca <- function(x, n_components = 2, device = "auto") {
  as_r_pca(py_call(selfsup_py$pca, as_py_array(x), as_py_int(n_components, "n_components"), device = as_py_str(device, "device")))
}

#' Project new data on principal components, and back
#'
#' @param pca A result of [pca()].
#' @param x New samples with the same features (or image shape) as the data `pca` was fitted on.
#' @param scores A matrix of scores, one column per component.
#' @returns `pca_transform()`: a scores matrix. `pca_inverse()`: the samples rebuilt from the
#'   scores, shaped like the fitted samples (a matrix, or an array of images).
#' @family unsupervised
#' @seealso Python: `selfsup.unsupervised.pca_transform()`, `pca_inverse()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' p <- pca(d$train$x, 5, device = "cpu")
#' scores <- pca_transform(p, d$test$x[1:3, , ])
#' scores
#' dim(pca_inverse(p, scores))   # 3 images of 8x8 again
#' @export
pca_transform <- function(pca, x) {
  out <- py_call(selfsup_py$pca_transform, as_py_pca(pca), as_py_array(x))
  colnames(out) <- names(pca$explained_variance)
  out
}

#' @rdname pca_transform
#' @export
pca_inverse <- function(pca, scores) {
  if (is.null(dim(scores))) scores <- matrix(scores, nrow = 1)
  py_call(selfsup_py$pca_inverse, as_py_pca(pca), as_py_array(unname(scores), "scores"))
}

#' Train an autoencoder
#'
#' An encoder squeezes each sample through `latent_dim` numbers and a decoder rebuilds the
#' sample from them; training minimises the mean squared reconstruction error. With
#' `latent_dim = 2`, [encode()] gives the seminar's 2-D picture of the data.
#'
#' @param x Images `(n, height, width[, channels])`, or a matrix `(n, features)` with
#'   `kind = "dense"`. Integer pixels are scaled to \[0, 1\]; doubles are used as given.
#' @param latent_dim Width of the code.
#' @param kind `"dense"` (784-256-64-latent for 28x28 images) or `"conv"` (strided convolutions).
#' @inheritParams fit_supervised
#' @returns A `selfsup_model` (task `"autoencoder"`) with its history.
#' @family unsupervised
#' @seealso Python: `selfsup.unsupervised.fit_autoencoder()`.
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' ae <- fit_autoencoder(d$train$x[1:300, , ], latent_dim = 2, epochs = 2, seed = 1, device = "cpu",
#'                       verbose = FALSE)
#' plot_embedding(encode(ae, d$test$x), d$test$y)
#' @export
fit_autoencoder <- function(x, latent_dim = 2, kind = "dense", epochs = 10, batch_size = 64,
                            validation_split = 0, lr = 0.001, seed = NULL, device = "auto", verbose = TRUE) {
  as_r_model(py_call(
    selfsup_py$fit_autoencoder, as_py_array(x), latent_dim = as_py_int(latent_dim, "latent_dim"),
    kind = as_py_str(kind, "kind"), epochs = as_py_int(epochs, "epochs"), batch_size = as_py_int(batch_size, "batch_size"),
    validation_split = as_py_num(validation_split, "validation_split"), lr = as_py_num(lr, "lr"), seed = as_py_seed(seed), device = as_py_str(device, "device"),
    verbose = as_py_bool(verbose, "verbose")
  ))
}

#' Codes and reconstructions of an autoencoder
#'
#' @param model A `selfsup_model` from [fit_autoencoder()].
#' @param x Samples shaped like the training data.
#' @param batch_size Samples per forward pass.
#' @param device `"auto"`, `"cpu"` or `"cuda"`.
#' @returns `encode()`: a matrix `(n, latent_dim)`. `reconstruct()`: an array shaped like `x`, on
#'   its scale (0..255 for integer pixels).
#' @family unsupervised
#' @seealso Python: `selfsup.encode()`, `selfsup.reconstruct()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' ae <- fit_autoencoder(d$train$x[1:300, , ], latent_dim = 2, epochs = 2, seed = 1, device = "cpu",
#'                       verbose = FALSE)
#' head(encode(ae, d$test$x))
#' dim(reconstruct(ae, d$test$x[1:2, , ]))
#' @export
encode <- function(model, x, batch_size = 1024, device = "auto") {
  py_call(selfsup_py$encode, as_py_model(model), as_py_array(x),
          batch_size = as_py_int(batch_size, "batch_size"), device = as_py_str(device, "device"))
}

#' @rdname encode
#' @export
reconstruct <- function(model, x, batch_size = 1024, device = "auto") {
  py_call(selfsup_py$reconstruct, as_py_model(model), as_py_array(x),
          batch_size = as_py_int(batch_size, "batch_size"), device = as_py_str(device, "device"))
}

# ------------------------------------------------------------------------------------ methods
#' @export
print.selfsup_kmeans <- function(x, ...) {
  sizes <- tabulate(x$cluster, nbins = nrow(x$centers))
  cat(sprintf("k-means: %d clusters of sizes %s\n", length(sizes), paste(sizes, collapse = ", ")))
  cat(sprintf("inertia %.6g after %d iterations (best of %d starts, seed %s)\n",
              x$inertia, x$iterations, x$n_init, format(x$seed, scientific = FALSE)))
  invisible(x)
}

#' Summaries of k-means and PCA results
#'
#' @param object A result of [k_means()] or [pca()].
#' @param ... Unused.
#' @returns `summary(k_means(...))`: a data frame with one row per cluster (`cluster`, `size`,
#'   `within_ss`: the squared distances of its samples to its centre), printed with the totals.
#'   `summary(pca(...))`: a list whose `importance` matrix has, as [stats::prcomp()]'s summary,
#'   the standard deviation, proportion of variance and cumulative proportion of each component.
#' @family unsupervised
#' @export
summary.selfsup_kmeans <- function(object, ...) {
  k <- nrow(object$centers)
  structure(data.frame(cluster = seq_len(k), size = tabulate(object$cluster, k), within_ss = object$within_ss),
            inertia = object$inertia, iterations = object$iterations, n_init = object$n_init,
            class = c("selfsup_kmeans_summary", "data.frame"))
}

#' @export
print.selfsup_kmeans_summary <- function(x, ...) {
  cat(sprintf("k-means: %d clusters, inertia %.6g (%d iterations, best of %d starts)\n", nrow(x),
              attr(x, "inertia"), attr(x, "iterations"), attr(x, "n_init")))
  print(structure(x, class = "data.frame", inertia = NULL, iterations = NULL, n_init = NULL), row.names = FALSE)
  invisible(x)
}

#' @rdname summary.selfsup_kmeans
#' @export
summary.selfsup_pca <- function(object, ...) {
  importance <- rbind("Standard deviation" = sqrt(object$explained_variance),
                      "Proportion of Variance" = object$explained_variance_ratio,
                      "Cumulative Proportion" = cumsum(object$explained_variance_ratio))
  structure(list(importance = importance, n_features = length(object$mean)), class = "selfsup_pca_summary")
}

#' @export
print.selfsup_pca_summary <- function(x, ...) {
  cat(sprintf("PCA of %d features. Importance of components:\n", x$n_features))
  print(x$importance, digits = 4)
  invisible(x)
}

#' @export
print.selfsup_pca <- function(x, ...) {
  cat(sprintf("PCA: %d components of %d features\n", ncol(x$scores), length(x$mean)))
  print(rbind(variance = x$explained_variance, ratio = x$explained_variance_ratio,
              cumulative = cumsum(x$explained_variance_ratio)), digits = 4)
  invisible(x)
}

need_ggplot2 <- function() {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    stop("This plot needs ggplot2: install.packages(\"ggplot2\").", call. = FALSE)
  }
}

#' Scree plot of a PCA
#'
#' Bars: share of the variance each component explains; line: cumulative share.
#' @param x A result of [pca()].
#' @param y,... Unused.
#' @returns A ggplot object.
#' @family unsupervised
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' plot(pca(d$train$x, 10, device = "cpu"))
#' @export
plot.selfsup_pca <- function(x, y, ...) {
  need_ggplot2()
  d <- data.frame(component = seq_along(x$explained_variance_ratio), ratio = x$explained_variance_ratio,
                  cumulative = cumsum(x$explained_variance_ratio))
  ggplot2::ggplot(d, ggplot2::aes(component, ratio)) +
    ggplot2::geom_col(fill = "grey60") +
    ggplot2::geom_line(ggplot2::aes(y = cumulative)) + ggplot2::geom_point(ggplot2::aes(y = cumulative)) +
    ggplot2::scale_x_continuous(breaks = d$component) +
    ggplot2::labs(x = "principal component", y = "share of variance (bars) and cumulative (line)",
                  title = "Scree plot") +
    ggplot2::theme_minimal()
}

#' Plot k-means clusters in 2-D
#'
#' Samples coloured by cluster and the centres as crosses: directly when the data have two columns,
#' otherwise on its first two principal components.
#' @param x A result of [k_means()].
#' @param y The data that was clustered (`plot(km, x)`).
#' @param ... Unused.
#' @returns A ggplot object.
#' @family unsupervised
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' x <- d$train$x[1:300, , ]
#' plot(k_means(x, 10, seed = 1, device = "cpu"), x)
#' @export
plot.selfsup_kmeans <- function(x, y, ...) {
  need_ggplot2()
  if (missing(y)) stop("`y` is missing: pass the data that was clustered, plot(km, x).", call. = FALSE)
  data <- y
  centers <- matrix(x$centers, nrow = nrow(x$centers))
  if (length(dim(data)) == 2L && ncol(data) == 2L) {
    xy <- as.matrix(data)
    axes <- c(colnames(data) %||% c("x1", "x2"))
  } else {
    p <- pca(data, 2, device = "cpu")
    xy <- p$scores
    centers <- pca_transform(p, array(x$centers, dim = c(nrow(centers), p$sample_shape)))
    axes <- c("PC1", "PC2")
  }
  pts <- data.frame(a = xy[, 1], b = xy[, 2], cluster = factor(x$cluster))
  ctr <- data.frame(a = centers[, 1], b = centers[, 2], cluster = factor(seq_len(nrow(centers))))
  ggplot2::ggplot(pts, ggplot2::aes(a, b, colour = cluster)) +
    ggplot2::geom_point(size = 0.8, alpha = 0.6) +
    ggplot2::geom_point(data = ctr, shape = 4, size = 4, stroke = 1.5, colour = "black") +
    ggplot2::labs(x = axes[1], y = axes[2], colour = "cluster", title = "k-means clusters") +
    ggplot2::theme_minimal()
}

#' Plot a 2-D embedding coloured by class
#'
#' The seminar's "reduce dimensionality" picture: autoencoder codes ([encode()]), PCA scores or
#' anything with two columns, one point per sample.
#' @param embedding A matrix with at least two columns (the first two are plotted).
#' @param labels Optional labels (factor, character or integer) or clusters to colour by.
#' @param title Plot title.
#' @returns A ggplot object.
#' @family unsupervised
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' p <- pca(d$train$x, 2, device = "cpu")
#' plot_embedding(p$scores, d$train$y)
#' @export
plot_embedding <- function(embedding, labels = NULL, title = "2-D embedding") {
  need_ggplot2()
  if (length(dim(embedding)) != 2L || ncol(embedding) < 2L) {
    stop("`embedding` must be a matrix with at least 2 columns.", call. = FALSE)
  }
  d <- data.frame(a = embedding[, 1], b = embedding[, 2])
  if (!is.null(labels)) {
    if (length(labels) != nrow(d)) {
      stop(sprintf("`labels` has %d values but `embedding` has %d rows.", length(labels), nrow(d)), call. = FALSE)
    }
    d$label <- factor(labels)
  }
  axes <- colnames(embedding) %||% c("dimension 1", "dimension 2")
  aes <- if (is.null(labels)) ggplot2::aes(a, b) else ggplot2::aes(a, b, colour = label)
  ggplot2::ggplot(d, aes) + ggplot2::geom_point(size = 0.8, alpha = 0.7) +
    ggplot2::labs(x = axes[1], y = axes[2], colour = NULL, title = title) +
    ggplot2::guides(colour = ggplot2::guide_legend(override.aes = list(size = 3, alpha = 1))) +
    ggplot2::theme_minimal()
}

#' Plot reconstructions next to their inputs
#'
#' Top row: the first `n` images; bottom row: what an autoencoder ([fit_autoencoder()]) or a
#' PCA ([pca()], through its components) makes of them.
#' @param model A `selfsup_model` autoencoder or a `selfsup_pca` fitted on images.
#' @param x Images `(n, height, width)` (grey) shaped like the training data.
#' @param n Number of images to show.
#' @returns A ggplot object.
#' @family unsupervised
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' plot_reconstructions(pca(d$train$x, 10, device = "cpu"), d$test$x, n = 6)
#' @export
plot_reconstructions <- function(model, x, n = 8) {
  need_ggplot2()
  if (length(dim(x)) != 3L) stop("`x` must be grey images, an array (n, height, width).", call. = FALSE)
  n <- min(as_py_int(n, "n"), dim(x)[1])
  x <- x[seq_len(n), , , drop = FALSE]
  rec <- if (inherits(model, "selfsup_pca")) pca_inverse(model, pca_transform(model, x)) else reconstruct(model, x)
  if (!inherits(model, "selfsup_pca") && is.integer(x)) rec <- pmin(pmax(rec, 0), 255)
  tile <- function(a, row) {
    h <- dim(a)[2]
    w <- dim(a)[3]
    data.frame(image = rep(seq_len(n), times = h * w), y = rep(rep(h:1, each = n), times = w),
               x = rep(seq_len(w), each = n * h), value = as.vector(a), row = row)
  }
  d <- rbind(tile(x, "input"), tile(rec, "reconstruction"))
  d$row <- factor(d$row, levels = c("input", "reconstruction"))
  ggplot2::ggplot(d, ggplot2::aes(x, y, fill = value)) + ggplot2::geom_raster() +
    ggplot2::facet_grid(row ~ image, switch = "y") +
    ggplot2::scale_fill_gradient(low = "black", high = "white", guide = "none") +
    ggplot2::coord_fixed() + ggplot2::theme_void() +
    ggplot2::labs(title = "Inputs and reconstructions")
}

utils::globalVariables(c("a", "b", "cluster", "label", "component", "ratio", "cumulative", "x", "y", "image"))
