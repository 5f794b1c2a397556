#!/usr/bin/env bash
# Re-vendor llhttp from the httptools sdist on PyPI and rewrite vendor/llhttp/README.md
# with the version, origin and sha256 of every vendored file.
#   scripts/refresh-llhttp.sh [HTTPTOOLS_VERSION]    (default 0.9.0, which carries llhttp 9.4.3)
set -euo pipefail
httptools_version="${1:-0.9.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/vendor/llhttp"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python -m pip download --quiet --no-deps --no-binary :all: -d "$work" "httptools==$httptools_version"
tar -xzf "$work/httptools-$httptools_version.tar.gz" -C "$work"
src="$work/httptools-$httptools_version/vendor/llhttp"

files=(include/llhttp.h src/api.c src/http.c src/llhttp.c LICENSE LICENSE-MIT)
mkdir -p "$dest/include" "$dest/src"
for f in "${files[@]}"; do cp "$src/$f" "$dest/$f"; done

header="$dest/include/llhttp.h"
version="$(awk '/#define LLHTTP_VERSION_(MAJOR|MINOR|PATCH)/ {printf "%s%s", sep, $3; sep="."}' "$header")"

{
  echo "# Vendored llhttp $version"
  echo
  echo "The C sources of the llhttp $version release, unmodified, as shipped in the sdist of"
  echo "\`httptools==$httptools_version\` on PyPI (folder \`vendor/llhttp\`)."
  echo "llhttp is MIT-licensed (\`LICENSE\`, \`LICENSE-MIT\`); upstream: the nodejs/llhttp project."
  echo
  echo "Refresh with \`scripts/refresh-llhttp.sh [httptools version]\`, which rewrites this file."
  echo
  echo "| file | sha256 |"
  echo "| --- | --- |"
  for f in "${files[@]}"; do
    echo "| \`$f\` | \`$(sha256sum "$dest/$f" | cut -d' ' -f1)\` |"
  done
} > "$dest/README.md"
echo "vendored llhttp $version from httptools $httptools_version into $dest"
