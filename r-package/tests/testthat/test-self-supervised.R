# Self-supervised learning from R: every pretext task trains (tiny data, one epoch), transfer,
# probes, the task table, ssl_show and its plot, and the messages for bad input.
skip_if_no_selfsup_python()


ssl_quick <- function(x, task, ...) {
  ssl_pretrain(x, task, epochs = 1, batch_size = 16, seed = 1, device = "cpu", verbose = FALSE, ...)
}

# 48 digits blown up to 16x16 (each pixel 2x2): big enough for every image task
big_digits <- function(n = 48) {
  d <- digits()
  list(x = d$train$x[seq_len(n), rep(1:8, each = 2), rep(1:8, each = 2)], y = d$train$y[seq_len(n)])
}

task_data <- function(task) {
  set.seed(1)
  switch(task,
    colorization = array(sample(0:255, 12 * 16 * 16 * 3, replace = TRUE), c(12, 16, 16, 3)),
    masked_token = rep(c("the cat sat on the mat", "the dog sat on the log", "a cat and a dog met"), 6),
    future_frame = array(runif(8 * 3 * 16 * 16), c(8, 3, 16, 16)),
    restoration = t(sapply(1:8, function(i) sin(seq(0, 6 * pi, length.out = 64) * i / 4))),
    big_digits()$x
  )
}

test_that("ssl_tasks lists every task of the seminar table", {
  tasks <- ssl_tasks()
  expect_s3_class(tasks, "data.frame")
  expect_equal(names(tasks), c("name", "modality", "input", "predicts", "reference"))
  expect_true(all(c("rotation", "relative_position", "jigsaw", "inpainting", "colorization", "superresolution",
                    "autoencoder", "denoising", "masked_token", "future_frame", "restoration", "simclr",
                    "masked_autoencoder") %in% tasks$name))
})

for (task in c("rotation", "relative_position", "jigsaw", "inpainting", "colorization", "superresolution",
               "autoencoder", "denoising", "masked_token", "future_frame", "restoration", "simclr",
               "masked_autoencoder")) {
  test_that(sprintf("ssl_pretrain trains task %s for one epoch", task), {
    m <- ssl_quick(task_data(task), task)
    expect_s3_class(m, "selfsup_model")
    expect_equal(m$task, task)
    expect_null(m$classes)
    expect_equal(m$history$epoch, 1L)
    expect_true(is.finite(m$history$loss))
  })
}

test_that("the same seed gives the same pretrained weights", {
  x <- big_digits()$x
  a <- ssl_quick(x, "jigsaw", n_permutations = 5)
  b <- ssl_quick(x, "jigsaw", n_permutations = 5)
  expect_identical(get_weights(a), get_weights(b))
  expect_identical(a$history, b$history)
})

test_that("ssl_finetune transfers the encoder and returns a classifier", {
  s <- small_digits(96)
  pre <- ssl_quick(s$x, "rotation")
  m <- ssl_finetune(pre, s$x, s$y, freeze_epochs = 1, finetune_epochs = 1, batch_size = 32, seed = 2,
                    device = "cpu", verbose = FALSE)
  expect_equal(m$classes, levels(s$y))
  expect_equal(m$history$epoch, 1:2)
  expect_true(all(m$layers$trainable[m$layers$params > 0]))
  expect_s3_class(predict(m, s$xt), "factor")
  b <- big_digits()
  rp <- ssl_quick(b$x, "relative_position")
  expect_warning(ssl_finetune(rp, b$x, b$y, freeze_epochs = 1, finetune_epochs = 0, seed = 1, device = "cpu",
                              verbose = FALSE), "dense1.weight, dense1.bias")
})

test_that("ssl_embed and ssl_evaluate probe the representation", {
  s <- small_digits()
  pre <- ssl_quick(s$x, "rotation")
  f <- ssl_embed(pre, s$x[1:5, , ], device = "cpu")
  expect_equal(dim(f), c(5L, 128L))  # the convolution block by default: 32 maps of 2x2
  expect_equal(dim(ssl_embed(pre, s$x[1:5, , ], layer = "dense1", device = "cpu")), c(5L, 256L))
  expect_equal(ssl_embed(pre, s$x[1:5, , ], layer = 6L, device = "cpu"), f)  # 1-based: drop2
  expect_error(ssl_embed(pre, s$x, layer = "dense9"), "`layer` 'dense9' is not a layer of the encoder")
  lin <- ssl_evaluate(pre, s$x, s$y, s$xt, s$yt, device = "cpu")
  expect_equal(lin$protocol, "linear")
  expect_gt(lin$accuracy, 0.3)  # chance: 0.1
  knn <- ssl_evaluate(pre, s$x, s$y, s$xt, s$yt, protocol = "knn", n_neighbors = 3, device = "cpu")
  expect_equal(c(knn$n_train, knn$n_test), c(200L, 60L))
})

test_that("ssl_show gives the batch with named pseudo-labels, and plots", {
  s <- small_digits(40)
  pre <- ssl_quick(s$x, "rotation")
  shown <- ssl_show(s$x, model = pre, n = 4, seed = 1)
  expect_s3_class(shown, "selfsup_ssl_show")
  expect_equal(dim(shown$inputs), c(4L, 8L, 8L))
  expect_equal(levels(shown$targets), c("0 degrees", "90 degrees", "180 degrees", "270 degrees"))
  expect_s3_class(shown$outputs, "factor")
  jig <- ssl_show(big_digits()$x, "jigsaw", n = 2, n_permutations = 4)
  expect_equal(dim(jig$inputs), c(2L, 9L, 4L, 4L))
  expect_equal(jig$pieces, 9L)
  expect_true(all(apply(jig$cells, 1, function(row) setequal(row, 1:9))))    # the permutation, 1-based
  pdf(NULL, width = 4, height = 3)  # small on purpose: the plot must still fit
  on.exit(dev.off())
  expect_null(plot(shown))
  expect_null(plot(jig))
  expect_output(print(jig), "9 pieces each")
  for (task in c("masked_token", "restoration", "inpainting")) {  # text, signals, target images
    expect_null(plot(ssl_show(task_data(task), task, n = 2)))
  }
})

test_that("bad input says what the task needs", {
  x <- digits()$train$x[1:10, , ]
  expect_error(ssl_pretrain(x, "rotate"), "`task` must be one of \"rotation\", \"relative_position\"")
  expect_error(ssl_pretrain(x, "relative_position"), "too small .*at least 15x15")
  expect_error(ssl_pretrain(x, "colorization"), "RGB")
  expect_error(ssl_pretrain(x, "masked_token"), "masked_token")
  expect_error(ssl_pretrain(x, "future_frame"), "future_frame")
  expect_error(ssl_pretrain(x, "rotation", grid = 3), "has no option 'grid'; its options are: all_rotations")
  expect_error(ssl_finetune("model", x, 1:10), "`pretrained` must be a selfsup model")
})
