# The ONLY place that converts between R and Python. Wrappers call these and nothing else.
#
# R arrays and numpy arrays index alike (x[i, j, k] in R is x[i-1, j-1, k-1] in numpy):
# reticulate hands numpy a Fortran-ordered view and the Python core copies it to C order once.
# Labels: factors (or character / integer vectors) in R, 0-based integer codes in Python;
# NA in R is -1 (unlabelled) in Python. Layer and cluster indices are 1-based in R.

# Call a Python function from R. Every call goes through selfsup._r.call(), which hands back the
# result with the messages of the Python warnings and of the Python error, if any: warnings become
# R warnings (suppressWarnings() and withCallingHandlers() see them), an error an R error with
# Python's message (no traceback). Progress is drawn by R (R/progress.R). Ctrl-C: Python's
# KeyboardInterrupt is not caught, and reticulate turns it into an R interrupt.
py_call <- function(fun, ...) {
  args <- list(...)
  keys <- names(args) %||% rep("", length(args))
  named <- nzchar(keys)
  res <- py_bridge()$call(fun, unname(args[!named]), reticulate::py_dict(keys[named], unname(args[named])),
                          progress_bar_drawer(), progress_line, as.integer(getOption("width", 80L)))
  for (w in unlist(res[[2]])) warning(w, call. = FALSE)
  if (!is.null(res[[3]])) stop(res[[3]], call. = FALSE)
  res[[1]]
}

# Images, sequences or features: a numeric array (or matrix) handed over as it is.
as_py_array <- function(x, arg = "x") {
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

# A whole number for Python (R's 10 is a double); NULL stays NULL (Python None).
as_py_int <- function(x, arg) {
  if (is.null(x)) return(NULL)
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x != round(x)) {
    stop(sprintf("`%s` must be a single whole number; got %s.", arg, deparse(x)[1]), call. = FALSE)
  }
  as.integer(x)
}

# A layer given by name (kept) or by 1-based position in R (-> 0-based in Python).
as_py_layer <- function(x, arg) {
  if (is.null(x) || is.character(x)) return(x)
  as_py_int(x, arg) - 1L
}

# Per-epoch history (Python list of dicts) -> data frame, one row per epoch.
as_r_history <- function(rows) {
  rows <- reticulate::py_to_r(rows)
  if (!length(rows)) return(data.frame(epoch = integer()))
  cols <- unique(unlist(lapply(rows, names)))
  out <- lapply(cols, function(col) vapply(rows, function(r) as.numeric(r[[col]] %||% NA), numeric(1)))
  names(out) <- cols
  out <- as.data.frame(out)
  out$epoch <- as.integer(out$epoch)
  out
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# A Python selfsup Model -> the R model object (a handle: Python owns the weights).
as_r_model <- function(py_model) {
  structure(list(py = py_model), class = "selfsup_model")
}

as_py_model <- function(model, arg = "model") {
  if (!inherits(model, "selfsup_model")) {
    stop(sprintf("`%s` must be a selfsup model (from fit_supervised(), build_model(), load_model(), ...); got %s.",
                 arg, describe(model)), call. = FALSE)
  }
  .subset2(model, "py")
}

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
  if (inherits(policy, "selfsup_rl_agent")) return(.subset2(policy, "py"))
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

# Rows of a Python list of dicts (other than per-epoch history) -> data frame.
as_r_rows <- function(rows, integers = character()) {
  rows <- reticulate::py_to_r(rows)
  if (!length(rows)) return(data.frame())
  cols <- unique(unlist(lapply(rows, names)))
  out <- as.data.frame(stats::setNames(lapply(cols, function(col) {
    vapply(rows, function(r) as.numeric(r[[col]] %||% NA), numeric(1))
  }), cols))
  out[intersect(integers, cols)] <- lapply(out[intersect(integers, cols)], as.integer)
  out
}

# Python KMeansResult -> list; clusters 1-based in R.
as_r_kmeans <- function(py) {
  structure(list(
    cluster = as.integer(as_r_numeric(py$labels)) + 1L,
    centers = as_r_numeric(py$centers),
    inertia = py$inertia, iterations = as.integer(py$iterations),
    n_init = as.integer(py$n_init), seed = as.integer(py$seed)
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
    history = as_r_rows(py$history, integers = "iteration")
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

# NULL, or one whole number per model.
as_py_seeds <- function(seeds, arg = "seeds") {
  if (is.null(seeds)) return(NULL)
  if (!is.numeric(seeds) || anyNA(seeds) || any(seeds != round(seeds))) {
    stop(sprintf("`%s` must be whole numbers, one per model; got %s.", arg, deparse(seeds)[1]), call. = FALSE)
  }
  as.list(as.integer(seeds))
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
