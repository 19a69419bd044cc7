"""Every exported R function has the arguments and defaults of its Python twin, in the same order.

Deliberate differences are listed here, each with its reason; anything else that differs fails,
so an option added on one side only is caught.
"""
import inspect
import json

import pytest

import selfsup as ss

# R functions without a Python twin.
R_ONLY = {
    "fit": "the generics package's fit(), re-exported so that keras3/luz users can pipe a model (fit.selfsup_model)",
    "plot_embedding": "an R plot (ggplot2); Python users plot with matplotlib themselves",
    "plot_reconstructions": "an R plot (ggplot2)",
    "install_selfsup": "sets up the Python side from R; Python users pip install the package",
    "selfsup_available": "whether R finds the Python side (for examples and tests)",
}
# Public Python functions without an R function of the same name.
PY_ONLY = {
    "tokenize": "text helpers of the masked_token task; R users pass character vectors",
    "build_vocab": "as tokenize",
    "encode_text": "as tokenize",
    "plot_ssl_show": "matplotlib; R's ssl_show() result has a plot() method instead",
    "resolve_device": "the device a call will use; R's functions take device = as strings",
}
# Arguments that differ on purpose: R function -> {R argument: Python argument (None: R only)}.
RENAMED = {
    "predict": {"object": "model", "...": None, "newdata": None},  # stats::predict()'s method signature
}
# Python's **options spelled `...` in R.
DOTS = {"ssl_pretrain": "task_options", "ssl_show": "task_options", "rl_env": "kwargs"}

R_FORMALS = r"""
local({
  ns <- asNamespace("selfsup")
  funs <- c(Filter(function(n) is.function(get(n, ns)), getNamespaceExports("selfsup")), "predict")
  out <- lapply(funs, function(n) {
    f <- if (n == "predict") getS3method("predict", "selfsup_model") else get(n, ns)
    fm <- formals(f)
    lapply(names(fm), function(a) {
      if (identical(fm[[a]], quote(expr = ))) return(list(name = a, required = TRUE))
      v <- eval(fm[[a]], ns)
      if (is.character(v) && length(v) > 1) v <- v[1]  # match.arg(): the first choice is the default
      list(name = a, required = FALSE, value = if (is.null(v)) NA else v, null = is.null(v))
    })
  })
  jsonlite::toJSON(stats::setNames(out, funs), auto_unbox = TRUE, digits = NA)
})
"""


@pytest.fixture(scope="module")
def r_formals(r):
    return json.loads(str(r(R_FORMALS)[0]))


def python_params(name):
    params = inspect.signature(getattr(ss, name)).parameters.values()
    return [("..." if p.kind == p.VAR_KEYWORD else p.name, p.default) for p in params]


def same_default(r_arg, py_default):
    if r_arg["required"]:
        return py_default is inspect.Parameter.empty
    if r_arg["null"]:
        return py_default is None
    value = r_arg["value"]
    if isinstance(py_default, (tuple, list)):
        return list(py_default) == (value if isinstance(value, list) else [value])
    return value == py_default and type(value) is not bool or value is py_default


def test_every_r_function_has_a_python_twin_and_back(r_formals):
    twins = {n for n in r_formals if n not in R_ONLY}
    assert not sorted(n for n in twins if not callable(getattr(ss, n, None)))
    python = {n for n in ss.__all__ if inspect.isfunction(getattr(ss, n))}
    assert sorted(python - twins) == sorted(PY_ONLY)


def test_arguments_and_defaults_agree(r_formals):
    problems = []
    for name, args in r_formals.items():
        if name in R_ONLY:
            continue
        py = python_params(name)
        renamed = RENAMED.get(name, {})
        r_args = [a for a in args if renamed.get(a["name"], a["name"]) is not None]
        r_names = [renamed.get(a["name"], a["name"]) for a in r_args]
        py_names = [n if n != DOTS.get(name) else "..." for n, _ in py]
        py_names = ["..." if n == "..." else n for n in py_names]
        if r_names != py_names:
            problems.append(f"{name}: R ({', '.join(r_names)}) vs Python ({', '.join(py_names)})")
            continue
        for a, (n, default) in zip(r_args, py):
            if n != "..." and not same_default(a, default):
                shown = "required" if a["required"] else ("NULL" if a["null"] else repr(a["value"]))
                problems.append(f"{name}({n}): R {shown} vs Python {default!r}")
    assert not problems, "\n".join(problems)
