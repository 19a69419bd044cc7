# Self-supervised learning: thin wrappers over selfsup.self_supervised (pretext tasks, transfer,
# representation probes), and a plot of what a pretext task does.

#' The pretext tasks
#'
#' @returns A data frame with one row per task: `name`, `modality`, `input` (the data it
#'   takes), `predicts` (what the network learns to predict) and `reference`.
#' @family self-supervised
#' @seealso Python: `selfsup.ssl_tasks()`.
#' @examplesIf selfsup_available()
#' ssl_tasks()[, c("name", "modality", "predicts")]
#' @export
ssl_tasks <- function() {
  as_r_frame(py_call(selfsup_py$ssl_tasks))
}

#' Pretrain an encoder with a pretext task
#'
#' Pseudo-labels are made from the unlabelled data on the device, batch by batch (for
#' `"rotation"`, the seminar's task: each image turned by 0, 90, 180 or 270 degrees, and the
#' network predicts which). See [ssl_tasks()] for every task and the data it takes.
#'
#' @param x Unlabelled data: images `(n, height, width[, channels])` for the image tasks (integers
#'   0..255 or doubles), a character vector for `"masked_token"`, an array `(n, t, height, width)`
#'   for `"future_frame"`, a matrix `(n, samples)` for `"restoration"`.
#' @param task The pretext task, a name from `ssl_tasks()$name`.
#' @param encoder `"cnn"` (the seminar's CNN), `"mlp"` or `"convnet"` (a small conv net with batch
#'   norm); for text: the task's own encoder. Tasks that want no dropout while pretraining (simclr)
#'   switch the encoder's dropout off for the fit.
#' @param epochs,batch_size Number of passes over the data and samples per gradient step.
#' @param validation_split Share of samples (the last ones) held out for validation, in \[0, 1).
#' @param lr The optimiser's learning rate.
#' @param optimizer,weight_decay,schedule,ema The training loop's recipe, as in [fit_supervised()]
#'   (SimCLR trains well with `optimizer = "sgd", weight_decay = 5e-4, schedule = "cosine"`).
#' @param seed Seed for weights, batch order and every pseudo-label; the same seed gives the same model.
#' @param device `"auto"` (GPU when available), `"cpu"` or `"cuda"`.
#' @param verbose Show progress.
#' @param device_budget Bytes of `x` kept on the device at once; `NULL` (default): all of it. Larger
#'   data stream through the device in chunks of that size, with the same batches, so the same
#'   model. Useful for a memory-mapped `.npy` file larger than the GPU, passed as numpy:
#'   `reticulate::import("numpy", convert = FALSE)$load(path, mmap_mode = "r")`; see also
#'   [torchrun_command()] for several GPUs.
#' @param ... Options of the task, e.g. `all_rotations = TRUE` (rotation), `n_permutations = 30`
#'   (jigsaw), `temperature = 0.5` (simclr); an unknown option is an error listing the valid ones.
#' @returns A `selfsup_model` with the pretext head; `model$task` is the task, `model$history`
#'   the loss and pseudo-label metrics per epoch.
#' @family self-supervised
#' @seealso Python: `selfsup.ssl_pretrain()`.
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' pre <- ssl_pretrain(d$train$x[1:300, , ], "rotation", epochs = 2, seed = 1, device = "cpu",
#'                     verbose = FALSE)
#' pre
#' plot(pre)
#' @export
ssl_pretrain <- function(x, task = "rotation", encoder = "cnn", epochs = 10, batch_size = 64,
                         validation_split = 0, lr = 0.001, optimizer = "adam", weight_decay = 0,
                         schedule = "constant", ema = 0, seed = NULL, device = "auto", verbose = TRUE,
                         device_budget = NULL, ...) {
  args <- c(list(selfsup_py$ssl_pretrain, as_py_ssl_data(x), task = as_py_str(task, "task"),
                 device_budget = as_py_big_int(device_budget, "device_budget")),
            as_py_fit_settings(encoder, epochs, batch_size, validation_split, lr, optimizer, weight_decay,
                               schedule, ema, seed, device, verbose),
            as_py_options(list(...)))
  as_r_model(do.call(py_call, args))
}

#' Fine-tune a pretrained encoder on labelled images
#'
#' The seminar's transfer recipe: a new classifier for `x`'s image size gets every encoder
#' weight of `pretrained` whose name and shape match (a patch-level encoder's dense layer does
#' not fit whole images: it starts from random weights, with a warning); a fresh output layer is
#' trained with the encoder frozen for `freeze_epochs`, then everything for `finetune_epochs`.
#'
#' @param pretrained A `selfsup_model` from [ssl_pretrain()] (or any model: its encoder is used).
#' @param x,y Labelled images and their labels (as for [fit_supervised()]).
#' @param classes Optional class names (default: the levels of `y`).
#' @param freeze_epochs,finetune_epochs Epochs with the encoder frozen, then with all layers
#'   trained (0 skips a phase). History rows `1..freeze_epochs` are the frozen phase.
#' @param freeze_to Last layer frozen in the first phase, by name or 1-based position (default: the
#'   encoder's last layer). The seminar freezes only the convolution block: `freeze_to = "drop2"`.
#' @param batch_size Samples per gradient step, in both phases (the seminar uses 1).
#' @param lr,augment,flip,optimizer,weight_decay,schedule,ema As in [fit_supervised()], for each phase
#'   (a cosine schedule runs once per phase).
#' @inheritParams fit_supervised
#' @returns A classifier `selfsup_model`. Which weights were copied:
#'   `model$py$spec$transfer`.
#' @family self-supervised
#' @seealso Python: `selfsup.ssl_finetune()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' pre <- ssl_pretrain(d$train$x[1:300, , ], "rotation", epochs = 1, seed = 1, device = "cpu",
#'                     verbose = FALSE)
#' i <- sample_indices(dim(d$train$x)[1], 50, seed = 1)     # 50 labelled images
#' m <- ssl_finetune(pre, d$train$x[i, , ], d$train$y[i], freeze_epochs = 1, finetune_epochs = 1,
#'                   freeze_to = "drop2", batch_size = 8, seed = 1, device = "cpu", verbose = FALSE)
#' evaluate(m, d$test$x, d$test$y)
#' @export
ssl_finetune <- function(pretrained, x, y, classes = NULL, freeze_epochs = 10, finetune_epochs = 10,
                         freeze_to = NULL, batch_size = 64, validation_split = 0, lr = 0.001, augment = NULL,
                         flip = FALSE, optimizer = "adam", weight_decay = 0, schedule = "constant", ema = 0,
                         seed = NULL, device = "auto", verbose = TRUE) {
  pre <- as_py_model(pretrained, "pretrained")
  labels <- as_py_labels(y, classes = classes)
  as_r_model(py_call(
    selfsup_py$ssl_finetune, pre, as_py_array(x), labels$codes, classes = labels$classes,
    freeze_epochs = as_py_int(freeze_epochs, "freeze_epochs"), finetune_epochs = as_py_int(finetune_epochs, "finetune_epochs"),
    freeze_to = as_py_layer(freeze_to, "freeze_to"), batch_size = as_py_int(batch_size, "batch_size"),
    validation_split = as_py_num(validation_split, "validation_split"), lr = as_py_num(lr, "lr"),
    augment = as_py_str(augment, "augment", null_ok = TRUE), flip = as_py_bool(flip, "flip"),
    optimizer = as_py_str(optimizer, "optimizer"), weight_decay = as_py_num(weight_decay, "weight_decay"),
    schedule = as_py_str(schedule, "schedule"), ema = as_py_num(ema, "ema"),
    seed = as_py_seed(seed), device = as_py_str(device, "device"), verbose = as_py_bool(verbose, "verbose")
  ))
}

#' Encoder features of a model
#'
#' @param model A `selfsup_model` (pretrained or classifier).
#' @param x Data of the kind the model was trained on.
#' @param layer The encoder layer whose output is read (flattened), by name or 1-based position.
#'   Default (`NULL`): where pretext features probe best, the seminar CNN's convolution block
#'   (`"drop2"`), the convnet's last pooled block (`"pool2"`), the encoder's last layer otherwise.
#' @param batch_size Samples per forward pass.
#' @param device `"auto"`, `"cpu"` or `"cuda"`.
#' @returns A matrix `(n, features)`. Multi-patch tasks (relative_position, jigsaw) concatenate
#'   the features of every grid cell.
#' @family self-supervised
#' @seealso Python: `selfsup.ssl_embed()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' pre <- ssl_pretrain(d$train$x[1:300, , ], "rotation", epochs = 1, seed = 1, device = "cpu",
#'                     verbose = FALSE)
#' dim(ssl_embed(pre, d$test$x[1:10, , ]))
#' @export
ssl_embed <- function(model, x, layer = NULL, batch_size = 1024, device = "auto") {
  py_call(selfsup_py$ssl_embed, as_py_model(model), as_py_ssl_data(x), layer = as_py_layer(layer, "layer"),
          batch_size = as_py_int(batch_size, "batch_size"), device = as_py_str(device, "device"))
}

#' Judge a representation with a linear or k-nearest-neighbour probe
#'
#' Frozen encoder features ([ssl_embed()]) of the training images train a classifier from
#' scikit-learn: logistic regression on standardised features with an L2 penalty tuned by 5-fold
#' cross-validation on the training labels only (`"linear"`, the linear probe of the literature) or
#' k nearest neighbours by cosine similarity (`"knn"`); its accuracy on the test images is reported.
#'
#' @param model A `selfsup_model`.
#' @param x_train,y_train Labelled training images and labels.
#' @param x_test,y_test Test images and labels (with the same classes).
#' @param protocol `"linear"` or `"knn"`.
#' @param C The linear probe's inverse penalty; `NULL` (default): chosen by cross-validation from
#'   `10^(-4:2)`.
#' @param n_neighbors Neighbours for `"knn"`.
#' @param max_iter Iterations of the logistic regression.
#' @inheritParams ssl_embed
#' @returns A named list: `protocol`, `layer` (its name), `C` (the linear probe's; `NULL` for knn),
#'   `accuracy` (test), `train_accuracy`, `n_train`, `n_test`, `n_features`.
#' @family self-supervised
#' @seealso Python: `selfsup.ssl_evaluate()`.
#' @examplesIf selfsup_available()
#' d <- load_dataset("digits")
#' pre <- ssl_pretrain(d$train$x[1:300, , ], "rotation", epochs = 1, seed = 1, device = "cpu",
#'                     verbose = FALSE)
#' ssl_evaluate(pre, d$train$x[1:300, , ], d$train$y[1:300], d$test$x, d$test$y, device = "cpu")
#' @export
ssl_evaluate <- function(model, x_train, y_train, x_test, y_test, protocol = "linear", layer = NULL, C = NULL,
                         n_neighbors = 5, max_iter = 1000, batch_size = 1024, device = "auto") {
  train <- as_py_labels(y_train, "y_train")
  test <- as_py_labels(y_test, "y_test", classes = unlist(train$classes))
  py_call(selfsup_py$ssl_evaluate, as_py_model(model), as_py_ssl_data(x_train, "x_train"), train$codes,
          as_py_ssl_data(x_test, "x_test"), test$codes, protocol = as_py_str(protocol, "protocol"),
          layer = as_py_layer(layer, "layer"), C = as_py_num(C, "C", null_ok = TRUE),
          n_neighbors = as_py_int(n_neighbors, "n_neighbors"), max_iter = as_py_int(max_iter, "max_iter"),
          batch_size = as_py_int(batch_size, "batch_size"), device = as_py_str(device, "device"))
}

#' What a pretext task does
#'
#' One batch made from the first `n` samples: the inputs the network sees (the turned image,
#' the patches, the shuffled tiles, the two views, the masked or degraded input) with the
#' pseudo-labels or targets it must predict, and the model's outputs when `model` is given.
#'
#' @param x Data the task takes (see [ssl_pretrain()]).
#' @param task The task (default: `model`'s task, or `"rotation"`).
#' @param model Optional pretrained `selfsup_model`: its predictions (or reconstructions) are added.
#' @param n Number of samples.
#' @param seed Seed of the random choices (rotations, patches, permutations, augmentations).
#' @param device `"cpu"` (default), `"auto"` or `"cuda"`.
#' @param ... Options of the task (ignored with `model`: it uses its own).
#' @returns A `selfsup_ssl_show` list: `task`; `inputs`, an array `(n, [pieces,] height, width[,
#'   channels])`; `pieces`; `targets` (a factor when the task names its pseudo-labels, else as
#'   Python gives them: e.g. target images, or the partner view of each view for simclr, 1-based);
#'   `outputs` likewise, with `model`; for jigsaw, `cells` (a matrix, one row per sample): the grid cell
#'   (1-based, row by row) each tile was cut from, i.e. the permutation. `plot()` draws it.
#' @family self-supervised
#' @seealso Python: `selfsup.ssl_show()`, `selfsup.plot_ssl_show()`.
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' s <- ssl_show(d$train$x, "rotation", n = 4)
#' s
#' plot(ssl_show(photo_crops(8, size = 24, seed = 1), "jigsaw", n = 2))
#' @export
ssl_show <- function(x, task = NULL, model = NULL, n = 8, seed = 0, device = "cpu", ...) {
  args <- c(list(selfsup_py$ssl_show, as_py_ssl_data(x), task = as_py_str(task, "task", null_ok = TRUE),
                 model = if (is.null(model)) NULL else as_py_model(model), n = as_py_int(n, "n"),
                 seed = as_py_seed(seed), device = as_py_str(device, "device")), as_py_options(list(...)))
  as_r_ssl_show(do.call(py_call, args))
}

#' @export
print.selfsup_ssl_show <- function(x, ...) {
  shape <- if (is.null(dim(x$inputs))) length(x$inputs) else dim(x$inputs)
  cat(sprintf("Pretext task \"%s\": %d samples, inputs %s%s\n", x$task, shape[1], paste(shape, collapse = " x "),
              if (x$pieces > 1) sprintf(" (%d pieces each)", x$pieces) else ""))
  if (is.factor(x$targets) || is.null(dim(x$targets))) {
    cat("targets:", show_values(x$targets), "\n")
  }
  if (!is.null(x$outputs) && (is.factor(x$outputs) || is.null(dim(x$outputs)))) {
    cat("outputs:", show_values(x$outputs), "\n")
  }
  invisible(x)
}

show_values <- function(v) {
  v <- utils::head(v, 8)
  if (is.character(v)) paste0("\"", v, "\"", collapse = " ") else paste(format(as.character(v)), collapse = " ")
}

#' Plot what a pretext task does
#'
#' One row per sample: its input pieces (image, patches, tiles or views), then its target and
#' the model's output where they are images or signals; class pseudo-labels are written above
#' the row. Base graphics.
#'
#' @param x A `selfsup_ssl_show` from [ssl_show()].
#' @param y Unused.
#' @param ... Unused.
#' @returns `NULL`, invisibly.
#' @family self-supervised
#' @examplesIf selfsup_available() && requireNamespace("ggplot2", quietly = TRUE)
#' d <- load_dataset("digits")
#' plot(ssl_show(d$train$x, "rotation", n = 4))
#' @export
plot.selfsup_ssl_show <- function(x, y, ...) {
  n <- if (is.null(dim(x$inputs))) length(x$inputs) else dim(x$inputs)[1]
  sample_of <- function(a, i) {
    if (is.null(a) || is.null(dim(a))) return(NULL)
    d <- dim(a)
    array(a[seq(i, by = d[1], length.out = prod(d[-1]))], dim = d[-1])   # a[i, , ...]
  }
  labels <- character(n)
  rows <- lapply(seq_len(n), function(i) {
    inp <- if (is.character(x$inputs)) x$inputs[i] else sample_of(x$inputs, i)  # text: the masked string
    pieces <- if (x$pieces > 1) lapply(seq_len(x$pieces), function(k) sample_of(inp, k)) else list(inp)
    titles <- if (is.null(x$cells)) rep("", length(pieces)) else sprintf("cell %d", x$cells[i, ])  # jigsaw
    panels <- Map(function(p, title) list(data = p, title = title), pieces, titles)
    text <- character()
    for (key in c("targets", "outputs")) {
      v <- x[[key]]
      if (is.null(v)) next
      if (is.null(dim(v)) || is.factor(v) || length(dim(v)) == 2L && all(v == round(v))) {  # labels, ids
        value <- if (is.null(dim(v))) as.character(v[i]) else paste(v[i, ], collapse = " ")
        text <- c(text, sprintf("%s: %s", if (key == "targets") "target" else "predicted", value))
      } else {
        panels <- c(panels, list(list(data = sample_of(v, i), title = sub("s$", "", key))))
      }
    }
    labels[i] <<- paste(text, collapse = "\n")
    panels
  })
  cols <- max(lengths(rows))
  # top margin per panel: a line for the panel's title (view, target, cell) and one for the row's labels
  has_title <- any(vapply(rows, function(r) any(nzchar(vapply(r, `[[`, "", "title"))), TRUE))
  top <- 0.3 + 1.2 * has_title + 1.3 * any(nzchar(labels))
  old <- graphics::par(mfrow = c(n, cols), oma = c(0, 0, 2.2, 0), mar = c(0.3, 0.3, top, 0.3))
  on.exit(graphics::par(old))
  for (i in seq_len(n)) {
    for (j in seq_len(cols)) {
      if (j > length(rows[[i]])) {
        graphics::plot.new()
        next
      }
      draw_panel(rows[[i]][[j]]$data)
      graphics::title(rows[[i]][[j]]$title, cex.main = 0.95, font.main = 1, line = 0.3)
      if (j == 1L && nzchar(labels[i])) {
        graphics::mtext(gsub("\n", "; ", labels[i]), side = 3, adj = 0, cex = 0.85, font = 2,
                        line = 0.3 + 1.2 * has_title, xpd = NA)
      }
    }
  }
  graphics::mtext(sprintf("pretext task: %s", x$task), outer = TRUE, cex = 1.2, font = 2, line = 0.6)
  invisible(NULL)
}

# One panel: an image (height, width[, 3]) in [0, 1], a 1-d signal, or a text.
draw_panel <- function(a) {
  if (is.character(a)) {
    graphics::plot.new()
    graphics::text(0, 0.5, paste(strwrap(a, 50), collapse = "\n"), adj = 0, cex = 0.8, xpd = NA)
    return(invisible())
  }
  if (is.null(dim(a)) || length(dim(a)) == 1L) {
    graphics::plot(as.vector(a), type = "l", axes = FALSE, xlab = "", ylab = "")
    graphics::box()
    return(invisible())
  }
  a <- pmin(pmax(a, 0), 1)
  graphics::plot.new()
  graphics::plot.window(c(0, dim(a)[2]), c(0, dim(a)[1]), asp = 1)
  raster <- if (length(dim(a)) == 3L) grDevices::rgb(a[, , 1], a[, , 2], a[, , 3]) else grDevices::gray(a)
  dim(raster) <- dim(a)[1:2]
  graphics::rasterImage(raster, 0, 0, dim(a)[2], dim(a)[1], interpolate = FALSE)
}
