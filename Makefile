# selfsup: `make install` sets everything up (idempotent), `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

SEMINAR_OUT ?= seminar-output

.PHONY: install test test-python test-r seminar report bench few-labels lint check docs r-tarball

install:
	tools/install.sh

# Both suites always run; the target fails if either does.
test:
	@status=0; $(MAKE) --no-print-directory test-python || status=1; \
	  $(MAKE) --no-print-directory test-r || status=1; exit $$status

test-python:
	$(PY) -m pytest tests

test-r:
	Rscript tools/test-r.R

docs:
	cd r-package && Rscript -e 'roxygen2::roxygenise()'

# The R package's source tarball with the Python package bundled (out/selfsup_<version>.tar.gz).
r-tarball:
	tools/build-r.sh

# R CMD check --as-cran on the built tarball, every test and example (CHECK_ARGS=--no-tests: fewer).
check:
	tools/check-r.sh

lint:
	$(PY) -m ruff check --select F,E9 python tests bench shared-data

# The seminar's R Code section from R (QUICK=1: fewer epochs/replicates; SEMINAR_DATA=path: MNIST files).
seminar:
	SEMINAR_PRESET=$(if $(QUICK),quick,full) SEMINAR_OUT="$(SEMINAR_OUT)" SEMINAR_DATA="$(SEMINAR_DATA)" \
	  Rscript r-package/inst/seminar/seminar.R

# The seminar as ONE self-contained HTML page, $(SEMINAR_OUT)/seminar-report.html: runs seminar.R
# (QUICK=1: the CPU preset) unless $(SEMINAR_OUT) holds a run of that preset (RERUN=1 forces one),
# then narrates its figures and table. BEST_PIPELINE=file.csv adds the best-pipeline table.
report:
	SEMINAR_PRESET=$(if $(QUICK),quick,full) SEMINAR_OUT="$(SEMINAR_OUT)" SEMINAR_DATA="$(SEMINAR_DATA)" \
	  BEST_PIPELINE="$(BEST_PIPELINE)" RERUN="$(RERUN)" Rscript tools/report.R

# selfsup vs plain-PyTorch references (never part of `make test`). BENCH_ARGS="--device cuda --epochs 2"
bench:
	$(PY) bench/bench.py $(BENCH_ARGS)

# Few labels, real gains (issue 11; never part of `make test`): 150 and 1,000 Fashion-MNIST labels, every
# learner, median over label draws. FEW_LABELS_ARGS="--preset gpu --device cuda" for paper-scale budgets.
few-labels:
	$(PY) bench/few_labels.py $(FEW_LABELS_ARGS)
