# What an R user expects of R objects and R numbers.

test_that("model-first verbs work in pipes: fit(), evaluate(), predict(newdata =)", {
  s <- small_digits()
  m <- build_model(c(8, 8), levels(s$y), seed = 1) |> fit(s$x, s$y, epochs = 1, batch_size = 32, seed = 1, device = "cpu",
                                                             verbose = FALSE)
  expect_s3_class(m, "selfsup_model")
  expect_equal(nrow(m$history), 1L)
  ref <- quick_fit(s$x, s$y, epochs = 1, seed = 1)
  expect_identical(get_weights(m), get_weights(ref))
  expect_identical(m |> evaluate(s$xt, s$yt, device = "cpu"), evaluate(ref, s$xt, s$yt, device = "cpu"))
  expect_identical(predict(m, newdata = s$xt), predict(m, s$xt))
  expect_error(predict(m, s$xt, newdata = s$xt), "not both")
  expect_error(fit_supervised(m, s$x, s$y), "`x` is a selfsup model, but `x` is the data", fixed = TRUE)
  expect_error(fit(m, s$x, s$y, encoder = "mlp"), "`encoder` cannot be changed here")
})

test_that("seed = NULL draws from R's random numbers, so set.seed() reproduces a fit", {
  s <- small_digits()
  set.seed(1)
  a <- fit_supervised(s$x, s$y, epochs = 1, device = "cpu", verbose = FALSE)
  set.seed(1)
  b <- fit_supervised(s$x, s$y, epochs = 1, device = "cpu", verbose = FALSE)
  c <- fit_supervised(s$x, s$y, epochs = 1, device = "cpu", verbose = FALSE)
  expect_identical(get_weights(a), get_weights(b))
  expect_false(identical(get_weights(a), get_weights(c)))
  set.seed(2)
  i <- sample_indices(100, 5)
  set.seed(2)
  expect_identical(sample_indices(100, 5), i)
  set.seed(3)
  k <- k_means(s$x, 3, n_init = 1, device = "cpu")
  set.seed(3)
  expect_identical(k_means(s$x, 3, n_init = 1, device = "cpu"), k)
})

test_that("numbers from R: clear R errors naming the argument, seeds beyond R's integers pass exactly", {
  s <- small_digits()
  expect_error(quick_fit(s$x, s$y, seed = Inf), "`seed` must be a single whole number (or NULL); got Inf.", fixed = TRUE)
  expect_error(quick_fit(s$x, s$y, seed = 2^60), "`seed` must be at most 2^53", fixed = TRUE)
  expect_error(quick_fit(s$x, s$y, seed = -1), "`seed` must be at least 0; got -1.", fixed = TRUE)
  expect_error(fit_supervised(s$x, s$y, batch_size = 3e9),
               "`batch_size` must be at most 2147483647 (R's largest integer); got 3e+09.", fixed = TRUE)
  expect_error(fit_supervised(s$x, s$y, epochs = NA), "`epochs` must be a single whole number; got NA.", fixed = TRUE)
  expect_error(fit_supervised(s$x, s$y, lr = NA), "`lr` must be a single number; got NA.", fixed = TRUE)
  expect_error(fit_supervised(s$x, s$y, lr = Inf), "`lr` must be a finite number; got Inf.", fixed = TRUE)
  expect_error(fit_supervised(s$x, s$y, verbose = NA), "`verbose` must be TRUE or FALSE; got NA.", fixed = TRUE)
  expect_error(fit_supervised(s$x, s$y, device = NA_character_), "`device` must be a single string; got NA.", fixed = TRUE)
  m <- build_model(c(8, 8), 10, seed = 1)
  expect_error(save_model(m, NA_character_), "`path` must be a single file path (a non-empty string); got NA.",
               fixed = TRUE)
  expect_error(save_model(m, c("a.safetensors", "b.safetensors")), "`path` must be a single file path", fixed = TRUE)
  expect_error(load_model(NA_character_), "`path` must be a single file path", fixed = TRUE)
  expect_no_warning(a <- quick_fit(s$x, s$y, epochs = 1, seed = 3e9))
  expect_identical(get_weights(a), get_weights(quick_fit(s$x, s$y, epochs = 1, seed = 3000000000)))
  expect_false(identical(get_weights(a), get_weights(quick_fit(s$x, s$y, epochs = 1, seed = 3e9 + 1))))
})

test_that("a model survives saveRDS() and readRDS() in a new R session", {
  s <- small_digits()
  m <- quick_fit(s$x, s$y, epochs = 1, seed = 1)
  freeze_weights(m, to_layer = "drop2")
  fit(m, s$x, s$y, epochs = 1, seed = 2, device = "cpu", verbose = FALSE)  # in place: the saved bytes follow
  file <- tempfile(fileext = ".rds")
  saveRDS(m, file)
  out_file <- tempfile(fileext = ".rds")
  code <- sprintf(paste("library(selfsup); m <- readRDS('%s'); d <- load_dataset('digits');",
                        "saveRDS(list(history = m$history, weights = get_weights(m), layers = m$layers,",
                        "pred = predict(m, d$test$x[1:60, , ], device = 'cpu')), '%s')"), file, out_file)
  out <- system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", "-e", shQuote(code)), stdout = TRUE,
                 stderr = TRUE, env = paste0("R_LIBS=", paste(.libPaths(), collapse = ":")))
  expect_true(file.exists(out_file), info = paste(out, collapse = "\n"))
  back <- readRDS(out_file)
  expect_identical(back$history, m$history)
  expect_identical(back$weights, get_weights(m))
  expect_identical(back$layers, m$layers)
  expect_identical(back$pred, predict(m, s$xt, device = "cpu"))
})

test_that("[[, length, str and names agree with $; coef() and fitted() say something", {
  m <- build_model(c(8, 8), c("a", "b"), seed = 1)
  expect_identical(names(m), c("history", "classes", "task", "input_shape", "layers", "py"))
  expect_length(m, 6L)
  for (field in setdiff(names(m), "py")) expect_identical(m[[field]], do.call("$", list(m, field)))
  expect_identical(m[["classes"]], m$classes)
  expect_identical(m[["history"]], m$history)
  expect_identical(m[[2]], m$classes)
  expect_output(str(m), "\\$ classes    : a, b")
  expect_identical(coef(m), get_weights(m))
  expect_error(fitted(m), "does not keep its training data")
})

test_that("summary() of k-means and PCA results are tables, not Python objects", {
  s <- small_digits()
  km <- k_means(s$x, 3, n_init = 1, seed = 1, device = "cpu")
  sk <- summary(km)
  expect_s3_class(sk, "data.frame")
  expect_equal(sk$size, tabulate(km$cluster, 3))
  expect_equal(sum(sk$within_ss), km$inertia, tolerance = 1e-5)
  expect_output(print(summary(km)), "within_ss")
  p <- pca(s$x, 3, device = "cpu")
  sp <- summary(p)
  expect_equal(rownames(sp$importance), c("Standard deviation", "Proportion of Variance", "Cumulative Proportion"))
  expect_equal(unname(sp$importance[2, ]), unname(p$explained_variance_ratio))
  expect_false(any(grepl("<environment|python", capture.output(print(summary(p))))))
})

test_that("double pixels beyond 1 warn (the networks would see them unscaled)", {
  s <- small_digits()
  expect_warning(quick_fit(s$x * 1, s$y, epochs = 1), "floating-point pixel values up to")
  expect_no_warning(quick_fit(s$x / 16, s$y, epochs = 1))
  expect_no_warning(k_means(s$x * 1, 2, n_init = 1, seed = 1, device = "cpu"))  # k-means keeps pixel units
})
