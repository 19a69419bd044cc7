# Progress of long calls, drawn by R for the Python core (python/selfsup/progress.py decides what
# to show and when; see selfsup._r): a bar on the console while an epoch runs, wiped when the
# epoch ends, then one summary line with every metric through message(), so that
# suppressMessages() silences it and knitr captures it. The bar is drawn only where it can be
# redrawn in place: an interactive session, not knitr, a console at least 40 columns wide.

# The bar-drawing function handed to Python, or NULL for no bar.
progress_bar_drawer <- function() {
  wanted <- interactive() && !isTRUE(getOption("knitr.in.progress")) &&
    getOption("width", 80L) >= 40L && !identical(getOption("selfsup.progress_bar"), FALSE)
  if (wanted) progress_bar else NULL
}

# desc = NULL wipes the bar; otherwise "Epoch 3/10 [=====>      ] 45/100 3.1s", as wide as the console.
progress_bar <- function(desc, done, total, seconds) {
  width <- getOption("width", 80L) - 1L
  if (is.null(desc)) {
    cat("\r", strrep(" ", width), "\r", sep = "", file = stderr())
    return(invisible())
  }
  counts <- sprintf(" %s/%s %.1fs", format(done, big.mark = ","), format(total, big.mark = ","), seconds)
  room <- width - nchar(desc) - nchar(counts) - 3L
  bar <- ""
  if (room >= 5L) {
    filled <- max(0L, min(room, floor(room * done / max(total, 1))))
    bar <- sprintf(" [%s%s]", strrep("=", filled), strrep(" ", room - filled))
  }
  text <- substr(paste0(desc, bar, counts), 1L, width)
  cat("\r", text, strrep(" ", width - nchar(text)), sep = "", file = stderr())
  utils::flush.console()
  invisible()
}

# One summary line (maybe wrapped by Python at the console width) as an R message.
progress_line <- function(text) {
  message(text)
}
