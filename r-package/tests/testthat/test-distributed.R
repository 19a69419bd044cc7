# torchrun_command(): the command line for several GPUs or machines; run from R, then load_model().
skip_if_no_selfsup_python()

np <- function() reticulate::import("numpy", convert = FALSE)
save_npy <- function(x, path) np()$save(path, np()$ascontiguousarray(reticulate::r_to_py(x)))   # C order, as numpy writes

test_that("one machine: torchrun --standalone with this session's Python", {
  cmd <- torchrun_command("images.npy", "model.safetensors", nproc_per_node = 4, epochs = 10, batch_size = 512,
                          lr = 0.001, seed = 1, quiet = TRUE, options = list(all_rotations = TRUE))
  python <- reticulate::py_config()$python
  expect_identical(cmd, c(python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "4",
                          "-m", "selfsup", "pretrain", "--data", "images.npy", "--out", "model.safetensors",
                          "--epochs", "10", "--batch-size", "512", "--lr", "0.001", "--seed", "1", "--quiet",
                          "--option", "all_rotations=true"))
})

test_that("several machines meet at the rendezvous endpoint", {
  cmd <- torchrun_command("x.npy", "m.safetensors", command = "fit", nproc_per_node = 8, nnodes = 2,
                          rdzv_endpoint = "node1:29400", labels = "y.npy")
  expect_identical(cmd[4:12], c("--nnodes", "2", "--rdzv_backend", "c10d", "--rdzv_endpoint", "node1:29400",
                                "--rdzv_id", "selfsup", "--nproc_per_node"))
  expect_identical(tail(cmd, 2), c("--labels", "y.npy"))
})

test_that("mistakes are R errors naming the argument", {
  expect_error(torchrun_command("x.npy", "m", nnodes = 2),
               "`rdzv_endpoint` must be \"host:port\" when `nnodes` > 1", fixed = TRUE)
  expect_error(torchrun_command("x.npy", "m", epoch = 3), "command 'pretrain' has no setting 'epoch'")
  expect_error(torchrun_command("x.npy", "m", command = "fit", task = "rotation"),
               "command 'fit' has no setting 'task'")
  expect_error(torchrun_command("x.npy", "m", nproc_per_node = 1.5), "`nproc_per_node` must be a single whole number")
})

test_that("the command runs 2 processes; load_model() reads what they trained", {
  d <- digits()
  data <- tempfile(fileext = ".npy")
  out <- tempfile(fileext = ".safetensors")
  save_npy(d$train$x, data)
  cmd <- torchrun_command(data, out, nproc_per_node = 2, epochs = 1, seed = 3, device = "cpu", quiet = TRUE)
  # torchrun leaves a torchelastic_* folder in TMPDIR: give it one of its own (R CMD check lists detritus)
  tmp <- tempfile("torchrun")
  dir.create(tmp)
  on.exit(unlink(tmp, recursive = TRUE), add = TRUE)
  output <- withr::with_envvar(c(OMP_NUM_THREADS = "1", TMPDIR = tmp),
                               suppressWarnings(system2(cmd[1], shQuote(cmd[-1]), stdout = TRUE, stderr = TRUE)))
  expect_null(attr(output, "status"), info = paste(output, collapse = "\n"))   # exit status 0; else its output
  model <- load_model(out)
  alone <- ssl_pretrain(d$train$x, "rotation", epochs = 1, seed = 3, device = "cpu", verbose = FALSE)
  expect_equal(get_weights(model), get_weights(alone), tolerance = 1e-4)   # 2 ranks: float rounding only
  expect_equal(model$history, alone$history, tolerance = 1e-5)
})

test_that("a memory-mapped .npy streams through a device budget: the in-memory model", {
  d <- digits()
  data <- tempfile(fileext = ".npy")
  save_npy(d$train$x[1:400, , ], data)
  mapped <- np()$load(data, mmap_mode = "r")
  streamed <- ssl_pretrain(mapped, "rotation", epochs = 1, seed = 4, device = "cpu", verbose = FALSE,
                           device_budget = 4096)   # 64 digits a chunk
  in_memory <- ssl_pretrain(d$train$x[1:400, , ], "rotation", epochs = 1, seed = 4, device = "cpu", verbose = FALSE)
  expect_identical(get_weights(streamed), get_weights(in_memory))
  expect_identical(streamed$history, in_memory$history)
})
