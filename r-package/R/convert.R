# The ONLY place that converts between R and Python. Wrappers call these and nothing else.
#
# R arrays and numpy arrays index alike (x[i, j, k] in R is x[i-1, j-1, k-1] in numpy):
# reticulate hands numpy a Fortran-ordered view and the Python core copies it to C order once.
# Labels: factors (or character / integer vectors) in R, 0-based integer codes in Python;
# NA in R is -1 (unlabelled) in Python. Layer and cluster indices are 1-based in R.

# Call a Python function from R. Every call goes through selfsup._r.call(), which hands back the
# result with the messages of the Python warnings and of the Python error, if any: warnings become
# R warnings (suppressWarnings() and withCallingHandlers() see them), an error an R error with
# Python's message (no traceback) and the Python class among its classes (selfsup_error()).
# Progress is drawn by R (R/progress.R). Ctrl-C: Python's
# KeyboardInterrupt is not caught, and reticulate turns it into an R interrupt.
py_call <- function(fun, ...) {
  args <- list(...)
  keys <- names(args) %||% rep("", length(args))
  named <- nzchar(keys)
  res <- py_bridge()$call(fun, unname(args[!named]), reticulate::py_dict(keys[named], unname(args[named])),
                          progress_bar_drawer(), progress_line, as.integer(getOption("width", 80L)))
  for (w in unlist(res[[2]])) warning(w, call. = FALSE)
  if (!is.null(res[[3]])) stop(selfsup_error(res[[3]], unlist(res[[4]])))
  res[[1]]
}

# An R error with Python's message alone; `types` (the Python class and its bases, e.g.
# "OutOfMemory", "MemoryError") become classes selfsup_<type> for code that handles one kind.
selfsup_error <- function(message, types = character()) {
  structure(class = c(paste0("selfsup_", types), "selfsup_error", "error", "condition"),
            list(message = message, call = NULL))
}

# Images, sequences or features: a numeric array (or matrix) handed over as it is.
as_py_array <- function(x, arg = "x") {
  if (inherits(x, "selfsup_model")) {
    stop(sprintf(paste0("`%s` is a selfsup model, but `%s` is the data. Models come after the data: ",
                        "fit_supervised(x, y, model = m); to put the model first (pipes), use fit(m, x, y)."),
                 arg, arg), call. = FALSE)
  }
  if (inherits(x, "numpy.ndarray")) return(x)  # already numpy, e.g. np$load(path, mmap_mode = "r"): left unread
  if (is.data.frame(x)) x <- as.matrix(x)
  if (!is.numeric(x) && !is.logical(x)) {
    stop(sprintf("`%s` must be a numeric array; got %s.", arg, describe(x)), call. = FALSE)
  }
  if (is.logical(x)) {
    stop(sprintf("`%s` must be a numeric array; got a logical %s.", arg, class(x)[1]), call. = FALSE)
  }
  if (anyNA(x)) {
    stop(sprintf("`%s` contains %d NA/NaN value(s); remove or impute them first.", arg, sum(is.na(x))),
         call. = FALSE)
  }
  reticulate::r_to_py(x)
}

describe <- function(x) {
  if (is.matrix(x) || is.array(x)) sprintf("a %s array", typeof(x)) else sprintf("a %s", class(x)[1])
}

# Class labels -> list(codes = 0-based integer numpy vector, classes = character levels).
# `classes` (a model's classes) maps labels by name; otherwise factor levels, or sorted unique values.
as_py_labels <- function(y, arg = "y", classes = NULL, allow_na = FALSE) {
  if (is.matrix(y) || is.data.frame(y) || is.list(y)) {
    stop(sprintf("`%s` must be a vector of class labels; got %s.", arg, describe(y)), call. = FALSE)
  }
  if (!allow_na && anyNA(y)) {
    stop(sprintf("`%s` contains NA labels; every sample needs a label here.", arg), call. = FALSE)
  }
  if (is.null(classes)) {
    classes <- if (is.factor(y)) levels(y) else as.character(sort(unique(y[!is.na(y)])))
  }
  codes <- match(as.character(y), classes)
  unknown <- unique(as.character(y)[is.na(codes) & !is.na(y)])
  if (length(unknown)) {
    stop(sprintf("`%s` has label(s) %s that are not among the classes (%s).", arg,
                 paste(utils::head(unknown, 5), collapse = ", "), paste(classes, collapse = ", ")),
         call. = FALSE)
  }
  codes <- ifelse(is.na(codes), -1L, codes - 1L)
  list(codes = reticulate::np_array(as.integer(codes), dtype = "int64"), classes = as.list(classes))
}

# 0-based class codes from Python -> factor with the model's classes as levels (-1 -> NA).
as_r_labels <- function(codes, classes) {
  codes <- as.integer(codes)
  factor(classes[ifelse(codes < 0L, NA_integer_, codes + 1L)], levels = classes)
}

# ---- single values: every number, flag and string an R user passes is checked here, so that NA,
# Inf, 3e9 or a vector of two give an R error naming the argument (never a coercion warning, nor
# what NA becomes in Python, nor "got -2147483648").

show_value <- function(x) {
  if (inherits(x, "selfsup_model")) return("a selfsup model")
  if (is.null(x)) return("NULL")
  if (!is.atomic(x)) return(describe(x))
  if (length(x) != 1L) return(sprintf("%d values (%s)", length(x), deparse(utils::head(x, 3), width.cutoff = 40L)[1]))
  if (is.na(x)) return("NA")
  deparse(unname(x), width.cutoff = 40L)[1]
}

stop_value <- function(arg, what, x) {
  stop(sprintf("`%s` must be %s; got %s.", arg, what, show_value(x)), call. = FALSE)
}

# A whole number for Python (R's 10 is a double), within R's integers; NULL stays NULL (None).
as_py_int <- function(x, arg) {
  if (is.null(x)) return(NULL)
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) || x != round(x)) {
    stop_value(arg, "a single whole number", x)
  }
  if (x > .Machine$integer.max) stop_value(arg, "at most 2147483647 (R's largest integer)", x)
  # Below R's integers: a whole double, so that Python names the argument's own bound ("at least 1").
  if (x < -.Machine$integer.max) as.numeric(x) else as.integer(x)
}

# A seed. NULL draws one from R's random numbers, so set.seed() makes the call reproducible.
# Python takes seeds up to 2^63 - 1; R's doubles hold whole numbers exactly up to 2^53, so those
# pass exactly (as whole doubles), and larger ones are an error rather than a silently different seed.
as_py_seed <- function(x, arg = "seed") {
  if (is.null(x)) return(draw_seed())
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) || x != round(x)) {
    stop_value(arg, "a single whole number (or NULL)", x)
  }
  if (x < 0) stop_value(arg, "at least 0", x)
  if (x > 2^53) stop_value(arg, "at most 2^53 = 9007199254740992 (larger whole numbers are not exact in R)", x)
  if (x <= .Machine$integer.max) as.integer(x) else as.numeric(x)
}

draw_seed <- function() sample.int(.Machine$integer.max, 1L) - 1L

# A whole number that may pass R's integers (bytes, e.g. device_budget), exact up to 2^53; NULL stays NULL.
as_py_big_int <- function(x, arg) {
  if (is.null(x)) return(NULL)
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) || x != round(x)) {
    stop_value(arg, "a single whole number (or NULL)", x)
  }
  if (abs(x) > 2^53) stop_value(arg, "at most 2^53 = 9007199254740992 (larger whole numbers are not exact in R)", x)
  if (abs(x) <= .Machine$integer.max) as.integer(x) else as.numeric(x)
}

# NULL (one seed per model drawn from R's random numbers), or one whole number per model.
as_py_seeds <- function(seeds, n, arg = "seeds") {
  if (is.null(seeds)) return(lapply(seq_len(n), function(i) draw_seed()))
  if (!is.numeric(seeds) || !length(seeds)) stop_value(arg, sprintf("%d whole numbers, one per model", n), seeds)
  lapply(seq_along(seeds), function(i) as_py_seed(seeds[[i]], sprintf("%s[[%d]]", arg, i)))
}

# A single finite number (R's NA would reach Python as True); NULL stays NULL where allowed.
as_py_num <- function(x, arg, null_ok = FALSE) {
  if (is.null(x) && null_ok) return(NULL)
  if (!is.numeric(x) || length(x) != 1L || is.na(x)) {
    stop_value(arg, if (null_ok) "a single number or NULL" else "a single number", x)
  }
  if (!is.finite(x)) stop_value(arg, "a finite number", x)
  as.numeric(x)
}

# TRUE or FALSE.
as_py_bool <- function(x, arg) {
  if (is.logical(x) && length(x) == 1L && !is.na(x)) return(x)
  stop_value(arg, "TRUE or FALSE", x)
}

# The training loop's settings, as every fit function takes them (Python's settings.fit_settings()):
# a named list to append to a py_call()'s arguments. `seed` NULL draws one from R's random numbers.
as_py_fit_settings <- function(encoder, epochs, batch_size, validation_split, lr, optimizer, weight_decay,
                               schedule, ema, seed, device, verbose) {
  list(encoder = as_py_str(encoder, "encoder"), epochs = as_py_int(epochs, "epochs"),
       batch_size = as_py_int(batch_size, "batch_size"),
       validation_split = as_py_num(validation_split, "validation_split"), lr = as_py_num(lr, "lr"),
       optimizer = as_py_str(optimizer, "optimizer"), weight_decay = as_py_num(weight_decay, "weight_decay"),
       schedule = as_py_str(schedule, "schedule"), ema = as_py_num(ema, "ema"), seed = as_py_seed(seed),
       device = as_py_str(device, "device"), verbose = as_py_bool(verbose, "verbose"))
}

# A single string (NA_character_ would reach Python as "NA"); NULL stays NULL where allowed.
as_py_str <- function(x, arg, null_ok = FALSE) {
  if (is.null(x) && null_ok) return(NULL)
  if (is.character(x) && length(x) == 1L && !is.na(x)) return(x)
  stop_value(arg, if (null_ok) "a single string or NULL" else "a single string", x)
}

# A file path: one string, not NA or empty; "~" expanded.
as_py_path <- function(path, arg = "path") {
  if (!is.character(path) || length(path) != 1L || is.na(path) || !nzchar(path)) {
    stop_value(arg, "a single file path (a non-empty string)", path)
  }
  path.expand(path)
}

# A layer given by name (kept) or by 1-based position in R (-> 0-based in Python, whose messages
# about positions count from 1 again for calls from R).
as_py_layer <- function(x, arg) {
  if (is.null(x)) return(NULL)
  if (is.character(x)) return(as_py_str(x, arg))
  as_py_int(x, arg) - 1L
}

# Input shape: whole numbers, each at least 1.
as_py_shape <- function(x, arg = "input_shape") {
  if (!is.numeric(x) || !length(x)) stop_value(arg, "a vector of whole numbers such as c(28, 28)", x)
  lapply(seq_along(x), function(i) as_py_int(x[[i]], sprintf("%s[%d]", arg, i)))
}

# Classes: a number of classes, or their names.
as_py_classes <- function(x, arg = "classes") {
  if (is.numeric(x) && length(x) == 1L) return(as_py_int(x, arg))
  if (anyNA(x)) stop_value(arg, "a number of classes or class names without NA", x)
  as.list(as.character(x))
}

# Strings (NULL stays NULL), e.g. the books of austen_text().
as_py_strings <- function(x, arg) {
  if (is.null(x)) return(NULL)
  if (!is.character(x) || anyNA(x)) stop_value(arg, "a character vector without NA", x)
  as.list(x)
}

# Data of a pretext task: text as a list of strings, everything else as a numeric array.
as_py_ssl_data <- function(x, arg = "x") {
  if (is.character(x)) {
    if (anyNA(x)) stop(sprintf("`%s` contains NA strings; remove them first.", arg), call. = FALSE)
    return(reticulate::r_to_py(as.list(x)))
  }
  as_py_array(x, arg)
}

# Task options from `...`: whole numbers become integers (R's 3 is a double), the rest as given.
as_py_options <- function(options,
                          unnamed = "task options in `...` must be named, e.g. ssl_pretrain(x, \"jigsaw\", n_permutations = 10).") {
  if (length(options) && (is.null(names(options)) || any(!nzchar(names(options))))) {
    stop(unnamed, call. = FALSE)
  }
  Map(function(value, name) {
    if (is.atomic(value) && anyNA(value)) stop_value(name, "a value, not NA", value)
    if (is.numeric(value) && length(value) == 1L && value == round(value) &&
        abs(value) <= .Machine$integer.max) as.integer(value) else value
  }, options, names(options))
}

# A Python list of dicts (rows) -> data frame: the one converter for histories, layer tables,
# task tables and the like. Columns of strings stay character, of booleans logical, others numeric;
# `integers` names the columns that count things. Keys missing from a row are NA.
as_r_frame <- function(rows, integers = character()) {
  rows <- reticulate::py_to_r(rows)
  if (!length(rows)) return(as.data.frame(stats::setNames(lapply(integers, function(i) integer()), integers)))
  cols <- unique(unlist(lapply(rows, names)))
  out <- lapply(cols, function(col) {
    values <- lapply(rows, function(r) r[[col]])
    given <- values[!vapply(values, is.null, TRUE)]
    if (length(given) && all(vapply(given, is.character, TRUE))) return(vapply(values, function(v) v %||% NA_character_, ""))
    if (length(given) && all(vapply(given, is.logical, TRUE))) return(vapply(values, function(v) v %||% NA, NA))
    vapply(values, function(v) as.numeric(v %||% NA), numeric(1))
  })
  out <- as.data.frame(stats::setNames(out, cols), stringsAsFactors = FALSE, optional = TRUE)
  out[intersect(integers, cols)] <- lapply(out[intersect(integers, cols)], as.integer)
  out
}

# Per-epoch history -> data frame, one row per epoch (an interrupted epoch has `partial`).
as_r_history <- function(rows) as_r_frame(rows, integers = "epoch")

`%||%` <- function(a, b) if (is.null(a)) b else a

# ---- models -------------------------------------------------------------------------------
# A model is a handle: Python owns the weights, and training changes them in place (as in keras).
# The R object keeps the Python Model in an environment shared by every copy of the handle, with
# the model's safetensors bytes (the same bytes save_model() writes): saveRDS() stores those, and
# the first use after readRDS() rebuilds the Python Model from them. The bytes are refreshed
# whenever the model changes through this package (see model_changed()).
as_r_model <- function(py_model) {
  state <- new.env(parent = emptyenv())
  state$py <- py_model
  model <- structure(list(state = state), class = "selfsup_model")
  model_changed(model)
  model   # visibly: a new model prints at the console (model_changed() returns invisibly)
}

# The Python Model of an R model (rebuilt from its bytes after readRDS()).
as_py_model <- function(model, arg = "model") {
  if (!inherits(model, "selfsup_model")) {
    stop(sprintf("`%s` must be a selfsup model (from fit_supervised(), build_model(), load_model(), ...); got %s.",
                 arg, describe(model)), call. = FALSE)
  }
  state <- .subset2(model, "state")
  if (reticulate::py_is_null_xptr(state$py)) {
    if (is.null(state$bytes)) {
      stop(sprintf("`%s` is a selfsup model from another R session that cannot be restored; save models with save_model() and load them with load_model().",
                   arg), call. = FALSE)
    }
    state$py <- py_call(py_bridge()$model_from_bytes, state$bytes)
  }
  state$py
}

# After training or any other change in place: refresh the bytes saveRDS() keeps. They are dropped
# first: a refresh that fails leaves none (readRDS() then says to use save_model()), never stale ones.
model_changed <- function(model) {
  state <- .subset2(model, "state")
  state$bytes <- NULL
  state$bytes <- as.raw(py_call(py_bridge()$model_to_bytes, state$py))
  invisible(model)
}

# `expr` changes `model` (or each of a list of models) in place. Its kept bytes are refreshed
# however `expr` ends: returned, an R error (training diverged: the weights from before the epoch
# are back) or Ctrl-C (the partial epoch is kept). `expr` is evaluated here, lazily, after the
# refresh is set up. Returns `model` invisibly, as R's replacement and keras' in-place verbs do.
in_place <- function(model, expr) {
  on.exit(for (m in if (inherits(model, "selfsup_model")) list(model) else model) model_changed(m))
  force(expr)
  invisible(model)
}

# A fit's result: a new model from the Python Model `expr` gives, or `model` trained in place.
fit_result <- function(model, expr) {
  if (is.null(model)) as_r_model(expr) else in_place(model, expr)
}

# A field of a model, as `$` and `[[` show it (names(model) lists them).
model_fields <- c("history", "classes", "task", "input_shape", "layers", "py")

model_field <- function(model, name) {
  py <- as_py_model(model)
  switch(name,
    py = py,
    history = as_r_history(py$history),
    classes = if (is.null(py$classes)) NULL else unlist(py$classes),
    task = py$task,
    input_shape = unlist(py$input_shape),
    layers = cbind(layer = seq_along(py$layers()), as_r_frame(py$layers())),
    NULL
  )
}

# The one-line description Python gives (encoder, classes, weights, epochs trained).
model_description <- function(model) py_description(as_py_model(model))

py_description <- function(py) reticulate::py_str(py)

# Python ssl_show() dict -> a `selfsup_ssl_show` list: arrays as R arrays (1-d ones as vectors);
# pseudo-labels as factors of the task's target names (keeping their dims); positions 1-based
# (simclr's partner views when `positions` is set, jigsaw's grid cells). Absent entries are left out.
as_r_ssl_show <- function(shown) {
  shown <- reticulate::py_to_r(shown)
  names_ <- unlist(shown$target_names)
  values <- function(v) {
    v <- drop_array(v)
    if (is.null(v)) return(NULL)
    if (!is.null(names_) && (is.integer(v) || is.numeric(v) && isTRUE(all(v == round(v))))) {
      f <- as_r_labels(v, names_)
      if (length(dim(v)) > 1L) dim(f) <- dim(v)
      return(f)
    }
    if (isTRUE(shown$positions)) v + 1L else v
  }
  out <- list(task = shown$task, inputs = drop_array(shown$inputs), pieces = as.integer(shown$pieces),
              targets = values(shown$targets), outputs = values(shown$outputs), target_names = names_,
              cells = if (!is.null(shown$cells)) matrix(as.integer(shown$cells) + 1L, nrow = nrow(shown$cells)))
  structure(out[!vapply(out, is.null, TRUE)], class = "selfsup_ssl_show")
}

drop_array <- function(v) if (!is.null(v) && length(dim(v)) == 1L) as.vector(v) else v

# 0-based indices from Python -> 1-based integer vector.
as_r_indices <- function(indices) as.integer(reticulate::py_to_r(indices)) + 1L

# A Python list of strings -> character vector (character() when empty).
as_r_strings <- function(x) as.character(unlist(reticulate::py_to_r(x)))

# Python data set dict -> list(train = list(x, y), test = list(x, y), classes) with factor labels.
as_r_dataset <- function(ds) {
  classes <- unlist(reticulate::py_to_r(ds$classes))
  split <- function(s) list(x = reticulate::py_to_r(s$x), y = as_r_labels(reticulate::py_to_r(s$y), classes))
  list(train = split(ds$train), test = split(ds$test), classes = classes)
}

# Named list of R arrays <-> Python dict of numpy arrays.
as_py_weights <- function(weights, arg = "weights") {
  if (!is.list(weights) || is.null(names(weights)) || any(!nzchar(names(weights)))) {
    stop(sprintf("`%s` must be a named list of arrays, as get_weights() returns.", arg), call. = FALSE)
  }
  arrays <- Map(function(w, name) as_py_array(w, sprintf("%s$`%s`", arg, name)), weights, names(weights))
  reticulate::py_dict(names(arrays), unname(arrays))
}

# ---- reinforcement learning (issue 5) -------------------------------------------------------
# An environment: an id string as it is, or a gymnasium environment made by rl_env().
as_py_env <- function(env, arg = "env") {
  if (is.null(env) || inherits(env, "python.builtin.object")) return(env)
  if (!is.character(env) || length(env) != 1L || is.na(env)) {
    stop(sprintf(paste("`%s` must be a gymnasium environment id such as \"FrozenLake-v1\",",
                       "or an environment from rl_env(); got %s."), arg, describe(env)), call. = FALSE)
  }
  env
}

# A policy: an agent, "random", a factor or 1-based integer vector of actions (one per state,
# -> 0-based numpy), or an R function of the observation returning an action (1-based or a factor).
as_py_policy <- function(policy, arg = "policy") {
  if (inherits(policy, "selfsup_rl_agent")) {
    py <- .subset2(policy, "py")
    if (reticulate::py_is_null_xptr(py)) {
      stop(sprintf(paste("`%s` is an agent from another R session (readRDS()): its Python side is gone.",
                         "Evaluate its table of actions instead: rl_evaluate(agent$policy, env = ...)."), arg),
           call. = FALSE)
    }
    return(py)
  }
  if (is.character(policy) && length(policy) == 1L) return(policy)
  if (is.function(policy)) {
    return(function(obs) as_py_action(policy(obs), arg))
  }
  if (is.factor(policy)) policy <- as.integer(policy)
  if (!is.numeric(policy) || anyNA(policy)) {
    stop(sprintf(paste("`%s` must be an agent, \"random\", a function, or one action per state",
                       "(a factor or 1-based integers); got %s."), arg, describe(policy)), call. = FALSE)
  }
  reticulate::np_array(as.integer(policy) - 1L, dtype = "int64")
}

as_py_action <- function(action, arg = "policy") {
  if (is.factor(action)) action <- as.integer(action)
  if (!is.numeric(action) || length(action) != 1L || is.na(action)) {
    stop(sprintf("`%s` must return one action (a 1-based number or a factor); got %s.", arg, describe(action)),
         call. = FALSE)
  }
  as.integer(action) - 1L
}

# A Python TabularAgent or DQNAgent -> an R agent: tables as named matrices and vectors, the
# learning curve as a data frame, and the Python object (`py`) for rl_evaluate() and rl_play().
as_r_agent <- function(py) {
  actions <- unlist(py$action_names)
  history <- as.data.frame(lapply(reticulate::py_to_r(py$history), as.vector))
  counts <- intersect(names(history), c("iteration", "episode", "step", "length", "policy_changes"))
  history[counts] <- lapply(history[counts], as.integer)
  common <- list(method = py$method, env_id = py$env_id, actions = actions, history = history,
                 settings = reticulate::py_to_r(py$settings), seconds = py$seconds, py = py)
  if (py$method == "dqn") {
    return(structure(c(common, list(model = as_r_model(py$model), steps = py$steps, device = py$device,
                                    best_episode = py$best_episode)),
                     class = c("selfsup_rl_dqn", "selfsup_rl_agent")))
  }
  states <- unlist(py$state_names)
  q <- reticulate::py_to_r(py$q)
  dimnames(q) <- list(state = states, action = actions)
  visits <- if (is.null(py$visits)) NULL else reticulate::py_to_r(py$visits)
  if (!is.null(visits)) {
    storage.mode(visits) <- "integer"
    dimnames(visits) <- dimnames(q)
  }
  agent <- c(common, list(
    q = q,
    values = stats::setNames(as.vector(reticulate::py_to_r(py$values)), states),
    policy = stats::setNames(factor(actions[as.vector(reticulate::py_to_r(py$policy)) + 1L], levels = actions), states),
    visits = visits, iterations = py$iterations, gamma = py$gamma, converged = py$converged
  ))
  structure(agent, class = c("selfsup_rl_tabular", "selfsup_rl_agent"))
}

as_r_evaluation <- function(py) {
  fields <- c("env_id", "episodes", "mean_return", "std_return", "success_rate", "mean_length", "seed")
  out <- stats::setNames(lapply(fields, function(f) py[[f]]), fields)
  out$returns <- as.vector(reticulate::py_to_r(py$returns))
  out$lengths <- as.integer(reticulate::py_to_r(py$lengths))
  out$successes <- as.vector(reticulate::py_to_r(py$successes))
  structure(out, class = "selfsup_rl_evaluation")
}

as_r_episode <- function(py) {
  names <- unlist(py$action_names)
  structure(list(
    env_id = py$env_id, frames = unlist(py$frames),
    actions = as.integer(reticulate::py_to_r(py$actions)) + 1L,
    action_names = if (is.null(names)) character() else names,
    rewards = as.vector(reticulate::py_to_r(py$rewards)), total_return = py$total_return, success = py$success,
    terminated = py$terminated, truncated = py$truncated,
    rgb = if (is.null(py$rgb)) NULL else reticulate::py_to_r(py$rgb)
  ), class = "selfsup_rl_episode")
}

# ---- unsupervised and semi-supervised learning (issue 4) -----------------------------------
# A numpy array -> plain R vector (1-d) or array/matrix (n-d), without the 1-d "array" class.
as_r_numeric <- function(a) {
  a <- reticulate::py_to_r(a)
  if (length(dim(a)) == 1L) as.vector(a) else a
}

# Python KMeansResult -> list; clusters 1-based in R.
as_r_kmeans <- function(py) {
  structure(list(
    cluster = as.integer(as_r_numeric(py$labels)) + 1L,
    centers = as_r_numeric(py$centers),
    inertia = py$inertia, within_ss = as_r_numeric(py$within_ss), iterations = as.integer(py$iterations),
    n_init = as.integer(py$n_init), seed = py$seed
  ), class = "selfsup_kmeans")
}

# Python PCAResult -> list (the Python object stays in `py` for pca_transform / pca_inverse).
as_r_pca <- function(py) {
  k <- length(py$explained_variance)
  pcs <- paste0("PC", seq_len(k))
  scores <- as_r_numeric(py$scores)
  components <- as_r_numeric(py$components)
  colnames(scores) <- pcs
  rownames(components) <- pcs
  structure(list(
    scores = scores, components = components,
    explained_variance = stats::setNames(as_r_numeric(py$explained_variance), pcs),
    explained_variance_ratio = stats::setNames(as_r_numeric(py$explained_variance_ratio), pcs),
    mean = as_r_numeric(py$mean), sample_shape = as.integer(unlist(py$sample_shape)), py = py
  ), class = "selfsup_pca")
}

as_py_pca <- function(pca, arg = "pca") {
  if (!inherits(pca, "selfsup_pca")) {
    stop(sprintf("`%s` must be the result of pca(); got %s.", arg, describe(pca)), call. = FALSE)
  }
  pca$py
}

# Python LabelSpreadingResult -> list: labels as a factor, distributions with class columns.
as_r_label_spreading <- function(py) {
  classes <- unlist(py$classes)
  dist <- as_r_numeric(py$distributions)
  colnames(dist) <- classes
  structure(list(
    labels = as_r_labels(as_r_numeric(py$labels), classes), distributions = dist,
    classes = classes, iterations = as.integer(py$iterations),
    history = as_r_frame(py$history, integers = "iteration")
  ), class = "selfsup_label_spreading")
}

# ---- replicates ----------------------------------------------------------------------------
# A list of models -> a Python list of Model handles; each element named in errors (models[[2]]).
as_py_models <- function(models, arg = "models") {
  if (inherits(models, "selfsup_model") || !is.list(models) || !length(models)) {
    stop(sprintf("`%s` must be a non-empty list of selfsup models; got %s.", arg, describe(models)), call. = FALSE)
  }
  lapply(seq_along(models), function(i) as_py_model(models[[i]], sprintf("%s[[%d]]", arg, i)))
}

# A list of 1-based index vectors into n samples -> a list of 0-based int64 numpy vectors.
as_py_subsets <- function(subsets, n, arg = "subsets") {
  if (!is.list(subsets) || is.data.frame(subsets)) {
    stop(sprintf("`%s` must be a list of index vectors, one per model; got %s.", arg, describe(subsets)),
         call. = FALSE)
  }
  lapply(seq_along(subsets), function(i) {
    idx <- subsets[[i]]
    name <- sprintf("%s[[%d]]", arg, i)
    if (!is.numeric(idx) || !length(idx) || anyNA(idx) || any(idx != round(idx))) {
      stop(sprintf("`%s` must be a non-empty vector of whole numbers (sample positions); got %s.",
                   name, deparse(utils::head(idx, 5))[1]), call. = FALSE)
    }
    if (min(idx) < 1 || max(idx) > n) {
      stop(sprintf("`%s` must hold positions 1..%d of the %d samples; got %s..%s.", name, n, n, min(idx), max(idx)),
           call. = FALSE)
    }
    reticulate::np_array(as.integer(idx) - 1L, dtype = "int64")
  })
}

# TRUE, FALSE or NULL (let the package choose).
as_py_flag <- function(x, arg) {
  if (is.null(x) || (is.logical(x) && length(x) == 1L && !is.na(x))) return(x)
  stop(sprintf("`%s` must be TRUE, FALSE or NULL; got %s.", arg, deparse(x)[1]), call. = FALSE)
}

# Python DeviceInfo -> list(device, reason, torch, cuda, gpus, threads, bf16).
as_r_device_info <- function(py) {
  structure(list(device = py$device, reason = py$reason, torch = py$torch, cuda = py$cuda,
                 gpus = as.character(unlist(py$gpus)), threads = as.integer(py$threads), bf16 = py$bf16),
            class = "selfsup_device")
}
