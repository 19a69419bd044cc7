skip_if_no_selfsup_python()

test_that("k_means returns 1-based clusters, centres shaped like samples, and is seeded", {
  s <- small_digits()
  km <- k_means(s$x, 4, n_init = 2, seed = 1, device = "cpu")
  expect_s3_class(km, "selfsup_kmeans")
  expect_type(km$cluster, "integer")
  expect_setequal(unique(km$cluster), 1:4)
  expect_equal(dim(km$centers), c(4L, 8L, 8L))
  expect_equal(km, k_means(s$x, 4, n_init = 2, seed = 1, device = "cpu"))
  # the inertia is that of the clusters and centres returned
  flat <- matrix(s$x, nrow = 200)
  centers <- matrix(km$centers, nrow = 4)
  expect_equal(km$inertia, sum((flat - centers[km$cluster, ])^2), tolerance = 1e-5)
})

test_that("k_means inertia is close to stats::kmeans with k-means++-like restarts", {
  x <- matrix(as.numeric(small_digits()$x), nrow = 200)
  ours <- k_means(x, 3, n_init = 10, seed = 2, device = "cpu")
  set.seed(2)
  ref <- stats::kmeans(x, 3, nstart = 10, iter.max = 100)
  expect_lt(ours$inertia, ref$tot.withinss * 1.01)
})

test_that("pca matches prcomp and round-trips through pca_transform / pca_inverse", {
  s <- small_digits()
  flat <- matrix(as.numeric(s$x), nrow = 200)
  p <- pca(s$x, 64, device = "cpu")
  ref <- stats::prcomp(flat)
  expect_equal(unname(p$explained_variance), ref$sdev^2, tolerance = 1e-8)
  expect_equal(sum(p$explained_variance_ratio), 1, tolerance = 1e-10)
  expect_equal(abs(unname(p$scores[, 1:5])), abs(unname(ref$x[, 1:5])), tolerance = 1e-8)
  p5 <- pca(s$x, 5, device = "cpu")
  expect_equal(colnames(p5$scores), paste0("PC", 1:5))
  expect_equal(pca_transform(p5, s$x), p5$scores, tolerance = 1e-10)
  back <- pca_inverse(p, pca_transform(p, s$xt))
  expect_equal(dim(back), dim(s$xt))
  expect_equal(back, array(as.numeric(s$xt), dim(s$xt)), tolerance = 1e-8)
})

test_that("fit_autoencoder gives a model, codes and reconstructions shaped like the input", {
  s <- small_digits()
  for (kind in c("dense", "conv")) {
    ae <- fit_autoencoder(s$x, latent_dim = 2, kind = kind, epochs = 2, seed = 1, device = "cpu", verbose = FALSE)
    expect_s3_class(ae, "selfsup_model")
    expect_equal(ae$task, "autoencoder")
    expect_equal(names(ae$history), c("epoch", "loss"))
    expect_equal(dim(encode(ae, s$x)), c(200L, 2L))
    rec <- reconstruct(ae, s$xt[1:3, , ])
    expect_equal(dim(rec), c(3L, 8L, 8L))
    expect_true(all(rec >= 0 & rec <= 255))
    expect_gt(max(rec), 1)  # on the pixels' 0..255 scale, not the net's 0..1
  }
})

test_that("plots are ggplot objects", {
  skip_if_not_installed("ggplot2")
  s <- small_digits()
  km <- k_means(s$x, 3, n_init = 1, seed = 1, device = "cpu")
  p <- pca(s$x, 6, device = "cpu")
  ae <- fit_autoencoder(s$x, epochs = 1, seed = 1, device = "cpu", verbose = FALSE)
  for (g in list(plot(km, s$x), plot(km, p$scores[, 1:2]), plot(p), plot_embedding(encode(ae, s$x), s$y),
                 plot_reconstructions(ae, s$xt, n = 4), plot_reconstructions(p, s$xt, n = 4))) {
    expect_s3_class(g, "ggplot")
    expect_silent(ggplot2::ggplot_build(g))
  }
})

test_that("bad input is a clear R error naming the argument", {
  s <- small_digits()
  expect_error(k_means(s$x, 201), "`k` is 201 but the number of samples in `x` is 200", fixed = TRUE)
  expect_error(k_means(s$x, 0), "`k` must be at least 1; got 0", fixed = TRUE)
  expect_error(k_means(s$x, 2.5), "`k` must be a single whole number", fixed = TRUE)
  expect_error(pca(s$x, 65), "`n_components` is 65 but the number of features in `x` is 64", fixed = TRUE)
  expect_error(pca_transform(list(), s$x), "`pca` must be the result of pca()", fixed = TRUE)
  expect_error(fit_autoencoder(s$x, kind = "vae"), '`kind` must be one of "dense", "conv"', fixed = TRUE)
  expect_error(encode(quick_fit(s$x, s$y, epochs = 1), s$x), "need fit_autoencoder()", fixed = TRUE)
  expect_error(plot(k_means(s$x, 2, seed = 1)), "`y` is missing: pass the data that was clustered", fixed = TRUE)
})
