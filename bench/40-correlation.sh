#!/usr/bin/env bash
# Correlation: join throughput (events/s on one core) and memory per tracked connection with a
# million open connections. Receives the repository root ($1) and the output directory ($2).
set -euo pipefail
root="$1"
out="$2"
mkdir -p "$out"
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
dll="$root/bench/Ja4.Bench/bin/Release/net10.0/Ja4.Bench.dll"
# One core: the target is stated per core, and the machine is shared.
pin=()
if command -v taskset >/dev/null; then
  pin=(taskset -c 0)
fi
DOTNET_gcServer=0 DOTNET_GCgen0size=0x4000000 "${pin[@]}" dotnet "$dll" correlation "$@"
