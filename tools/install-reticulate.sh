#!/usr/bin/env bash
# Build reticulate from Debian trixie's source into R's site library (ahead of bookworm's 1.28).
# The .dsc of that source is gone from the mirror but the upstream tarball is there; we check it
# against the SHA-256 in trixie's signed Sources index before building.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The machine's own Debian mirror, as a deb-src entry for trixie.
uri=$(grep -hoE '^URIs: *http[^ ]*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}')
uri=${uri:-http://deb.debian.org/debian}
cat > "$work/trixie.sources" <<SRC
Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
apt_opts=(-o "Dir::Etc::sourcelist=$work/trixie.sources" -o Dir::Etc::sourceparts=-
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
apt-get "${apt_opts[@]}" update -q
tarball=$(apt-cache "${apt_opts[@]}" showsrc r-cran-reticulate | awk '/^Checksums-Sha256:/{f=1;next} f&&/orig\.tar/{print $1" "$3; exit}')
sha=${tarball%% *}; name=${tarball##* }
[ -n "$name" ] || { echo "reticulate source not found in trixie's index" >&2; exit 1; }
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only r-cran-reticulate >/dev/null 2>&1 || true)
[ -f "$work/$name" ] || { echo "download of $name failed" >&2; exit 1; }
echo "$sha  $work/$name" | sha256sum -c -
tar -xf "$work/$name" -C "$work"
R CMD INSTALL --library="$(Rscript -e 'cat(.libPaths()[1])')" "$work/reticulate"
