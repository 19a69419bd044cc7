#' Which device training will use, and why
#'
#' Every training function takes `device = "auto"`: the first CUDA GPU when torch sees one, else
#' the CPU. `selfsup_device()` says what that resolves to on this machine and why (for example,
#' a CPU-only build of torch, or no GPU visible), with torch's version and CPU threads.
#' `print(model)` shows where a model's weights are.
#'
#' @param device `"auto"`, `"cpu"` or `"cuda"`, as for the training functions.
#' @returns A `selfsup_device` list: `device` (`"cpu"` or `"cuda:0"`), `reason` (one sentence),
#'   `torch` (its version), `cuda` (the CUDA version torch was built for, `NULL` for a CPU-only
#'   build), `gpus` (the GPUs torch sees), `threads` (torch's CPU threads), `bf16` (whether
#'   training autocasts to bfloat16: recent GPUs only; the CPU stays float32).
#' @family model
#' @seealso Python: `selfsup.selfsup_device()`.
#' @examplesIf selfsup_available()
#' selfsup_device()
#' selfsup_device("cpu")$device
#' @export
selfsup_device <- function(device = "auto") {
  as_r_device_info(py_call(selfsup_py$selfsup_device, as_py_str(device, "device")))
}

#' @export
print.selfsup_device <- function(x, ...) {
  cat(sprintf("selfsup trains on: %s\n", x$device),
      paste(strwrap(paste0("why: ", x$reason, "."), exdent = 2), collapse = "\n"), sep = "")
  cat(sprintf("\ntorch %s (%s)%s\n", x$torch, if (is.null(x$cuda)) "a CPU-only build" else paste("built for CUDA", x$cuda),
              if (length(x$gpus)) paste0("; GPUs: ", paste(x$gpus, collapse = ", ")) else ""))
  invisible(x)
}
