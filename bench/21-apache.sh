#!/usr/bin/env bash
# Apache throughput with mod_reqin_log on and off, in the same run. Private Apache instances
# with the same configuration except the module (event MPM, keep-alive, a small static file):
#   off      no module;
#   daemon   the module, writing to the daemon's real socket listener (ja4-bench ingest-sink),
#            which runs on the same cores, as it does on a web server;
#   profile  the module built with -DREQIN_PROFILE, which accounts the thread CPU time spent in
#            its logging hook (measured once, after the rounds): the module's own cost per
#            request, which the shared machine's noise cannot hide.
# "off" and "daemon" are measured alternately with wrk; prints requests/s and requests per
# Apache CPU-second, the ratio (target >= 0.97), the module's CPU per request against Apache's,
# the daemon's CPU per record and the share of records delivered.
# Receives the repository root ($1) and the output directory ($2).
# JA4_BENCH_APACHE_SECONDS (default 10) and JA4_BENCH_APACHE_ROUNDS (default 3) tune the run.
set -euo pipefail
root="$1"
out="$2"
mkdir -p "$out"
seconds="${JA4_BENCH_APACHE_SECONDS:-10}"
rounds="${JA4_BENCH_APACHE_ROUNDS:-3}"
connections="${JA4_BENCH_APACHE_CONNECTIONS:-32}"

for tool in apache2 wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (scripts/install-deps.sh bench)" >&2; exit 1; }
done
make -s -C "$root/native/mod_reqin_log" >&2
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
dll="$root/bench/Ja4.Bench/bin/Release/net10.0/Ja4.Bench.dll"
module="$root/native/mod_reqin_log/.libs/mod_reqin_log.so"
mods=/usr/lib/apache2/modules
configs=(off daemon profile)

work="$(mktemp -d /tmp/ja4-bench-apache-XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
  for c in "${configs[@]}"; do
    if [ -f "$work/$c/httpd.pid" ]; then apache2 -f "$work/$c/httpd.conf" -k stop 2>/dev/null || true; fi
  done
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_socket() { for _ in $(seq 1 200); do [ -S "$1" ] && return 0; sleep 0.05; done; echo "no socket $1" >&2; return 1; }

mkdir -p "$work/htdocs"
head -c 612 /dev/zero | tr '\0' 'x' > "$work/htdocs/small.html"   # about Debian's default index.html
chmod -R a+rX "$work/htdocs"

# The daemon side: the real HttpIngest listener and a consumer that counts.
daemon_socket="$work/sock/reqin.sock"
# Thread-pool spinning off, as in the daemon's runtimeconfig (Ja4.Host.csproj).
DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 \
  dotnet "$dll" ingest-sink --socket "$daemon_socket" --group www-data > "$out/21-apache-sink.log" 2>&1 &
sink_pid=$!
pids+=("$sink_pid")
wait_socket "$daemon_socket"

# The profiling build of the same sources.
mkdir -p "$work/profile-src"
cp "$root"/native/mod_reqin_log/*.[ch] "$work/profile-src/"
(cd "$work/profile-src" && apxs -c -Wc,-O2 -Wc,-DREQIN_PROFILE -o mod_reqin_log.so mod_reqin_log.c reqin_json.c > build.log 2>&1) \
  || { cat "$work/profile-src/build.log" >&2; exit 1; }
profile_module="$work/profile-src/.libs/mod_reqin_log.so"

write_conf() {  # name port socket-or-empty module-path
  local name="$1" port="$2" socket="$3" so="${4:-$module}" dir="$work/$1"
  mkdir -p "$dir"
  {
    echo "ServerRoot \"$dir\""
    echo "ServerName localhost"
    echo "PidFile \"$dir/httpd.pid\""
    echo "DefaultRuntimeDir \"$dir\""
    echo "ErrorLog \"$dir/error.log\""
    echo "LogLevel warn"
    echo "User www-data"
    echo "Group www-data"
    echo "LoadModule mpm_event_module $mods/mod_mpm_event.so"
    echo "LoadModule authz_core_module $mods/mod_authz_core.so"
    if [ "$name" = profile ]; then
      echo "LoadModule status_module $mods/mod_status.so"
      echo "<Location /server-status>"
      echo "    SetHandler server-status"
      echo "</Location>"
    fi
    if [ -n "$socket" ]; then
      echo "LoadModule reqin_log_module $so"
      echo "ReqinLog On"
      echo "ReqinLogSocket $socket"
      echo "ReqinLogStatsInterval 0"
    fi
    echo "Listen 127.0.0.1:$port"
    echo "StartServers 2"
    echo "ServerLimit 2"
    echo "ThreadsPerChild 32"
    echo "MaxRequestWorkers 64"
    echo "MinSpareThreads 1"
    echo "MaxSpareThreads 128"
    echo "KeepAlive On"
    echo "MaxKeepAliveRequests 0"
    echo "KeepAliveTimeout 30"
    echo "DocumentRoot \"$work/htdocs\""
    echo "<Directory \"$work/htdocs\">"
    echo "    Require all granted"
    echo "</Directory>"
  } > "$dir/httpd.conf"
  apache2 -f "$dir/httpd.conf" -k start
}

declare -A port
for c in "${configs[@]}"; do port[$c]="$(free_port)"; done
write_conf off "${port[off]}" ""
write_conf daemon "${port[daemon]}" "$daemon_socket"
write_conf profile "${port[profile]}" "$daemon_socket" "$profile_module"
for c in "${configs[@]}"; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:${port[$c]}/small.html" && break; sleep 0.05; done
done

# CPU seconds used so far by a process group (an Apache instance: its parent leads it) or a pid.
cpu_of() {  # "pgrp N" | "pid N"
  python3 - "$1" "$2" <<'PY'
import os, sys
kind, wanted, ticks = sys.argv[1], int(sys.argv[2]), 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if (kind == "pgrp" and int(fields[2]) == wanted) or (kind == "pid" and int(pid) == wanted):
        ticks += int(fields[11]) + int(fields[12])   # utime + stime
print(ticks / os.sysconf("SC_CLK_TCK"))
PY
}

run_wrk() {  # config seconds -> "requests/s requests apache_cpu_s daemon_cpu_s"
  local text a0 a1 d0 d1 pg
  pg="$(cat "$work/$1/httpd.pid")"
  a0="$(cpu_of pgrp "$pg")"; d0="$(cpu_of pid "$sink_pid")"
  text="$(wrk -t2 -c"$connections" -d"$2"s "http://127.0.0.1:${port[$1]}/small.html")"
  a1="$(cpu_of pgrp "$pg")"; d1="$(cpu_of pid "$sink_pid")"
  echo "== $1" >> "$out/21-apache-wrk.log"
  echo "$text" >> "$out/21-apache-wrk.log"
  awk -v a="$(python3 -c "print($a1 - $a0)")" -v d="$(python3 -c "print($d1 - $d0)")" \
    '/Requests\/sec:/ {rps=$2} / requests in / {n=$1} END {print rps, n, a, d}' <<< "$text"
}

# Warm-up, then alternate (off, daemon), (daemon, off), ... so that drift on a shared machine
# hits both.
: > "$out/21-apache-wrk.log"
for c in off daemon; do run_wrk "$c" 2 >/dev/null; done
daemon_requests=0
daemon_cpu=0
: > "$out/21-apache-rounds.txt"
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then order="off daemon"; else order="daemon off"; fi
  for c in $order; do
    read -r rps n acpu dcpu < <(run_wrk "$c" "$seconds")
    per_cpu="$(python3 -c "print(round($n / max($acpu, 0.01)))")"
    echo "$c $rps $per_cpu" >> "$out/21-apache-rounds.txt"
    echo "round $r $c: $rps requests/s ($n requests, Apache CPU ${acpu}s: $per_cpu requests/CPU-s)" >&2
    if [ "$c" = daemon ]; then
      daemon_requests=$((daemon_requests + n))
      daemon_cpu="$(python3 -c "print($daemon_cpu + $dcpu)")"
    fi
  done
done

median() {  # config column
  grep "^$1 " "$out/21-apache-rounds.txt" | awk -v c="$2" '{print $c}' | sort -g \
    | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
ratio() { python3 -c "print(f'{$1 / $2:.3f}x')"; }

# The module's own cost: thread CPU time inside its hook, minus the cost of reading the clock.
run_wrk profile "$seconds" >/dev/null
module_us="$(curl -s "http://127.0.0.1:${port[profile]}/server-status?auto" | python3 -c '
import sys
v = dict(l.split(": ", 1) for l in sys.stdin.read().splitlines() if l.startswith("ReqinLogProfile"))
calls = max(1, int(v["ReqinLogProfileCalls"]))
ns = int(v["ReqinLogProfileBuildNs"]) + int(v["ReqinLogProfileSendNs"]) - 2 * int(v["ReqinLogProfileClockNs"])
print(round(ns / calls / 1000, 2))')"
apache_us="$(python3 -c "print(round(1e6 / $(median off 3), 2))")"

# Every request to the daemon instance (warm-up and probes included) should have a record; the
# profile instance's records go to the same daemon.
served_daemon="$(awk '/^== / {c = $2} / requests in / && (c == "daemon" || c == "profile") {n += $1} END {print n}' "$out/21-apache-wrk.log")"
kill -TERM "$sink_pid"
wait "$sink_pid" || true
pids=("${pids[@]:1}")
received="$(awk '/^received/ {print $2}' "$out/21-apache-sink.log")"
delivered="$(python3 -c "print(round(min(100.0, 100.0 * ${received:-0} / max(1, $served_daemon)), 2))")"
us_per_record="$(python3 -c "print(round(1e6 * $daemon_cpu / max(1, $daemon_requests), 2))")"

for c in off daemon; do
  echo "$c: $(median "$c" 2) requests/s, $(median "$c" 3) requests per Apache CPU-second (median of $rounds runs of ${seconds}s, $connections connections)"
done
echo "module: $module_us µs of CPU per request in its hook; Apache without it: $apache_us µs per request"
echo "daemon: ${received:-0} records received for $served_daemon requests; ${us_per_record} µs of daemon CPU per record"
echo "ROW|apache + mod_reqin_log|requests/s (wrk keep-alive)|$(median daemon 2)|module off|$(median off 2)|$(ratio "$(median daemon 2)" "$(median off 2)")"
echo "ROW|apache + mod_reqin_log|requests per Apache CPU-s|$(median daemon 3)|module off|$(median off 3)|$(ratio "$(median daemon 3)" "$(median off 3)")"
with_module_us="$(python3 -c "print(round($apache_us + $module_us, 2))")"
echo "ROW|apache + mod_reqin_log|Apache CPU µs/request|$with_module_us|module off|$apache_us|$(ratio "$apache_us" "$with_module_us")"
echo "ROW|apache + mod_reqin_log|module CPU µs/request|$module_us|||"
echo "ROW|apache + mod_reqin_log|daemon CPU µs/record|$us_per_record|||"
echo "ROW|apache + mod_reqin_log|records delivered %|$delivered|||"
