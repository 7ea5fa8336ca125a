#!/usr/bin/env bash
# Publishes the daemon as it ships into OUT_DIR: one self-contained executable (the .NET runtime and every
# assembly bundled in it), the runtime's few native libraries and libchdb.so beside it, schema/, wwwroot/ and
# the default appsettings.json.
# - The bundle is not compressed: compressed assemblies are decompressed into anonymous memory at every start
#   (67 MB resident, measured with make soak); uncompressed ones are mapped from the executable like any file,
#   and the pages only the start-up read are handed back a minute later (Operations:TrimStartupCode).
# - Native libraries stay files beside it rather than being bundled: a bundle extracts its native libraries
#   into the service user's home at the first start of every version (with libchdb.so, 540 MB each time).
# Used by scripts/package.sh and bench/soak.sh, so that the soak measures what the packages install.
# Usage: scripts/publish.sh OUT_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/publish.sh OUT_DIR}"
dotnet publish "$root/Ja4.Host/Ja4.Host.csproj" -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=false \
  -p:EnableCompressionInSingleFile=false -p:DebugType=none -o "$out" --nologo -v quiet
