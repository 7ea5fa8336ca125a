#!/usr/bin/env bash
# Soak: the daemon (capture on lo, HttpIngest, Correlation, embedded store) under steady load for
# SOAK_SECONDS (default 600) at SOAK_RATE requests/s (default 5000): every request is a TLS
# handshake on the wire and a mod_reqin_log record on the socket (ja4-bench soak). Prints RSS,
# heap, GC collections per generation, drops and stored rows every SOAK_INTERVAL seconds
# (default 10), then a verdict on growth after the warm-up (linear fit) and on the peak resident
# size after the warm-up (the kernel's high-water mark, between samples too), and checks that
# SIGTERM stops the daemon with exit code 0. With SOAK_MEMORY_LIMIT_MB (below) the daemon runs under a
# memory limit and must not be killed for memory. SOAK_RECORDS: realistic (default; a web shop's browsers,
# scripts and crawlers, SoakRequests.cs) or minimal (three headers, one path pattern: the records of the soaks
# before 2026-12-07 evening, to compare with their figures).
# Usage: bench/soak.sh REPO_ROOT OUT_DIR   (as root: packet injection and capture on lo)
set -euo pipefail
root="$(cd "${1:-.}" && pwd)"
out="$(mkdir -p "${2:-$root/bench/out}" && cd "${2:-$root/bench/out}" && pwd)/soak"
seconds="${SOAK_SECONDS:-600}"
rate="${SOAK_RATE:-5000}"
interval="${SOAK_INTERVAL:-10}"
[ "$(id -u)" -eq 0 ] || { echo "soak: run as root (packet injection and capture on lo)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
ops=$(free_port)

# The executable the packages install (self-contained single file, scripts/publish.sh); SOAK_DAEMON_DIR runs
# another published directory instead (e.g. a build to compare with).
if [ -n "${SOAK_DAEMON_DIR:-}" ]; then
  daemon="$SOAK_DAEMON_DIR/ja4"
else
  daemon="$root/build/shipped/ja4"
  "$root/scripts/publish.sh" "$root/build/shipped" >&2
fi
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
bench="$root/bench/Ja4.Bench/bin/Release/net10.0/Ja4.Bench.dll"

# The repository's configuration (its capture filter on the soak's port) with the soak's paths and ports;
# detection and the dashboard off.
jq --argjson port "$port" --arg out "$out" --arg ops "http://127.0.0.1:$ops" '
  .Modules.Capture.Interface = "lo" | .Modules.Capture.Filter |= gsub("443"; "\($port)")
  | .Modules.HttpIngest.SocketPath = "\($out)/run/reqin.sock" | .Modules.HttpIngest.SocketGroup = ""
  | .Modules.Storage.DataPath = "\($out)/data" | .Modules.Storage.SpillPath = "\($out)/spill"
  | .Modules.Storage.AdminSocketPath = "\($out)/admin.sock"
  | .Modules.Detection.Enabled = false | .Modules.Dashboard.Enabled = false
  | .DataProtection.KeysPath = "\($out)/keys" | .Operations.Urls = $ops
  | .Logging.Console.Format = "none" | .Logging.File.Path = "\($out)/daemon.log"' \
  "$root/appsettings.json" > "$out/appsettings.json"

# As the unit runs it, with the unit's own Environment= line (GC settings).
# SOAK_DAEMON_ENV adds variables for an experiment (e.g. "JE_MALLOC_CONF=background_thread:true").
unit_env=$(sed -n 's/^Environment=//p' "$root/packaging/systemd/ja4.service")
[ -n "$unit_env" ] || { echo "soak: no Environment= line in packaging/systemd/ja4.service" >&2; exit 1; }
# SOAK_MEMORY_LIMIT_MB (default none) runs the daemon under a hard memory limit, as a unit's MemoryMax= would
# confine it: a memory cgroup of its own (cgroup v1 memory.limit_in_bytes or v2 memory.max) that it enters
# before it starts. The limit counts what the kernel charges the daemon: its anonymous memory and the file
# pages it maps, reads and writes. Left unconfined, the kernel keeps clean file pages (the engine's and the
# runtime's code) resident for as long as nothing else needs the memory; under a limit those pages are
# reclaimed first (and read again when needed), and the daemon is killed (the soak fails) if that is not enough.
memory_limit="${SOAK_MEMORY_LIMIT_MB:-0}"
cgroup=""
if [ "$memory_limit" != 0 ]; then
  limit=$((memory_limit * 1024 * 1024))
  v1=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
  v2=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup)
  if [ -n "$v1" ] && [ -w "/sys/fs/cgroup/memory${v1%/}" ]; then
    cgroup="/sys/fs/cgroup/memory${v1%/}/ja4-soak-$$"
    mkdir "$cgroup" && echo "$limit" > "$cgroup/memory.limit_in_bytes"
  elif [ -n "$v2" ] && [ -w "/sys/fs/cgroup${v2%/}" ] \
      && grep -qw memory "/sys/fs/cgroup${v2%/}/cgroup.subtree_control" 2>/dev/null; then
    cgroup="/sys/fs/cgroup${v2%/}/ja4-soak-$$"
    mkdir "$cgroup" && echo "$limit" > "$cgroup/memory.max"
  else
    echo "soak: SOAK_MEMORY_LIMIT_MB needs a memory cgroup this shell may create (cgroup v1 memory, or v2 with memory delegated)" >&2
    exit 1
  fi
fi
# shellcheck disable=SC2086  # the unit's line is a list of NAME=value words
CGROUP="$cgroup" sh -c '[ -z "$CGROUP" ] || echo $$ > "$CGROUP/cgroup.procs"; exec "$@"' ja4 \
  env $unit_env ${SOAK_DAEMON_ENV:-} "$daemon" run --config "$out/appsettings.json" \
  >"$out/daemon.out" 2>"$out/daemon.err" &
pid=$!
cleanup() { kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; [ -z "$cgroup" ] || rmdir "$cgroup" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$ops/readyz" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/daemon.err" >&2; echo "soak: the daemon did not start" >&2; exit 1; }
  sleep 0.5
done

status=0
dotnet "$bench" soak --url "http://127.0.0.1:$ops" --socket "$out/run/reqin.sock" --port "$port" --iface lo \
  --rate "$rate" --seconds "$seconds" --interval "$interval" --records "${SOAK_RECORDS:-realistic}" --pid "$pid" | tee "$out/soak.txt" || status=$?

kill -TERM "$pid" 2>/dev/null || true
code=0
wait "$pid" || code=$?
trap - EXIT
if [ -n "$cgroup" ]; then
  if [ -f "$cgroup/memory.limit_in_bytes" ]; then
    charged=$(( $(cat "$cgroup/memory.max_usage_in_bytes") / 1048576 ))
    kills=$(sed -n 's/^oom_kill //p' "$cgroup/memory.oom_control")
  else
    charged=$(( $(cat "$cgroup/memory.peak" 2>/dev/null || echo 0) / 1048576 ))
    kills=$(sed -n 's/^oom_kill //p' "$cgroup/memory.events")
  fi
  echo "memory limit $memory_limit MB: charged at most $charged MB (file pages included), OOM kills ${kills:-0}"
  rmdir "$cgroup" 2>/dev/null || true
  if [ "${kills:-0}" -ne 0 ]; then
    echo "soak: FAIL — the daemon was killed for memory under the $memory_limit MB limit" >&2
    status=1
  fi
fi
if [ "$code" -ne 0 ]; then
  echo "soak: the daemon exited with $code after SIGTERM" >&2
  status=1
else
  echo "daemon stopped on SIGTERM with exit code 0"
fi
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (shared with other jobs)"
exit $status
