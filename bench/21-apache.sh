#!/usr/bin/env bash
# Apache throughput with mod_reqin_log on and off, in the same run: two private Apache
# instances with the same configuration except the module (event MPM, keep-alive, a small
# static file), measured alternately with wrk; the daemon's real socket listener
# (ja4-bench ingest-sink) receives the records. Prints requests/s for both, the ratio
# (target >= 0.97) and the share of records delivered.
# Receives the repository root ($1) and the output directory ($2).
# JA4_BENCH_APACHE_SECONDS (default 10) and JA4_BENCH_APACHE_ROUNDS (default 3) tune the run.
set -euo pipefail
root="$1"
out="$2"
mkdir -p "$out"
seconds="${JA4_BENCH_APACHE_SECONDS:-10}"
rounds="${JA4_BENCH_APACHE_ROUNDS:-3}"
connections="${JA4_BENCH_APACHE_CONNECTIONS:-32}"

for tool in apache2 wrk python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (scripts/install-deps.sh bench)" >&2; exit 1; }
done
make -s -C "$root/native/mod_reqin_log" >&2
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
dll="$root/bench/Ja4.Bench/bin/Release/net10.0/Ja4.Bench.dll"
module="$root/native/mod_reqin_log/.libs/mod_reqin_log.so"
mods=/usr/lib/apache2/modules

work="$(mktemp -d /tmp/ja4-bench-apache-XXXXXX)"
chmod 755 "$work"
sink_pid=""
cleanup() {
  for c in on off; do
    if [ -f "$work/$c/httpd.pid" ]; then apache2 -f "$work/$c/httpd.conf" -k stop 2>/dev/null || true; fi
  done
  if [ -n "$sink_pid" ]; then kill -TERM "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; fi
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkdir -p "$work/htdocs"
head -c 612 /dev/zero | tr '\0' 'x' > "$work/htdocs/small.html"   # the size of Debian's default index.html, roughly
chmod -R a+rX "$work/htdocs"
socket="$work/sock/reqin.sock"

# The daemon side: the real HttpIngest listener and a consumer that counts.
dotnet "$dll" ingest-sink --socket "$socket" --group www-data > "$out/21-apache-sink.log" 2>&1 &
sink_pid=$!
for _ in $(seq 1 200); do [ -S "$socket" ] && break; sleep 0.05; done
[ -S "$socket" ] || { echo "the ingest sink did not create $socket" >&2; cat "$out/21-apache-sink.log" >&2; exit 1; }

write_conf() {  # name port with_module
  local name="$1" port="$2" with="$3" dir="$work/$1"
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
    if [ "$with" = yes ]; then
      echo "LoadModule reqin_log_module $module"
      echo "ReqinLog On"
      echo "ReqinLogSocket $socket"
      echo "ReqinLogStatsInterval 0"
    fi
    echo "Listen 127.0.0.1:$port"
    echo "StartServers 2"
    echo "ServerLimit 2"
    echo "ThreadsPerChild 32"
    echo "MaxRequestWorkers 64"
    echo "MinSpareThreads 32"
    echo "MaxSpareThreads 64"
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

port_off="$(free_port)"
port_on="$(free_port)"
write_conf off "$port_off" no
write_conf on "$port_on" yes
for p in "$port_off" "$port_on"; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$p/small.html" && break; sleep 0.05; done
done

# CPU seconds used so far by an instance: its parent and children share the parent's process group.
apache_cpu() {  # name
  python3 - "$(cat "$work/$1/httpd.pid")" <<'PY'
import os, sys
pgid, ticks = int(sys.argv[1]), 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if int(fields[2]) == pgid:          # pgrp
        ticks += int(fields[11]) + int(fields[12])   # utime + stime
print(ticks / os.sysconf("SC_CLK_TCK"))
PY
}

run_wrk() {  # name port seconds -> "requests/s total_requests apache_cpu_seconds"
  local text cpu0 cpu1
  cpu0="$(apache_cpu "$1")"
  text="$(wrk -t2 -c"$connections" -d"$3"s "http://127.0.0.1:$2/small.html")"
  cpu1="$(apache_cpu "$1")"
  echo "$text" >> "$out/21-apache-wrk.log"
  awk -v cpu="$(python3 -c "print($cpu1 - $cpu0)")" '/Requests\/sec:/ {rps=$2} / requests in / {n=$1} END {print rps, n, cpu}' <<< "$text"
}

# Warm-up, then alternate (off, on), (on, off), ... so that drift on a shared machine hits both.
run_wrk off "$port_off" 2 >/dev/null
read -r _ on_requests _ < <(run_wrk on "$port_on" 2)
: > "$out/21-apache-rounds.txt"
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then order="off on"; else order="on off"; fi
  for c in $order; do
    if [ "$c" = on ]; then port="$port_on"; else port="$port_off"; fi
    read -r rps n cpu < <(run_wrk "$c" "$port" "$seconds")
    per_cpu="$(python3 -c "print(round($n / max($cpu, 0.01)))")"
    echo "$c $rps $per_cpu" >> "$out/21-apache-rounds.txt"
    echo "round $r module $c: $rps requests/s ($n requests, Apache CPU ${cpu}s: $per_cpu requests/CPU-s)" >&2
    if [ "$c" = on ]; then on_requests=$((on_requests + n)); fi
  done
done

median() {  # config column
  grep "^$1 " "$out/21-apache-rounds.txt" | awk -v c="$2" '{print $c}' | sort -g \
    | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
off="$(median off 2)"
on="$(median on 2)"
off_cpu="$(median off 3)"
on_cpu="$(median on 3)"

kill -TERM "$sink_pid"
wait "$sink_pid" || true
sink_pid=""
received="$(awk '/^received/ {print $2}' "$out/21-apache-sink.log")"
delivered="$(python3 -c "print(round(min(100.0, 100.0 * ${received:-0} / max(1, $on_requests)), 2))")"

echo "module off: $off requests/s, on: $on requests/s (median of $rounds runs of ${seconds}s, $connections connections)"
echo "Apache CPU: module off $off_cpu, on $on_cpu requests per CPU-second"
echo "records received by the daemon: ${received:-0} for $on_requests requests served with the module (warm-up included)"
echo "ROW|apache + mod_reqin_log|requests/s (wrk keep-alive)|$on|module off|$off|$(python3 -c "print(f'{$on / $off:.3f}x')")"
echo "ROW|apache + mod_reqin_log|requests per Apache CPU-s|$on_cpu|module off|$off_cpu|$(python3 -c "print(f'{$on_cpu / $off_cpu:.3f}x')")"
echo "ROW|apache + mod_reqin_log|records delivered %|$delivered|||"
