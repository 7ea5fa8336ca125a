#!/usr/bin/env bash
# HTTP ingest: records parsed per second by the daemon's record parser (target >= 300,000/s,
# per CPU-second of the parsing thread: the machine is shared), and records per second through
# the real SOCK_SEQPACKET listener into the pipeline. Receives the repository root ($1) and the
# output directory ($2).
set -euo pipefail
root="$1"
out="$2"
mkdir -p "$out"
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
dll="$root/bench/Ja4.Bench/bin/Release/net10.0/Ja4.Bench.dll"
DOTNET_gcServer=0 dotnet "$dll" ingest
