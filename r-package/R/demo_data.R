# Demonstration data for the pretext tasks beyond grayscale images: thin wrappers over
# selfsup.demo_data (video, text, audio-like signals, colour photo crops).

#' Moving digits: demo video for the future_frame task
#'
#' Sequences of images drifting in straight lines and bouncing off the borders (like Moving
#' MNIST), made from scikit-learn's digits (drawn at 16x16) or Fashion-MNIST items.
#'
#' @param n Number of sequences.
#' @param frames Frames per sequence.
#' @param size Height and width of the square canvas.
#' @param source `"digits"` or `"fashion_mnist"`.
#' @param objects Objects per sequence.
#' @param speed Pixels per frame.
#' @param seed Seed; the same seed gives the same video in R and Python.
#' @returns An integer array `(n, frames, size, size)` with values 0..255.
#' @family data
#' @seealso Python: `selfsup.demo_data.moving_digits()`.
#' @examplesIf selfsup_available()
#' v <- moving_digits(20, frames = 4, size = 16, seed = 1)
#' dim(v)   # 20 sequences of 4 frames of 16x16
#' pre <- ssl_pretrain(v, "future_frame", epochs = 1, seed = 1, device = "cpu", verbose = FALSE)
#' pre
#' @export
moving_digits <- function(n = 1000, frames = 10, size = 32, source = "digits", objects = 1, speed = 2,
                          seed = NULL) {
  as_r_numeric(py_call(selfsup_py$moving_digits, as_py_int(n, "n"), frames = as_py_int(frames, "frames"),
                       size = as_py_int(size, "size"), source = as_py_str(source, "source"), objects = as_py_int(objects, "objects"),
                       speed = as_py_num(speed, "speed"), seed = as_py_seed(seed)))
}

#' Jane Austen's novels as paragraphs: demo text for the masked_token task
#'
#' Read from the janeaustenr package (Debian: `r-cran-janeaustenr`); chapter headings, titles
#' and the by-line are dropped, the lines of each paragraph joined.
#'
#' @param books Some of `"sensesensibility"`, `"prideprejudice"`, `"mansfieldpark"`, `"emma"`,
#'   `"northangerabbey"`, `"persuasion"`; default all six.
#' @param min_words Drop paragraphs with fewer words.
#' @returns A character vector, one paragraph per element.
#' @family data
#' @seealso Python: `selfsup.demo_data.austen_text()`.
#' @examplesIf selfsup_available() && requireNamespace("janeaustenr", quietly = TRUE)
#' txt <- austen_text("persuasion")
#' length(txt)
#' substr(txt[1], 1, 70)
#' @export
austen_text <- function(books = NULL, min_words = 1) {
  as_r_strings(py_call(selfsup_py$austen_text, as_py_strings(books, "books"), min_words = as_py_int(min_words, "min_words")))
}

#' Audio-like signals: demo data for the restoration task
#'
#' Each signal is a tone (a fundamental and two overtones of random pitch and weights) under an
#' attack-decay envelope, plus white noise; peak amplitude about 1.
#'
#' @param n Number of signals.
#' @param samples Samples per signal.
#' @param noise Standard deviation of the added noise.
#' @param seed Seed.
#' @returns A matrix `(n, samples)`.
#' @family data
#' @seealso Python: `selfsup.demo_data.audio_signals()`.
#' @examplesIf selfsup_available()
#' s <- audio_signals(5, samples = 128, seed = 1)
#' dim(s)
#' plot(s[1, ], type = "l", xlab = "sample", ylab = "amplitude")
#' @export
audio_signals <- function(n = 1000, samples = 256, noise = 0.05, seed = NULL) {
  as_r_numeric(py_call(selfsup_py$audio_signals, as_py_int(n, "n"), samples = as_py_int(samples, "samples"),
                       noise = as_py_num(noise, "noise"), seed = as_py_seed(seed)))
}

#' Colour photo crops: demo data for the colorization task
#'
#' Random square crops of the two colour photos scikit-learn ships (a temple in China, a
#' flower), after shrinking the photos by `scale`; half are flipped left-right.
#'
#' @param n Number of crops.
#' @param size Crop height and width.
#' @param scale Shrink factor applied to the 427x640 photos first.
#' @param seed Seed.
#' @returns An integer array `(n, size, size, 3)` with values 0..255 (RGB).
#' @family data
#' @seealso Python: `selfsup.demo_data.photo_crops()`.
#' @examplesIf selfsup_available()
#' p <- photo_crops(4, size = 16, seed = 1)
#' dim(p)   # 4 RGB crops of 16x16, integers 0..255
#' @export
photo_crops <- function(n = 1000, size = 32, scale = 0.25, seed = NULL) {
  as_r_numeric(py_call(selfsup_py$photo_crops, as_py_int(n, "n"), size = as_py_int(size, "size"), scale = as_py_num(scale, "scale"),
                       seed = as_py_seed(seed)))
}
