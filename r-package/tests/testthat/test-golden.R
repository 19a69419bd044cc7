# The golden run, written by shared-data/make_golden.py and checked by pytest too.
skip_if_no_selfsup_python()
skip_if_no_shared_data()

test_that("R reproduces the golden supervised run", {
  golden <- jsonlite::fromJSON(shared_data("golden", "supervised_digits.json"))
  s <- golden$settings
  d <- digits()
  m <- fit_supervised(d$train$x[seq_len(s$n_train), , ], d$train$y[seq_len(s$n_train)],
                      epochs = s$epochs, batch_size = s$batch_size,
                      validation_split = s$validation_split, seed = s$seed, device = "cpu",
                      verbose = FALSE)
  expect_equal(m$history, as.data.frame(golden$history), tolerance = s$tolerance)
  xt <- d$test$x[seq_len(s$n_test), , ]
  expect_equal(as.integer(predict(m, xt)) - 1L, golden$predict)
  ev <- evaluate(m, xt, d$test$y[seq_len(s$n_test)], device = "cpu")
  expect_equal(ev$loss, golden$evaluate$loss, tolerance = s$tolerance)
})
