skip_if_no_selfsup_python()

partly_labelled <- function(y, n_labelled = 60) {
  y[-seq_len(n_labelled)] <- NA
  y
}

test_that("label_spreading labels every sample with a factor and distributions", {
  s <- small_digits()
  ls <- label_spreading(s$x, partly_labelled(s$y), device = "cpu")
  expect_s3_class(ls, "selfsup_label_spreading")
  expect_s3_class(ls$labels, "factor")
  expect_equal(levels(ls$labels), levels(s$y))
  expect_false(anyNA(ls$labels))
  expect_gt(mean(ls$labels == s$y), 0.8)
  expect_equal(dim(ls$distributions), c(200L, 10L))
  expect_equal(colnames(ls$distributions), levels(s$y))
  expect_equal(unname(rowSums(ls$distributions)), rep(1, 200), tolerance = 1e-10)
  expect_equal(names(ls$history), c("iteration", "change"))
  expect_equal(nrow(ls$history), ls$iterations)
  skip_if_not_installed("ggplot2")
  expect_s3_class(plot(ls), "ggplot")
})

test_that("character labels with NA keep their names", {
  s <- small_digits()
  fruit <- c("apple", "pear")[(as.integer(s$y) %% 2) + 1]
  ls <- label_spreading(s$x, partly_labelled(fruit), device = "cpu")
  expect_equal(levels(ls$labels), c("apple", "pear"))
})

test_that("fit_pseudo_label and fit_fixmatch return classifiers with their history", {
  s <- small_digits()
  y <- partly_labelled(s$y, 100)
  pl <- fit_pseudo_label(s$x, y, threshold = 0.1, rounds = 2, epochs = 2, seed = 1, device = "cpu", verbose = FALSE)
  expect_equal(pl$task, "pseudo_label")
  expect_equal(pl$history$round, c(0, 0, 1, 2))
  expect_gt(pl$history$pseudo_labelled[4], 0)
  expect_setequal(unique(as.data.frame(pl)$metric), c("loss", "accuracy"))   # round, pseudo_labelled: bookkeeping
  skip_if_not_installed("ggplot2")
  p <- plot(pl)
  expect_setequal(unique(ggplot2::ggplot_build(p)$data[[1]]$PANEL), 1:2)     # two panels: loss, accuracy
  vlines <- Filter(function(l) inherits(l$geom, "GeomVline"), p$layers)
  expect_equal(vlines[[1]]$data$xintercept, c(2.5, 3.5))                     # rounds 1 and 2 start
  expect_equal(levels(predict(pl, s$xt)), levels(s$y))
  fm <- fit_fixmatch(s$x, y, mu = 2, epochs = 2, batch_size = 32, seed = 1, device = "cpu", verbose = FALSE)
  expect_equal(fm$task, "fixmatch")
  expect_equal(names(fm$history), c("epoch", "loss", "accuracy", "mask_rate"))
  expect_equal(levels(predict(fm, s$xt)), levels(s$y))
})

test_that("bad labels are clear R errors", {
  s <- small_digits()
  for (f in list(label_spreading, fit_pseudo_label, fit_fixmatch)) {
    expect_error(f(s$x, factor(rep(NA, 200), levels = levels(s$y)), device = "cpu"),
                 "`y` has no labelled samples (all 200 are -1/NA)", fixed = TRUE)
    one <- s$y
    one[one != "3"] <- NA
    expect_error(f(s$x, one, device = "cpu"), "`y` labels only one class ('3')", fixed = TRUE)
  }
  expect_error(fit_fixmatch(s$x, s$y, device = "cpu"), "`y` has no unlabelled samples", fixed = TRUE)
  expect_error(label_spreading(s$x, partly_labelled(s$y), alpha = 1), "`alpha` must be in (0.0, 1.0)", fixed = TRUE)
})
