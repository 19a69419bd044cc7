# Models with batch norm (the convnet encoder) survive saveRDS()/readRDS(): readRDS() rebuilds the
# Python model from the saved bytes, which hold batch norm's int64 batch count beside the float32 weights.
skip_if_no_selfsup_python()

test_that("a convnet model survives saveRDS() and readRDS() with its weights and batch norm statistics", {
  s <- small_digits(64)
  m <- quick_fit(s$x, s$y, encoder = "convnet", epochs = 1)
  file <- tempfile(fileext = ".rds")
  saveRDS(m, file)
  back <- readRDS(file)
  expect_identical(get_weights(back), get_weights(m))
  # every parameter and buffer (running mean and variance, the int64 batch count), dtype included
  same_state <- reticulate::py_eval(paste(
    "lambda a, b: list(a) == list(b) and",
    "all(a[k].dtype == b[k].dtype and __import__('torch').equal(a[k], b[k]) for k in a)"))
  expect_true(same_state(m$py$net$state_dict(), back$py$net$state_dict()))
  expect_identical(predict(back, s$xt, type = "prob", device = "cpu"), predict(m, s$xt, type = "prob", device = "cpu"))
  path <- save_model(back, tempfile(fileext = ".safetensors"))
  expect_identical(get_weights(load_model(path)), get_weights(m))
})
