#!/usr/bin/env bash
# `make check`: R CMD check --as-cran on the BUILT tarball (what CRAN would get), with every test.
# CHECK_ARGS adds options (e.g. --no-tests). Fails on any ERROR or WARNING; lists the NOTEs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
tarball=$(tools/build-r.sh)
dir=$ROOT/out/check && mkdir -p "$dir"
# No network here: skip CRAN's web look-ups, and the time server that the "future file timestamps"
# check asks; --no-manual: the PDF manual needs LaTeX, which we do not install.
export _R_CHECK_CRAN_INCOMING_REMOTE_=false _R_CHECK_SYSTEM_CLOCK_=false
# The project's Python for the tests and examples, and the shared golden data (not in the tarball).
export RETICULATE_PYTHON=${RETICULATE_PYTHON:-$ROOT/.venv/bin/python} SELFSUP_SHARED_DATA=$ROOT/shared-data
R CMD check --as-cran --no-manual ${CHECK_ARGS:-} -o "$dir" "$tarball" | tee "$dir/check.log"
status=$(grep '^Status:' "$dir/selfsup.Rcheck/00check.log" || true)
echo "R CMD check: ${status:-no status line}"
grep -q -E 'ERROR|WARNING' <<<"$status" && exit 1
[ -n "$status" ]
