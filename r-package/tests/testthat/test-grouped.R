# fit_replicates(exact = FALSE) reports like every other fit: one message per epoch, which
# suppressMessages() silences (it used to draw its own bar on stderr, which R could not see).

test_that("fit_replicates(exact = FALSE) reports each epoch through message()", {
  skip_if_no_selfsup_python()
  s <- small_digits()
  models <- lapply(1:3, function(i) build_model(c(8, 8), 10, seed = 1))
  draws <- lapply(1:3, function(r) sample_indices(200, 32, seed = r))
  msgs <- character()
  withCallingHandlers(
    fit_replicates(models, s$x, s$y, draws, seeds = 1:3, epochs = 2, batch_size = 8, exact = FALSE, device = "cpu"),
    message = function(m) {
      msgs <<- c(msgs, conditionMessage(m))
      invokeRestart("muffleMessage")
    })
  expect_length(msgs, 2)
  expect_match(msgs, "^Epoch [12]/2 \\(3 models as one grouped network\\) - ")
  for (metric in c("loss", "accuracy")) expect_match(msgs, sprintf(" %s: [0-9.]+", metric))
  expect_silent(suppressMessages(
    fit_replicates(models, s$x, s$y, draws, seeds = 1:3, epochs = 1, batch_size = 8, exact = FALSE, device = "cpu")))
})
