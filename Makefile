# selfsup: `make install` sets everything up (idempotent), `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
R_TESTS := Rscript -e 'res <- testthat::test_local("r-package", reporter = testthat::ProgressReporter$$new(show_praise = FALSE), stop_on_failure = TRUE)'

.PHONY: install test test-python test-r seminar bench lint check docs

install:
	tools/install.sh

test: test-python test-r

test-python:
	$(PY) -m pytest tests

test-r:
	$(R_TESTS)

docs:
	cd r-package && Rscript -e 'roxygen2::roxygenise()'

lint:
	$(PY) -m compileall -q python/selfsup tests
