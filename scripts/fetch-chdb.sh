#!/usr/bin/env bash
# Fetches libchdb.so (the ClickHouse engine as a library, Apache-2.0) once into .cache/chdb/.
# Source: the npm package @chdb/lib-linux-x64-gnu at a pinned version. The tarball's SHA-256
# and the library's SHA-256 are both pinned here; a mismatch deletes the download and fails.
# Idempotent: a library already present with the pinned checksum is kept as is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${CHDB_CACHE_DIR:-$root/.cache/chdb}"
package="@chdb/lib-linux-x64-gnu"
version="26.7.3-stable.1"
tgz_sha256="c0d32b129e988f2b9a9a31c9141aecf5e1e2453f9a079efc4d36ab8e3f92b2ad"
lib_sha256="36ad4e999882821ef13cf2d0f52c93f48e6ee1b4498b35a201c23ce4b8d15bf5"
lib="$dest/libchdb.so"
stamp="$dest/libchdb.so.sha256"

if [ -f "$lib" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lib_sha256" ] \
   && [ "$(stat -c %s "$lib")" = "$(cat "$dest/libchdb.so.size" 2>/dev/null || echo x)" ]; then
  exit 0
fi
if [ -f "$lib" ] && echo "$lib_sha256  $lib" | sha256sum --check --status; then
  echo "$lib_sha256" > "$stamp"
  stat -c %s "$lib" > "$dest/libchdb.so.size"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-chdb: npm is required to fetch $package@$version (apt-get install -y npm)" >&2; exit 1; }
mkdir -p "$dest"
work="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "fetch-chdb: downloading $package@$version (about 180 MB) ..." >&2
(cd "$work" && npm pack "$package@$version" --silent >/dev/null)
tgz="$(ls "$work"/*.tgz)"
if ! echo "$tgz_sha256  $tgz" | sha256sum --check --status; then
  echo "fetch-chdb: checksum mismatch for $(basename "$tgz"): expected sha256 $tgz_sha256, got $(sha256sum "$tgz" | cut -d' ' -f1)" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$work" package/libchdb.so
if ! echo "$lib_sha256  $work/package/libchdb.so" | sha256sum --check --status; then
  echo "fetch-chdb: checksum mismatch for libchdb.so inside the package" >&2
  exit 1
fi
mv -f "$work/package/libchdb.so" "$lib"
echo "$lib_sha256" > "$stamp"
stat -c %s "$lib" > "$dest/libchdb.so.size"
echo "fetch-chdb: $lib ($package@$version, sha256 verified)" >&2
