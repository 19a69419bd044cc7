# Issue 15's target: the natural R loop of the seminar's step 3 (one fit_supervised() per draw) against
# fit_replicates() on the same draws, same seeds, same initial weights: 20 models, 150 labels, batch 1,
# validation split 0.2. Prints both times and their ratio (and checks the models are identical).
# Usage: Rscript bench/r_loop.R [epochs]   (the issue's recipe: 10)
suppressPackageStartupMessages(library(selfsup))
epochs <- as.integer(commandArgs(TRUE)[1]); if (is.na(epochs)) epochs <- 10L
d <- load_dataset("fashion_mnist")
x <- d$train$x / 255; y <- d$train$y
draws <- lapply(1:20, function(r) sample_indices(dim(x)[1], 150, seed = 1000 + r))
w0 <- get_weights(build_model(c(28, 28), classes = d$classes, seed = 1))
fresh <- function() lapply(1:20, function(r) set_weights(build_model(c(28, 28), classes = d$classes), w0))
loop <- fresh()
t_loop <- system.time(for (r in 1:20) {
  fit_supervised(x[draws[[r]], , ], y[draws[[r]]], model = loop[[r]], epochs = epochs, batch_size = 1,
                 validation_split = 0.2, seed = 1 + r, device = "cpu", verbose = FALSE)
})[["elapsed"]]
together <- fresh()
t_rep <- system.time(fit_replicates(together, x, y, draws, seeds = 1 + 1:20, epochs = epochs, batch_size = 1,
                                    validation_split = 0.2, device = "cpu", verbose = FALSE))[["elapsed"]]
same <- all(mapply(function(a, b) identical(get_weights(a), get_weights(b)), loop, together))
cat(sprintf("epochs %d: loop of fit_supervised() %.1f s, fit_replicates() %.1f s, ratio %.2f; identical models: %s\n",
            epochs, t_loop, t_rep, t_loop / t_rep, same))
