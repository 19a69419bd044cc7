# R numbers are 1-based wherever an R user sees them, including messages written by Python.

test_that("layer positions in messages count from 1", {
  m <- build_model(c(8, 8), 10, seed = 1)
  expect_error(freeze_weights(m, to_layer = 0), "`to_layer` must be a position 1..10 of the 10 layers; got 0.",
               fixed = TRUE)
  expect_error(freeze_weights(m, from_layer = 99), "`from_layer` must be a position 1..10 of the 10 layers; got 99.",
               fixed = TRUE)
  freeze_weights(m, from_layer = 10, to_layer = 10)
  expect_equal(m$layers$trainable[m$layers$params > 0], c(TRUE, TRUE, TRUE, FALSE))
})

test_that("simclr's partner views are 1-based in ssl_show()", {
  x <- digits()$train$x[1:3, , ]
  shown <- ssl_show(x, "simclr", n = 3, seed = 1)
  # row i: the partner of each of sample i's two views, among the 6 views 1..6 of the batch
  expect_equal(unname(shown$targets), rbind(c(2, 1), c(4, 3), c(6, 5)))
})

test_that("encoder layer positions count from 1 in ssl_embed()'s messages", {
  m <- build_model(c(8, 8), 10, seed = 1)
  x <- array(0, c(2, 8, 8))
  msg <- "`layer` must be a position 1..9 of the 9 encoder layers; got %s."
  expect_error(ssl_embed(m, x, layer = 0), sprintf(msg, "0"), fixed = TRUE)   # said "at least 0; got -1"
  expect_error(ssl_embed(m, x, layer = -2), sprintf(msg, "-2"), fixed = TRUE)
  expect_error(ssl_embed(m, x, layer = 10), sprintf(msg, "10"), fixed = TRUE)   # said "is 9 ... (0..8)"
  expect_equal(dim(ssl_embed(m, x, layer = 9, device = "cpu")), c(2L, 256L))
})
