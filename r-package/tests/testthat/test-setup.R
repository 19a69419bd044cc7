# Setting up the Python side (install_selfsup, the Python that selfsup picks) and the device helper.

# A stand-in for the selfsup Python package's folder (what install_selfsup() would pip install).
fake_python_source <- function(dir) {
  src <- file.path(dir, "python")
  dir.create(file.path(src, "selfsup"), recursive = TRUE)
  writeLines("[project]\nname = \"selfsup\"", file.path(src, "pyproject.toml"))
  writeLines("__version__ = '0'", file.path(src, "selfsup", "__init__.py"))
  src
}

test_that("selfsup_device() says which device and why; print(model) shows where the weights are", {
  skip_if_no_selfsup_python()
  torch <- reticulate::import("torch")
  cpu <- selfsup_device("cpu")
  expect_s3_class(cpu, "selfsup_device")
  expect_equal(cpu$device, "cpu")
  expect_match(cpu$reason, 'device="cpu" was asked for')
  expect_false(cpu$bf16)
  auto <- selfsup_device()
  expect_equal(startsWith(auto$device, "cuda"), torch$cuda$is_available())
  expect_output(print(auto), "selfsup trains on: (cpu|cuda:0)\nwhy: device=\"auto\"")
  expect_error(selfsup_device("gpu"), "`device` must be one of")
  expect_output(print(build_model(c(8, 8), 3, seed = 1)), "0 epochs trained; on cpu>")
})

test_that("the Python is found by option, SELFSUP_PYTHON, install_selfsup()'s record, then make install's", {
  dir <- withr::local_tempdir()
  withr::local_envvar(RETICULATE_PYTHON = "", SELFSUP_PYTHON = "", R_USER_CONFIG_DIR = dir)
  withr::local_options(selfsup.python = NULL)
  a <- file.path(dir, "a"); b <- file.path(dir, "b")
  file.create(a, b)
  installed <- selfsup:::read_first_line(system.file("python-path", package = "selfsup"))
  expect_equal(selfsup:::selfsup_python(), if (file.exists(installed)) installed else "")
  dir.create(dirname(selfsup:::installed_python_record()), recursive = TRUE)
  writeLines(a, selfsup:::installed_python_record())
  expect_equal(selfsup:::selfsup_python(), a)
  withr::local_envvar(SELFSUP_PYTHON = b)
  expect_equal(selfsup:::selfsup_python(), b)
  withr::local_options(selfsup.python = a)
  expect_equal(selfsup:::selfsup_python(), a)
  withr::local_envvar(RETICULATE_PYTHON = b)
  expect_equal(selfsup:::selfsup_python(), "")          # reticulate's own variable: reticulate decides
})

test_that("install_selfsup() says what is missing", {
  dir <- withr::local_tempdir()
  withr::local_envvar(R_USER_CONFIG_DIR = dir)
  expect_error(install_selfsup(source = dir), "`source` must be the selfsup Python package's folder")
  expect_error(install_selfsup(envpath = NA), "`envpath` must be a folder path")
  src <- fake_python_source(dir)
  expect_error(install_selfsup(file.path(dir, "env"), python = file.path(dir, "no-python"), source = src),
               "`python` must be a Python 3.10 or newer; .*no-python is not a Python that runs")
  withr::local_envvar(PATH = dir)                        # no python3 nor python on the PATH
  expect_error(install_selfsup(file.path(dir, "env"), source = src),
               "needs Python 3.10 or newer .* found none on the PATH .* apt-get install python3 python3-venv")
  expect_false(file.exists(selfsup:::installed_python_record()))
})

test_that("install_selfsup() does nothing for an environment that is ready, and records it", {
  skip_if_no_selfsup_python()
  # A stand-in environment that shares the running Python's packages: its own pyvenv.cfg and
  # bin/python, the lib folder linked (so `import selfsup, torch` works without installing).
  root <- dirname(dirname(reticulate::py_exe()))
  skip_if_not(file.exists(file.path(root, "pyvenv.cfg")), "the running Python is not a virtual environment")
  dir <- withr::local_tempdir()
  withr::local_envvar(R_USER_CONFIG_DIR = file.path(dir, "config"))
  env <- file.path(dir, "env")
  dir.create(file.path(env, "bin"), recursive = TRUE)
  file.copy(file.path(root, "pyvenv.cfg"), env)
  file.symlink(file.path(root, "lib"), file.path(env, "lib"))
  file.symlink(reticulate::py_exe(), file.path(env, "bin", "python"))
  src <- fake_python_source(dir)
  writeLines(selfsup:::source_stamp(src), selfsup:::stamp_file(env))
  expect_message(python <- install_selfsup(env, source = src), "ready in .*nothing to do")
  expect_equal(python, file.path(env, "bin", "python"))
  expect_equal(readLines(selfsup:::installed_python_record()), python)
  # a changed Python package is not "ready": the stamp differs (and a reinstall would start)
  cat("# changed\n", file = file.path(src, "selfsup", "__init__.py"), append = TRUE)
  expect_false(identical(selfsup:::source_stamp(src), readLines(selfsup:::stamp_file(env))))
})

test_that("Python subprocesses run without the library folders R puts first on LD_LIBRARY_PATH", {
  withr::local_envvar(LD_LIBRARY_PATH = paste(R.home("lib"), "/usr/lib/x86_64-linux-gnu", "/opt/mine/lib",
                                              "/usr/lib/jvm/default-java/lib/server", sep = ":"))
  inside <- local({
    selfsup:::local_python_env()
    Sys.getenv("LD_LIBRARY_PATH")
  })
  expect_equal(inside, "/opt/mine/lib")
  expect_equal(Sys.getenv("LD_LIBRARY_PATH"), paste(R.home("lib"), "/usr/lib/x86_64-linux-gnu", "/opt/mine/lib",
                                                    "/usr/lib/jvm/default-java/lib/server", sep = ":"))  # restored
})
