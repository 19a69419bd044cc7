# The reconstruction, text, video and audio pretext tasks from R (tiny data, one epoch).
skip_if_no_selfsup_python()


pretrain1 <- function(x, task, ...) {
  ssl_pretrain(x, task, epochs = 1, batch_size = 32, seed = 1, device = "cpu", verbose = FALSE, ...)
}

test_that("demo data come back as R arrays, matrices and character vectors", {
  v <- moving_digits(4, frames = 5, size = 24, seed = 1)
  expect_equal(dim(v), c(4L, 5L, 24L, 24L))
  expect_identical(v, moving_digits(4, frames = 5, size = 24, seed = 1))
  s <- audio_signals(3, samples = 64, seed = 1)
  expect_true(is.matrix(s))
  expect_equal(dim(s), c(3L, 64L))
  p <- photo_crops(2, size = 8, seed = 1)
  expect_equal(dim(p), c(2L, 8L, 8L, 3L))
  skip_if_not_installed("janeaustenr")
  txt <- austen_text("persuasion")
  expect_type(txt, "character")
  expect_match(txt[1], "^Sir Walter Elliot, of Kellynch Hall")
})

test_that("every image reconstruction task pretrains from R and its encoder transfers", {
  x <- small_digits(96)$x
  for (task in c("inpainting", "masked_autoencoder", "autoencoder", "denoising", "superresolution")) {
    m <- pretrain1(x, task)
    expect_equal(m$task, task)
    expect_true(is.finite(m$history$loss[1]))
    expect_equal(dim(ssl_embed(m, x[1:5, , ], layer = "dense1", device = "cpu")), c(5L, 256L))
  }
  rows <- matrix(as.numeric(x), nrow = dim(x)[1]) / 255  # "general": (n, features) rows, an MLP
  ae <- pretrain1(rows, "denoising", noise = "masking", level = 0.25)
  expect_equal(dim(ssl_embed(ae, rows[1:3, ], device = "cpu")), c(3L, 256L))
  expect_true(all(c("loss", "mse_noisy") %in% names(ae$history)))
  colour <- pretrain1(photo_crops(64, size = 8, seed = 1), "colorization")
  expect_true("mse_gray" %in% names(colour$history))
  # a colorization encoder reads gray images: it embeds and transfers to the digits
  expect_equal(dim(ssl_embed(colour, x[1:5, , ], layer = "dense1", device = "cpu")), c(5L, 256L))
})

test_that("video, signals and text go in as R arrays, matrices and character vectors", {
  ff <- pretrain1(moving_digits(24, frames = 4, size = 24, seed = 1), "future_frame", context = 2L)
  expect_true(all(c("loss", "mse_copy") %in% names(ff$history)))
  re <- pretrain1(audio_signals(64, samples = 32, seed = 1), "restoration")
  expect_true(all(c("mse_gap", "mse_silence") %in% names(re$history)))
  skip_if_not_installed("janeaustenr")
  txt <- austen_text("persuasion")[1:150]
  mt <- pretrain1(txt, "masked_token", seq_len = 16)
  expect_equal(names(mt$history), c("epoch", "loss", "accuracy", "accuracy_most_frequent"))
  expect_identical(mt$history, pretrain1(txt, "masked_token", seq_len = 16)$history)
  emb <- ssl_embed(mt, c("It was a truth", "Anne Elliot"), device = "cpu")
  expect_equal(dim(emb), c(2L, 64L))
  shown <- ssl_show(txt, model = mt, n = 2)
  expect_equal(length(shown$targets), 2L)
})

test_that("a task given the wrong kind of data says what it needs", {
  x <- small_digits(20)$x
  expect_error(pretrain1(x, "colorization"), "needs RGB images")
  expect_error(pretrain1(x, "masked_token"), "needs text")
  expect_error(pretrain1(x, "future_frame"), "needs sequences")
  expect_error(pretrain1(x, "restoration"), "needs 1-D signals")
  expect_error(pretrain1(x[, 1:6, 1:6], "masked_autoencoder"), "at least 8x8")
  expect_error(pretrain1("some words", "inpainting"), "numeric array")
})
