# Self-supervised learning, the seminar's "R Code" section, with selfsup.
#
# Does a network pretrained on a pretext task (predict how an image was rotated: labels made from
# the images themselves) learn a downstream task with only 150 labels better than a network
# trained from scratch on those 150 labels? Steps:
#   1. the data     2. a CNN on all labels     3. the same CNN on 150 labels, 20 times
#   4. the pretext task (rotation)             5. transfer + fine-tune on the same 150 labels
#   6. the comparison
#
# Run:  make seminar               (Fashion-MNIST, the full recipe: about 8 minutes on 2 CPU cores)
#       make seminar QUICK=1       (fewer epochs and replicates: about 2 minutes on 2 CPU cores)
#       make seminar SEMINAR_DATA=/path/to/mnist   (MNIST: IDX files or mnist.npz)
# or    Rscript r-package/inst/seminar/seminar.R   with the environment variables below.
# Python twin, same table for the same seed: python -m selfsup.seminar

library(selfsup)
suppressPackageStartupMessages(library(ggplot2))

setting <- function(name, default) {
  value <- Sys.getenv(name)
  if (nzchar(value)) value else default
}
preset <- setting("SEMINAR_PRESET", "full")         # "full", "quick" or "tiny" (tests)
dataset <- setting("SEMINAR_DATASET", if (nzchar(Sys.getenv("SEMINAR_DATA"))) "mnist" else "fashion_mnist")
out <- setting("SEMINAR_OUT", "seminar-output")
seed <- as.integer(setting("SEMINAR_SEED", "1"))
device <- setting("SEMINAR_DEVICE", "auto")

# The recipe in one place (the Python twin has the same presets).
recipe <- list(epochs = 10, pretext_epochs = 10, replicates = 20, n_labelled = 150,
               small_epochs = 10, freeze_epochs = 10, finetune_epochs = 10)
recipe <- switch(preset,
  full = recipe,
  quick = modifyList(recipe, list(epochs = 1, pretext_epochs = 3, replicates = 5)),  # budget: see seminar.py
  tiny = modifyList(recipe, list(epochs = 1, pretext_epochs = 1, replicates = 2, small_epochs = 1,
                                 freeze_epochs = 1, finetune_epochs = 1)),
  stop("SEMINAR_PRESET must be full, quick or tiny; got ", preset, call. = FALSE)
)
dir.create(out, showWarnings = FALSE, recursive = TRUE)
started <- Sys.time()
say <- function(...) message(format(Sys.time(), "[%H:%M:%S] "), ...)
save_plot <- function(plot, file, width = 7, height = 5) {
  ggsave(file.path(out, file), plot, width = width, height = height, dpi = 100, bg = "white")
  say("wrote ", file.path(out, file))
}

# Images as tiles: a data frame (image, row, col, value) for geom_raster, one panel per image.
image_tiles <- function(x) {
  n <- dim(x)[1]; h <- dim(x)[2]; w <- dim(x)[3]
  data.frame(
    image = rep(seq_len(n), times = h * w),
    row = rep(rep(seq_len(h), each = n), times = w),
    col = rep(seq_len(w), each = n * h),
    value = as.vector(x)
  )
}
image_grid <- function(x, titles, heading) {
  ggplot(image_tiles(x), aes(col, row, fill = value)) +
    geom_raster() + scale_y_reverse() + scale_fill_gradient(low = "white", high = "black", guide = "none") +
    facet_wrap(~image, ncol = 4, labeller = as_labeller(stats::setNames(titles, seq_along(titles)))) +
    coord_equal() + theme_void() + labs(title = heading) +
    theme(strip.text = element_text(size = 9), plot.title = element_text(hjust = 0.5))
}

# ---- 1. The data: images scaled to [0, 1] --------------------------------------------------
say("step 1: loading ", dataset)
d <- if (dataset == "mnist") load_dataset("mnist", path = Sys.getenv("SEMINAR_DATA")) else load_dataset(dataset)
x_train <- d$train$x / 255
y_train <- d$train$y
x_test <- d$test$x / 255
y_test <- d$test$y
shape <- dim(x_train)[-1]
save_plot(image_grid(x_train[1:16, , ], as.character(y_train[1:16]),
                     sprintf("Step 1: the first 16 training images of %s with their labels", dataset)),
          "01-images.png")

# ---- 2. The CNN on every labelled training image -------------------------------------------
# conv 64@2x2, pool, dropout .3, conv 32@2x2, pool, dropout .3, dense 256, dropout .5, dense 10
say("step 2: the CNN on all ", dim(x_train)[1], " training images, ", recipe$epochs, " epochs")
model <- build_model(shape, classes = d$classes, seed = seed)
print(summary(model))
initial_weights <- get_weights(model)                  # kept for step 3
fit_supervised(x_train, y_train, model = model, epochs = recipe$epochs, batch_size = 64,
               validation_split = 0.2, seed = seed, device = device)
save_plot(plot(model) + labs(title = "Step 2: training history of the CNN on all labels"), "02-history.png")
full <- evaluate(model, x_test, y_test, device = device)
say(sprintf("step 2: test accuracy %.4f (the seminar, MNIST: 0.9915)", full$accuracy))

# ---- 3. Only 150 labels: the same CNN from the same initial weights, batch 1 ------------------
# One replicate = one random draw of 150 labelled images and one model starting from the initial
# weights of step 2. fit_replicates() trains them side by side and gives the same models as a loop
# of fit_supervised(x_train[idx, , ], y_train[idx], model = small[[r]], seed = seed + r).
replicates <- seq_len(recipe$replicates)
draws <- lapply(replicates, function(r) sample_indices(dim(x_train)[1], recipe$n_labelled, seed = seed * 1000 + r))
small <- lapply(replicates, function(r) set_weights(build_model(shape, classes = d$classes), initial_weights))
say("step 3: ", recipe$replicates, " models on ", recipe$n_labelled, " labels each, ", recipe$small_epochs, " epochs")
fit_replicates(small, x_train, y_train, draws, seeds = seed + replicates, epochs = recipe$small_epochs,
               batch_size = 1, validation_split = 0.2, device = device)
test_scores <- function(models, method, step) do.call(rbind, lapply(replicates, function(r) {
  res <- evaluate(models[[r]], x_test, y_test, device = device)
  say(sprintf("step %d replicate %d/%d: test accuracy %.4f", step, r, recipe$replicates, res$accuracy))
  data.frame(method = method, replicate = r, accuracy = res$accuracy, loss = res$loss)
}))
supervised <- test_scores(small, "supervised", 3)
long <- function(df) rbind(
  data.frame(df[c("method", "replicate")], metric = "accuracy", value = df$accuracy),
  data.frame(df[c("method", "replicate")], metric = "loss", value = df$loss))
save_plot(ggplot(long(supervised), aes(metric, value)) + geom_boxplot() + geom_jitter(width = 0.1, alpha = 0.5) +
            facet_wrap(~metric, scales = "free") + theme_minimal() +
            labs(x = NULL, y = NULL, title = sprintf("Step 3: from scratch on %d labels, %d replicates",
                                                     recipe$n_labelled, recipe$replicates)),
          "03-supervised-150.png")

# ---- 4. The pretext task: predict the rotation --------------------------------------------
# Turn image i counter-clockwise by k[i] * 90 degrees; k is the label, made from the data itself.
rotate <- function(x, k) {
  for (turns in 1:3) {
    pick <- which(k == turns)
    img <- x[pick, , , drop = FALSE]
    for (t in seq_len(turns)) img <- aperm(img, c(1, 3, 2))[, dim(img)[3]:1, , drop = FALSE]
    x[pick, , ] <- img
  }
  x
}
degrees <- c("0", "90", "180", "270")
k_train <- sample_indices(4, dim(x_train)[1], replace = TRUE, seed = seed) - 1L
k_test <- sample_indices(4, dim(x_test)[1], replace = TRUE, seed = seed + 1) - 1L
x_rot <- rotate(x_train, k_train)
y_rot <- factor(degrees[k_train + 1], levels = degrees)
save_plot(image_grid(x_rot[1:16, , ], sprintf("label: %s", y_rot[1:16]),
                     "Step 4: rotated training images and their pretext labels (degrees)"),
          "04-rotations.png")
say("step 4: the same CNN with a 4-way head learns the rotation, ", recipe$pretext_epochs, " epochs")
pretext <- build_model(shape, classes = degrees, seed = seed)
fit_supervised(x_rot, y_rot, model = pretext, epochs = recipe$pretext_epochs, batch_size = 64,
               validation_split = 0.2, seed = seed, device = device)
save_plot(plot(pretext) + labs(title = "Step 4: training history of the rotation pretext task"),
          "04-pretext-history.png")
rotation <- evaluate(pretext, rotate(x_test, k_test), factor(degrees[k_test + 1], levels = degrees),
                     device = device)
say(sprintf("step 4: rotation accuracy on rotated test images %.4f (the seminar, MNIST: 0.9883)",
            rotation$accuracy))
# (In one call, with fresh rotations every epoch: ssl_pretrain(x_train, task = "rotation").)

# ---- 5. Transfer: pretrained layers, fresh 10-class output, freeze, train, unfreeze, train ----
pretrained <- get_weights(pretext)
pretrained <- pretrained[!startsWith(names(pretrained), "output.")]   # all but the 4-way output
ft <- lapply(replicates, function(r) set_weights(build_model(shape, classes = d$classes, seed = seed + r),
                                                pretrained))
for (m in ft) freeze_weights(m, to_layer = "drop2")                     # the convolution block
say("step 5: ", recipe$replicates, " transferred models, convolutions frozen, ", recipe$freeze_epochs, " epochs")
# the same draws of 150 images (and seeds) as step 3
fit_replicates(ft, x_train, y_train, draws, seeds = seed + replicates, epochs = recipe$freeze_epochs,
               batch_size = 1, validation_split = 0.2, device = device)
for (m in ft) unfreeze_weights(m)
say("step 5: all layers trainable, ", recipe$finetune_epochs, " epochs")
fit_replicates(ft, x_train, y_train, draws, seeds = seed + replicates, epochs = recipe$finetune_epochs,
               batch_size = 1, validation_split = 0.2, device = device)
transferred <- test_scores(ft, "self-supervised", 5)

# The same transfer in one call: ssl_finetune() copies the encoder, freezes, trains, unfreezes,
# trains. It gives exactly the model of replicate 1 above.
one_call <- ssl_finetune(pretext, x_train[draws[[1]], , ], y_train[draws[[1]]], classes = d$classes,
                         freeze_epochs = recipe$freeze_epochs, finetune_epochs = recipe$finetune_epochs,
                         freeze_to = "drop2", batch_size = 1, validation_split = 0.2, seed = seed + 1,
                         device = device, verbose = FALSE)
same <- identical(get_weights(one_call), get_weights(ft[[1]]))
say("step 5: ssl_finetune() in one call gives replicate 1's model: ", same)
stopifnot(same)

# ---- 6. Supervised vs self-supervised -----------------------------------------------------
both <- long(rbind(supervised, transferred))
both$method <- factor(both$method, levels = c("supervised", "self-supervised"))
save_plot(ggplot(both, aes(method, value, fill = method)) + geom_boxplot(alpha = 0.6) +
            geom_jitter(width = 0.1, alpha = 0.5) + facet_wrap(~metric, scales = "free_y") +
            theme_minimal() + theme(legend.position = "none") +
            labs(x = NULL, y = NULL, title = sprintf(
              "Step 6: %d labels, %d replicates: from scratch vs rotation-pretrained",
              recipe$n_labelled, recipe$replicates)),
          "06-comparison.png", width = 8)

summarise <- function(step, metric, values, seminar = NA) {
  q <- stats::quantile(values, c(0.25, 0.75), type = 7, names = FALSE)
  data.frame(data = dataset, step = step, metric = metric, n = length(values), median = stats::median(values),
             iqr = q[2] - q[1], min = min(values), max = max(values), seminar_mnist = seminar)
}
results <- rbind(
  summarise("2 full CNN", "test accuracy", full$accuracy, 0.9915),
  summarise("2 full CNN", "test loss", full$loss),
  summarise("3 supervised (150 labels)", "test accuracy", supervised$accuracy, 0.79),
  summarise("3 supervised (150 labels)", "test loss", supervised$loss),
  summarise("4 rotation pretext", "rotation test accuracy", rotation$accuracy, 0.9883),
  summarise("5 self-supervised (150 labels)", "test accuracy", transferred$accuracy, 0.835),
  summarise("5 self-supervised (150 labels)", "test loss", transferred$loss)
)
cells <- results
for (col in c("median", "iqr", "min", "max", "seminar_mnist")) {
  cells[[col]] <- ifelse(is.na(results[[col]]), "NA", sprintf("%.6f", results[[col]]))
}
utils::write.csv(cells, file.path(out, "results-r.csv"), row.names = FALSE, quote = FALSE)
md <- c(paste0("| ", paste(names(cells), collapse = " | "), " |"), paste0("|", strrep("---|", ncol(cells))),
        apply(cells, 1, function(r) paste0("| ", paste(trimws(r), collapse = " | "), " |")))
writeLines(md, file.path(out, "results-r.md"))
writeLines(md)
# How this run was made, for the report (make report): preset, data, device and its reason, time.
used <- selfsup_device(device)
utils::write.csv(data.frame(
  preset = preset, data = dataset, seed = seed, replicates = recipe$replicates, n_labelled = recipe$n_labelled,
  epochs = recipe$epochs, device = used$device, device_reason = used$reason,
  minutes = round(as.numeric(difftime(Sys.time(), started, units = "mins")), 2),
  finished = format(Sys.time(), "%Y-%m-%d %H:%M %Z"), selfsup = format(utils::packageVersion("selfsup")),
  r_version = R.version.string
), file.path(out, "run-r.csv"), row.names = FALSE)
say(sprintf("done in %.1f minutes; figures and results-r.csv / results-r.md are in %s",
            as.numeric(difftime(Sys.time(), started, units = "mins")), normalizePath(out)))
say(sprintf("median test accuracy with %d labels: supervised %.4f, self-supervised %.4f",
            recipe$n_labelled, median(supervised$accuracy), median(transferred$accuracy)))
