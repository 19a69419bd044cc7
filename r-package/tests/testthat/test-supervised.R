skip_if_no_selfsup_python()

test_that("load_dataset gives integer image arrays and factor labels", {
  d <- digits()
  expect_equal(dim(d$train$x), c(1437L, 8L, 8L))
  expect_type(d$train$x, "integer")
  expect_s3_class(d$train$y, "factor")
  expect_equal(levels(d$train$y), as.character(0:9))
  expect_equal(range(d$train$x), c(0L, 255L))
})

test_that("fit_supervised learns and returns a model with its history", {
  s <- small_digits()
  m <- fit_supervised(s$x, s$y, epochs = 15, batch_size = 16, seed = 0, device = "cpu", verbose = FALSE)
  expect_s3_class(m, "selfsup_model")
  expect_equal(names(m$history), c("epoch", "loss", "accuracy"))
  expect_equal(m$history$epoch, 1:15)
  expect_lt(m$history$loss[15], m$history$loss[1])
  expect_gt(evaluate(m, s$xt, s$yt, device = "cpu")$accuracy, 0.6)  # chance: 0.1
  v <- quick_fit(s$x, s$y, validation_split = 0.2)
  expect_equal(names(v$history), c("epoch", "loss", "accuracy", "val_loss", "val_accuracy"))
})

test_that("predict returns factors with the training levels, or a probability matrix", {
  s <- small_digits()
  m <- quick_fit(s$x, s$y)
  p <- predict(m, s$xt)
  expect_s3_class(p, "factor")
  expect_equal(levels(p), levels(s$y))
  prob <- predict(m, s$xt, type = "prob")
  expect_equal(dim(prob), c(60L, 10L))
  expect_equal(colnames(prob), levels(s$y))
  expect_equal(unname(rowSums(prob)), rep(1, 60), tolerance = 1e-5)
  expect_equal(as.character(p), colnames(prob)[max.col(prob, ties.method = "first")])
})

test_that("character and integer labels work, and classes outlive missing labels", {
  s <- small_digits()
  fruit <- c("apple", "pear")[(as.integer(s$y) %% 2) + 1]
  m <- quick_fit(s$x, fruit)
  expect_equal(m$classes, c("apple", "pear"))
  few <- droplevels(s$y[s$y %in% c("1", "2")])
  keep <- s$y %in% c("1", "2")
  m10 <- quick_fit(s$x[keep, , ], factor(few, levels = levels(s$y)))
  expect_equal(length(m10$classes), 10)
})

test_that("the same seed gives the same model; training further appends history", {
  s <- small_digits()
  a <- quick_fit(s$x, s$y, seed = 4)
  b <- quick_fit(s$x, s$y, seed = 4)
  expect_identical(get_weights(a), get_weights(b))
  fit_supervised(s$x, s$y, model = a, epochs = 1, seed = 5, device = "cpu", verbose = FALSE)
  expect_equal(a$history$epoch, 1:3)
})

test_that("only an epoch cut by Ctrl-C is marked `partial`, and not as a metric", {
  s <- small_digits(64)
  m <- quick_fit(s$x, s$y, validation_split = 0.25)
  expect_false("partial" %in% names(m$history))        # whole epochs: no bookkeeping column
  # the last epoch as the loop records it when Ctrl-C stops it halfway (epoch.py: Epoch.interrupted)
  cut <- reticulate::py_run_string("def cut(m): m.history[-1] = {'epoch': 2, 'loss': 0.7, 'accuracy': 0.5, 'partial': 0.5}",
                                   local = TRUE)$cut
  cut(m$py)
  expect_equal(m$history$partial, c(NA, 0.5))
  shown <- capture.output(print(m))
  expect_match(shown[1], "2 epochs trained \\(the last one interrupted after 50% of its batches\\)")
  expect_equal(shown[2], "Final epoch (plot to see history): loss=0.7000 accuracy=0.5000")
  expect_setequal(unique(as.data.frame(m)$metric), c("loss", "accuracy"))
})

test_that("print, summary, as.data.frame and plot describe the model", {
  s <- small_digits()
  m <- quick_fit(s$x, s$y, validation_split = 0.2)
  expect_output(print(m), "Final epoch \\(plot to see history\\)")
  sm <- summary(m)
  expect_equal(sm$name[c(1, 4, 8, 10)], c("conv1", "conv2", "dense1", "output"))
  expect_output(print(sm), "Trainable weights: 44,138 of 44,138")
  long <- as.data.frame(m)
  expect_setequal(unique(long$metric), c("loss", "accuracy"))
  expect_setequal(levels(long$data), c("training", "validation"))
  p <- plot(m)
  expect_s3_class(p, "ggplot")
  png(tempfile(fileext = ".png")); print(p); dev.off()
  one <- quick_fit(s$x, s$y, epochs = 1)
  x_axis <- ggplot2::ggplot_build(plot(one))$layout$panel_params[[1]]$x
  expect_equal(x_axis$breaks[!is.na(x_axis$breaks)], 1)                        # not 0.95 .. 1.05
  expect_gte(diff(x_axis$continuous_range), 1)
})

test_that("a new model is returned visibly, a model trained in place invisibly (as documented)", {
  s <- small_digits()
  m <- expect_visible(quick_fit(s$x, s$y, epochs = 1))            # was invisible: printed nothing
  expect_visible(build_model(c(8, 8), 10, seed = 1))
  expect_invisible(fit(m, s$x, s$y, epochs = 1, device = "cpu", verbose = FALSE))
  expect_invisible(quick_fit(s$x, s$y, model = m, epochs = 1))
  expect_equal(nrow(m$history), 3L)                                 # 1 + 1 + 1 epochs, in place
})
