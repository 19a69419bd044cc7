#!/usr/bin/env bash
# `make install`: everything selfsup needs on Debian 12 (root), idempotent.
# A second run only checks: each step is skipped when what it installs is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}
step() { printf '\n==> %s\n' "$*"; }

# 1. Debian packages: R, the R packages the twin and its tests use, the data sets; knitr, rmarkdown
#    and pandoc for the vignettes and `make report` (qpdf: R CMD check --as-cran wants it for them);
#    chromium and its driver for the report's browser test (tests/test_report.py, through selenium).
DEBS="r-base-core r-base-dev r-cran-testthat r-cran-jsonlite r-cran-ggplot2 r-cran-rcpp r-cran-rcpptoml
      r-cran-here r-cran-generics r-cran-png r-cran-rappdirs r-cran-withr r-cran-rlang r-cran-matrix r-cran-roxygen2
      r-cran-janeaustenr r-cran-knitr r-cran-rmarkdown pandoc qpdf chromium chromium-driver
      dataset-fashion-mnist xz-utils"
missing=$(for p in $DEBS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
  step "Debian packages: $(echo $missing)"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
else
  step "Debian packages: all present"
fi

# 2. reticulate >= 1.31 (bookworm's 1.28 crashes a Python process that embeds R through rpy2).
if Rscript -e 'quit(status = !(requireNamespace("reticulate", quietly = TRUE) && packageVersion("reticulate") >= "1.31"))'; then
  step "reticulate $(Rscript -e 'cat(format(packageVersion("reticulate")))'): present"
else
  step "reticulate: building Debian trixie's source (bookworm's 1.28 is too old)"
  tools/install-reticulate.sh
fi

# 3. The project's virtual environment with torch and selfsup (editable).
if [ ! -x "$VENV/bin/python" ]; then
  step "virtual environment at .venv"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.selfsup-installed"
want=$(cat python/pyproject.toml tools/install.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "Python packages (torch from local files, selfsup editable, test tools)"
  "$VENV/bin/pip" install -q --disable-pip-version-check torch==2.14.1 torchvision==0.29.1
  "$VENV/bin/pip" install -q --disable-pip-version-check -e "python[test]"
  echo "$want" > "$stamp"
else
  step "Python packages: up to date"
fi

# 4. The R package, where every R session finds it, told which Python is the project's: the
#    record goes into the installed package (never into the source tree, so no tarball ships it).
RLIB=$(Rscript -e 'cat(.libPaths()[1])')
rstamp="$RLIB/selfsup/.selfsup-source"
rwant=$( (find r-package -type f ! -path '*/inst/python-path' ! -path '*/inst/python/*' -print0 | sort -z | xargs -0 cat;
          echo "$VENV") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$rstamp" 2>/dev/null)" != "$rwant" ]; then
  step "R package selfsup -> $RLIB"
  R CMD INSTALL --no-test-load --library="$RLIB" r-package > /tmp/selfsup-r-install.log 2>&1 || {
    cat /tmp/selfsup-r-install.log; exit 1; }
  echo "$VENV/bin/python" > "$RLIB/selfsup/python-path"
  echo "$rwant" > "$rstamp"
else
  step "R package selfsup: up to date"
fi
step "done: R says $(Rscript -e 'library(selfsup); cat("selfsup", format(packageVersion("selfsup")), "-> Python", selfsup:::selfsup_python())')"
