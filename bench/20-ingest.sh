#!/usr/bin/env bash
# HTTP ingest: records parsed per second by the daemon's record parser (target >= 300,000/s,
# per CPU-second of the parsing thread: the machine is shared), and records per second through
# the real SOCK_SEQPACKET listener into the pipeline, and the listener process's CPU per record at
# a web server's rate. Receives the repository root ($1) and the output directory ($2).
set -euo pipefail
root="$1"
out="$2"
mkdir -p "$out"
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
dll="$root/bench/Ja4.Bench/bin/Release/net10.0/Ja4.Bench.dll"
DOTNET_gcServer=0 dotnet "$dll" ingest

# The daemon's CPU per record as a web server sees it: an ingest-sink process (listener, channel,
# counting consumer; thread-pool spinning off as in the daemon's runtimeconfig) fed by 2
# connections sending batches of 100 records (like mod_reqin_log's children) at 10,000 records/s.
# A 3-second warm-up first; the CPU time (user + sys) of the sink process is what counts.
sockdir="$(mktemp -d /tmp/ja4-bench-ingest-XXXXXX)"
DOTNET_gcServer=0 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 \
  dotnet "$dll" ingest-sink --socket "$sockdir/reqin.sock" --group "" > "$out/20-ingest-sink.log" 2>&1 &
sink=$!
trap 'kill -TERM "$sink" 2>/dev/null || true; wait "$sink" 2>/dev/null || true; rm -rf "$sockdir"' EXIT
for _ in $(seq 1 200); do [ -S "$sockdir/reqin.sock" ] && break; sleep 0.05; done
dotnet "$dll" ingest-paced --socket "$sockdir/reqin.sock" --pid "$sink" --rate 10000 --seconds 3 > /dev/null
dotnet "$dll" ingest-paced --socket "$sockdir/reqin.sock" --pid "$sink" --rate 10000 --seconds 10
