# Issue 2's check from R: the seminar CNN on all of Fashion-MNIST (10 epochs, batch 64,
# validation split 0.2), then test accuracy. bench/fashion_cnn.py does the same from Python.
# Usage: Rscript bench/fashion_cnn.R [seed]
library(selfsup)
seed <- as.integer(commandArgs(TRUE)[1]); if (is.na(seed)) seed <- 1L
d <- load_dataset("fashion_mnist")
t0 <- Sys.time()
m <- fit_supervised(d$train$x, d$train$y, epochs = 10, batch_size = 64, validation_split = 0.2,
                    seed = seed, device = "cpu")
secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
ev <- evaluate(m, d$test$x, d$test$y, device = "cpu")
print(m$history)
cat(sprintf("R: seed %d, test loss %.6f, test accuracy %.4f, fit %.0f s\n", seed, ev$loss, ev$accuracy, secs))
