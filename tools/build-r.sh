#!/usr/bin/env bash
# `make r-tarball`: the R package's source tarball, with the selfsup Python package bundled in
# inst/python (install_selfsup() installs it from there). Prints the tarball's path.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${R_TARBALL_DIR:-$ROOT/out}
mkdir -p "$OUT"
stage=r-package/inst/python
rm -rf "$stage" && mkdir -p "$stage"
trap 'rm -rf "$ROOT/$stage"' EXIT
tar -C python --exclude=__pycache__ --exclude='*.pyc' --exclude='*.egg-info' -cf - pyproject.toml selfsup \
  | tar -C "$stage" -xf -
version=$(sed -n 's/^Version: *//p' r-package/DESCRIPTION)
(cd "$OUT" && R CMD build "$ROOT/r-package" >&2)
echo "$OUT/selfsup_$version.tar.gz"
