# save_model / load_model from R: a load never mixes two saves; broken files give R errors naming `path`.
skip_if_no_selfsup_python()

# A Python process that keeps replacing `path` with save_model of two models that differ in weights
# (seed 1 / 2) and in metadata (the history names the seed), until `stop` exists (or 5 minutes pass).
# tests/test_model_files.py runs the same loop from Python.
start_writer <- function(path, stop) {
  script <- tempfile(fileext = ".py")
  writeLines(c(
    "import os, sys, time",
    "import selfsup as ss",
    "path, stop = sys.argv[1], sys.argv[2]",
    "models = []",
    "for seed in (1, 2):",
    "    m = ss.build_model((4, 4), 2, encoder='mlp', seed=seed)",
    "    m.history = [{'epoch': 1, 'seed': seed}]",
    "    models.append(m)",
    "end, i = time.time() + 300, 0",
    "while not os.path.exists(stop) and time.time() < end:",
    "    ss.save_model(models[i % 2], path)",
    "    i += 1"), script)
  # the same Python and the same selfsup as this R session's
  python <- reticulate::py_config()$python
  core <- dirname(dirname(reticulate::import("selfsup")$`__file__`))
  system2("env", c(paste0("PYTHONPATH=", shQuote(core)), shQuote(python), shQuote(script), shQuote(path),
                   shQuote(stop)), wait = FALSE)
}

test_that("load_model never mixes two saves while a Python process keeps replacing the file", {
  dir <- tempfile("race")
  dir.create(dir)
  path <- file.path(dir, "m.safetensors")
  stop_file <- file.path(dir, "stop")
  on.exit(file.create(stop_file), add = TRUE)
  start_writer(path, stop_file)
  want <- lapply(1:2, function(s) get_weights(build_model(c(4, 4), 2, encoder = "mlp", seed = s)))
  deadline <- Sys.time() + 120
  while (!file.exists(path) && Sys.time() < deadline) Sys.sleep(0.02)
  seeds <- integer(1000)
  mixed <- 0
  for (i in seq_along(seeds)) {
    m <- load_model(path)
    seeds[i] <- m$history$seed[1]
    mixed <- mixed + !identical(get_weights(m), want[[seeds[i]]])
  }
  switches <- sum(diff(seeds) != 0)
  message(sprintf("race from R: %d loads, %d mixed, %d changes of file seen", length(seeds), mixed, switches))
  expect_gt(switches, 20)  # the writer really kept replacing the file
  expect_equal(mixed, 0)
})

test_that("broken model files give R errors that name `path` and say why", {
  good <- tempfile(fileext = ".safetensors")
  save_model(build_model(c(8, 8), 10, seed = 1), good)
  bytes <- readBin(good, "raw", file.size(good))

  empty <- tempfile()
  file.create(empty)
  expect_error(load_model(empty), sprintf("`path` '%s' is not a valid selfsup model: it has 0 bytes", empty),
               fixed = TRUE)
  cut <- tempfile()
  writeBin(bytes[seq_len(length(bytes) - 100)], cut)
  expect_error(load_model(cut), "is not a valid selfsup model: its tensors cannot be read", fixed = TRUE)

  # the header's JSON names the class count: 10 outputs but 3 class names (R predict gave NA before)
  header_len <- sum(as.integer(bytes[1:4]) * 256^(0:3))
  header <- rawToChar(bytes[9:(8 + header_len)])
  three <- sub('\\[\\\\"0\\\\", [^]]*\\]', '[\\\\"a\\\\", \\\\"b\\\\", \\\\"c\\\\"]', header)
  expect_false(identical(three, header))
  three <- paste0(three, strrep(" ", nchar(header) - nchar(three)))  # same length: offsets hold
  bad <- tempfile()
  writeBin(c(bytes[1:8], charToRaw(three), bytes[(9 + header_len):length(bytes)]), bad)
  expect_error(load_model(bad), "is not a valid selfsup model: it has 3 class names but 10 outputs", fixed = TRUE)

  # metadata without the "selfsup" entry: a bare 'selfsup' error before
  plain <- sub('"selfsup":"', '"selfsux":"', header, fixed = TRUE)
  writeBin(c(bytes[1:8], charToRaw(plain), bytes[(9 + header_len):length(bytes)]), bad)
  expect_error(load_model(bad), "its header lacks the selfsup metadata (key 'selfsup')", fixed = TRUE)

  expect_error(load_model(dirname(good)), "is a folder, not a model file", fixed = TRUE)
})

test_that("saving into a missing folder and over a symlink behave from R", {
  m <- build_model(c(8, 8), 10, seed = 1)
  expect_error(save_model(m, file.path(tempfile(), "m.safetensors")), "folder .* does not exist")
  dir <- tempfile("link")
  dir.create(dir)
  target <- file.path(dir, "target.safetensors")
  save_model(m, target)
  link <- file.path(dir, "link.safetensors")
  file.symlink(target, link)
  save_model(build_model(c(8, 8), 3, seed = 1), link)
  expect_identical(Sys.readlink(link), target)
  expect_length(load_model(target)$classes, 3)
  expect_identical(sort(list.files(dir, all.files = TRUE, no.. = TRUE)), c("link.safetensors", "target.safetensors"))
})
