#' The command line that trains on several GPUs or machines (torchrun)
#'
#' Pretraining on more data than one GPU gets through in time runs outside R: `torchrun` starts
#' one Python process per GPU, each trains on its share of every batch (PyTorch's
#' DistributedDataParallel), and the first saves the model. `torchrun_command()` writes that
#' command line from R arguments; run it (on every node), then [load_model()] the file. The model
#' is the one a single process trains, up to float rounding: the same batches, pseudo-labels and
#' dropout masks on any number of GPUs.
#'
#' @param data The training data: a `.npy` file (memory-mapped: it may be larger than memory; save
#'   an R array with `reticulate::np$save()` or `RcppCNPy`), `"file.npz:KEY"`, or a data set of
#'   [load_dataset()] with its split, e.g. `"fashion_mnist:train"`.
#' @param out Where rank 0 saves the model (`.safetensors`); [load_model()] reads it.
#' @param command `"pretrain"` ([ssl_pretrain()]) or `"fit"` ([fit_supervised()]).
#' @param nproc_per_node Processes per machine: one per GPU.
#' @param nnodes Number of machines. More than one needs `rdzv_endpoint`.
#' @param rdzv_endpoint `"host:port"` where the machines meet: one that all of them reach, e.g. the
#'   first machine and port 29400. Unused on one machine (torchrun `--standalone`).
#' @param rdzv_id The job's name at the rendezvous (the same on every machine).
#' @param python The Python that has selfsup and torch; default the one this R session uses.
#' @param options A named list of the pretext task's options, e.g. `list(all_rotations = TRUE)`.
#' @param ... Settings of the command, named as in the training functions: `task`, `epochs`,
#'   `batch_size` (the global batch, all GPUs together), `lr`, `validation_split`, `seed`, `device`,
#'   `encoder`, `device_budget` (bytes of data kept on a GPU at once; more streams through in
#'   chunks), `labels` (a `.npy` file, for `"fit"`), `history` (a `.csv` file), `timeout` (seconds a
#'   process waits for the others), `quiet`.
#' @returns A character vector: the program, then its arguments. Run it with
#'   `system2(cmd[1], shQuote(cmd[-1]))`, or write `paste(shQuote(cmd), collapse = " ")` into a
#'   cluster job script.
#' @family self-supervised
#' @seealso Python: `selfsup.torchrun_command()`; the README section "More than one GPU or machine".
#' @examplesIf selfsup_available()
#' cmd <- torchrun_command("images.npy", "model.safetensors", nproc_per_node = 4, epochs = 10,
#'                         batch_size = 512, seed = 1, options = list(all_rotations = TRUE))
#' cat(paste(shQuote(cmd), collapse = " "), "\n")
#' # two machines with 8 GPUs each: run the same command on both
#' torchrun_command("images.npy", "model.safetensors", nproc_per_node = 8, nnodes = 2,
#'                  rdzv_endpoint = "node1:29400", task = "simclr")
#' \dontrun{
#' system2(cmd[1], shQuote(cmd[-1]))
#' model <- load_model("model.safetensors")
#' }
#' @export
torchrun_command <- function(data, out, command = "pretrain", nproc_per_node = 1, nnodes = 1,
                             rdzv_endpoint = NULL, rdzv_id = "selfsup", python = NULL, options = NULL, ...) {
  settings <- as_py_options(list(...), "settings in `...` must be named, e.g. epochs = 10.")
  for (path in intersect(names(settings), c("labels", "history"))) {
    settings[[path]] <- as_py_path(settings[[path]], path)
  }
  args <- c(list(selfsup_py$torchrun_command, as_py_path(data, "data"), as_py_path(out, "out"),
                 command = as_py_str(command, "command"),
                 nproc_per_node = as_py_int(nproc_per_node, "nproc_per_node"), nnodes = as_py_int(nnodes, "nnodes"),
                 rdzv_endpoint = as_py_str(rdzv_endpoint, "rdzv_endpoint", null_ok = TRUE),
                 rdzv_id = as_py_str(rdzv_id, "rdzv_id"), python = as_py_str(python, "python", null_ok = TRUE),
                 options = if (is.null(options)) NULL else as_py_options(options)), settings)
  as_r_strings(do.call(py_call, args))
}
