#!/usr/bin/env bash
# Package test: builds the .deb and .rpm, installs the .deb on this machine, runs the installed
# daemon the way its systemd unit does, sends HTTPS requests through the system Apache with
# mod_reqin_log enabled, finds them in the store with their JA4, stops the daemon (SIGTERM,
# exit 0), re-installs the package (configuration and data kept), purges it (user, /etc/ja4,
# /var/lib/ja4 gone, Apache module disabled), and checks the RPM's metadata, files and scripts.
#
# Usage: tests/package/deb-install.sh [--no-build]     (as root, on Debian; make package-test)
#   --no-build   use dist/ja4_<version>_amd64.deb and dist/ja4-<version>.x86_64.rpm as they are
#
# systemd is not running here: the unit's ExecStart runs under tests/package/service-manager.py
# (the notification socket of Type=notify) as the unit's user, with its ambient capabilities,
# capability bounding set, no-new-privileges, working directory, umask and environment, in the
# state, runtime and logs directories prepared as systemd would.
#
# The system Apache is left as it was found: /etc/apache2 and /var/lib/apache2 are saved before
# and restored after, and it is stopped again unless it was running. The private Apache
# instances other tests run from /tmp are not touched. Cleanup runs on every exit (trap); a run
# that was killed is cleaned up by the next one (state in /var/tmp/ja4-package-test).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
build=1
[ "${1:-}" = "--no-build" ] && build=0

state=/var/tmp/ja4-package-test
unit=/lib/systemd/system/ja4.service
config=/etc/ja4/appsettings.json
site=ja4-package-test
host=ja4-package-test.localhost
passed=0

say() { printf '== %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
check() { # check "what" command...: runs the command, fails the test with "what" when it fails
  local what="$1"; shift
  if "$@"; then passed=$((passed + 1)); printf '  ok  %s\n' "$what" >&2; else fail "$what"; fi
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
apache_pid() { local f=/var/run/apache2/apache2.pid; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

[ "$(id -u)" -eq 0 ] || fail "run as root (dpkg, Apache, setpriv)"
for tool in dpkg-deb dpkg apache2ctl a2enmod setpriv openssl curl jq tcpdump rpm /usr/bin/python3; do
  command -v "$tool" >/dev/null || fail "missing $tool (scripts/install-deps.sh test)"
done

exec 9>/var/lock/ja4-package-test.lock
flock -n 9 || fail "another package test is running"

stop_daemon() {
  [ -f "$state/manager.pid" ] || return 0
  local manager; manager=$(cat "$state/manager.pid")
  if kill -0 "$manager" 2>/dev/null; then
    kill -TERM "$manager" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$manager" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$manager" 2>/dev/null || true
    local pid; pid=$(sed -n 's/^PID=//p' "$state/notify.log" 2>/dev/null | tail -1)
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/manager.pid"
  rm -rf /run/ja4
}

restore() {
  local status=$?
  set +e
  [ -d "$state" ] || return 0
  say "cleanup"
  if [ "$status" -ne 0 ] && [ -n "${root:-}" ]; then
    # Keep what explains a failure: the daemon's output, dpkg logs, query results.
    mkdir -p "$root/dist/package-test-logs"
    cp "$state"/*.log "$state"/*.err "$state"/*.out "$state"/*.tsv "$state"/*.json "$state"/*.txt "$root/dist/package-test-logs/" 2>/dev/null
    echo "logs of the failed run: $root/dist/package-test-logs" >&2
  fi
  stop_daemon
  if [ -f "$state/tcpdump.pid" ]; then kill "$(cat "$state/tcpdump.pid")" 2>/dev/null; rm -f "$state/tcpdump.pid"; fi
  if [ -f "$state/apache.tar" ]; then
    apache2ctl stop >/dev/null 2>&1
    for _ in $(seq 1 40); do apache_pid >/dev/null || break; sleep 0.25; done
    if dpkg-query -W -f='${Status}' ja4 2>/dev/null | grep -q "installed\|config-files"; then
      dpkg --purge ja4 >/dev/null 2>&1
    fi
    rm -rf /etc/apache2 /var/lib/apache2
    tar -C / -xf "$state/apache.tar"
    if [ -f "$state/apache-was-running" ]; then apache2ctl start >/dev/null 2>&1; fi
  fi
  rm -rf "$state"
}
trap restore EXIT
trap 'exit 130' INT TERM

# A run that was killed left its state: undo it first.
restore
if dpkg-query -W -f='${Status}' ja4 2>/dev/null | grep -q "installed"; then
  fail "the ja4 package is already installed on this machine; this test installs and purges it"
fi
mkdir -p "$state"
chmod 0755 "$state"
tar -C / -cf "$state/apache.tar" etc/apache2 var/lib/apache2
apache_pid >/dev/null && touch "$state/apache-was-running"

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
deb="dist/ja4_${version}_amd64.deb"
rpmfile="dist/ja4-${version}.x86_64.rpm"
if [ "$build" -eq 1 ]; then
  say "building $deb and $rpmfile"
  scripts/package.sh all
fi
[ -f "$deb" ] && [ -f "$rpmfile" ] || fail "missing $deb or $rpmfile (make deb rpm)"

say "RPM metadata, dependencies, scripts and files"
rpm_info=$(rpm -qip "$rpmfile" 2>/dev/null)
rpm_files=$(rpm -qlp "$rpmfile" 2>/dev/null)
rpm_requires=$(rpm -qp --requires "$rpmfile" 2>/dev/null)
rpm_scripts=$(rpm -qp --scripts "$rpmfile" 2>/dev/null)
rpm_config=$(rpm -qcp "$rpmfile" 2>/dev/null)
check "rpm: name, version, architecture" grep -qE "^Version *: *${version//./\\.}$" <<<"$rpm_info"
check "rpm: x86_64" grep -qE "^Architecture *: *x86_64$" <<<"$rpm_info"
check "rpm: licence names ours and the bundled ones" grep -qE "^License *: *MIT and Apache-2.0" <<<"$rpm_info"
for f in /usr/bin/ja4 /usr/lib/ja4/ja4 /usr/lib/ja4/libchdb.so /usr/lib/ja4/schema/01_database.sql \
         /usr/lib/ja4/known-fingerprints.csv /usr/lib/systemd/system/ja4.service /etc/ja4/appsettings.json \
         /usr/lib64/httpd/modules/mod_reqin_log.so /etc/httpd/conf.modules.d/50-reqin_log.conf \
         /usr/share/doc/ja4/LICENSE /usr/share/doc/ja4/THIRD-PARTY-NOTICES.md /usr/share/doc/ja4/docs/operations.md; do
  check "rpm: holds $f" grep -qxF "$f" <<<"$rpm_files"
done
check "rpm: no Debian Apache paths" bash -c '! grep -q "^/etc/apache2\|^/usr/lib/apache2" <<<"$1"' _ "$rpm_files"
check "rpm: appsettings.json and the Apache snippet are config files" \
  bash -c 'grep -qxF /etc/ja4/appsettings.json <<<"$1" && grep -qxF /etc/httpd/conf.modules.d/50-reqin_log.conf <<<"$1"' _ "$rpm_config"
for dep in libpcap shadow-utils systemd; do
  check "rpm: requires $dep" grep -qE "^$dep( |$)" <<<"$rpm_requires"
done
check "rpm: no automatic requirements on the bundled libraries" bash -c '! grep -q "libchdb\|libclrjit\|GLIBC_PRIVATE" <<<"$1"' _ "$rpm_requires"
check "rpm: pre-install creates the ja4 user" grep -q "useradd -r -g ja4" <<<"$rpm_scripts"
check "rpm: the unit is stopped only on erase (\$1 = 0)" grep -q 'if \[ "\$1" -eq 0 \]' <<<"$rpm_scripts"
rpmroot="$state/rpmroot"
rpm --root "$rpmroot" --nodeps --noscripts -i "$rpmfile" >/dev/null 2>&1 || fail "rpm --root $rpmroot -i $rpmfile"
check "rpm: the unit adds the apache group" grep -qx "SupplementaryGroups=apache" "$rpmroot/usr/lib/systemd/system/ja4.service"
check "rpm: the Apache snippet loads the module from httpd's modules/" \
  grep -qx "LoadModule reqin_log_module modules/mod_reqin_log.so" "$rpmroot/etc/httpd/conf.modules.d/50-reqin_log.conf"
check "rpm: the socket group of the installed configuration is apache" \
  bash -c '[ "$(jq -r .Modules.HttpIngest.SocketGroup "$1")" = apache ]' _ "$rpmroot/etc/ja4/appsettings.json"
check "rpm: the executable is intact (not stripped) and runs" bash -c '"$1/usr/lib/ja4/ja4" version >/dev/null' _ "$rpmroot"
rm -rf "$rpmroot"

say "install $deb"
if ! dpkg -i "$deb" >"$state/dpkg-install.log" 2>&1; then
  # A fresh machine may lack a dependency (libicu72, libpcap0.8): apt completes the installation.
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >>"$state/dpkg-install.log" 2>&1 || true
  dpkg-query -W -f='${Status}' ja4 2>/dev/null | grep -qx "install ok installed" \
    || { cat "$state/dpkg-install.log" >&2; fail "dpkg -i"; }
fi
check "user ja4 exists, no login shell" bash -c 'getent passwd ja4 | grep -q ":/usr/sbin/nologin$"'
check "ja4 is in the web server's group" bash -c 'id -nG ja4 | tr " " "\n" | grep -qx www-data'
check "/etc/ja4/appsettings.json is root:ja4 0640" bash -c '[ "$(stat -c %U:%G:%a /etc/ja4/appsettings.json)" = root:ja4:640 ]'
check "/var/lib/ja4 is ja4:ja4 0750" bash -c '[ "$(stat -c %U:%G:%a /var/lib/ja4)" = ja4:ja4:750 ]'
check "the installed executable runs (no .NET on the path needed)" bash -c 'env -i PATH=/usr/bin:/bin /usr/bin/ja4 version | grep -q "'"$version"'"'
check "the unit file is installed" test -f "$unit"
# The single-file executable maps its assemblies (uncompressed) and carries no native library to extract:
# libchdb.so is the one beside it, not a second copy inside it.
check "the executable does not carry libchdb.so" bash -c '[ "$(stat -c %s /usr/lib/ja4/ja4)" -lt "$(stat -c %s /usr/lib/ja4/libchdb.so)" ]'
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify accepts the unit" systemd-analyze verify "$unit"
fi
check "appsettings.json is a conffile" bash -c 'dpkg-query -W -f="\${Conffiles}" ja4 | grep -q "/etc/ja4/appsettings.json"'
check "the Apache module is shipped, not enabled" bash -c '[ -f /usr/lib/apache2/modules/mod_reqin_log.so ] && [ ! -e /etc/apache2/mods-enabled/reqin_log.load ]'

# The test's own ports, so that nothing else on the machine is disturbed: capture on lo for the
# test vhost only, dashboard and Apache on free ports.
port=$(free_port)
dash_port=$(free_port)
say "configure: capture on lo tcp port $port, dashboard on 127.0.0.1:$dash_port"
jq --argjson p "$port" --arg d "http://127.0.0.1:$dash_port" \
  '.Modules.Capture.Interface = "lo" | .Modules.Capture.Filter = "tcp port \($p)" | .Modules.Dashboard.Urls = $d' \
  "$config" > "$state/appsettings.json"
cat "$state/appsettings.json" > "$config"   # keeps owner and mode: a local modification of the conffile
sha256sum "$config" > "$state/config.sha256"

# start_daemon: the unit's ExecStart as its User/Group with its capabilities, as systemd would.
start_daemon() {
  local user group exec env caps bounding workdir umask
  user=$(sed -n 's/^User=//p' "$unit"); group=$(sed -n 's/^Group=//p' "$unit")
  exec=$(sed -n 's/^ExecStart=//p' "$unit"); env=$(sed -n 's/^Environment=//p' "$unit")
  caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
  bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
  workdir=$(sed -n 's/^WorkingDirectory=//p' "$unit"); umask=$(sed -n 's/^UMask=//p' "$unit")
  grep -qx "NoNewPrivileges=yes" "$unit" || fail "the unit lost NoNewPrivileges"
  # StateDirectory, LogsDirectory, RuntimeDirectory (RuntimeDirectoryMode=2750).
  install -d -o "$user" -g "$group" -m 0750 /var/lib/ja4 /var/log/ja4
  install -d -o "$user" -g "$group" -m "$(sed -n 's/^RuntimeDirectoryMode=//p' "$unit")" /run/ja4
  : > "$state/notify.log"
  local env_args=()
  for assignment in $env; do env_args+=(--env "$assignment"); done
  # shellcheck disable=SC2086
  /usr/bin/python3 "$root/tests/package/service-manager.py" --notify-socket "$state/notify.sock" --log "$state/notify.log" \
    --cwd "$workdir" --umask "$umask" "${env_args[@]}" -- \
    setpriv --reuid "$user" --regid "$group" --init-groups --inh-caps "$caps" --ambient-caps "$caps" \
      --bounding-set "-all,$bounding" --no-new-privs -- $exec \
    >"$state/daemon.out" 2>"$state/daemon.err" &
  echo $! > "$state/manager.pid"
  for _ in $(seq 1 240); do
    grep -qx "READY=1" "$state/notify.log" && return 0
    grep -q "^EXIT=" "$state/notify.log" && break
    sleep 0.5
  done
  tail -20 "$state/daemon.err" "$state/daemon.out" >&2
  fail "the daemon did not report READY=1 (Type=notify)"
}

daemon_pid() { sed -n 's/^PID=//p' "$state/notify.log" | tail -1; }

# stop_and_check: SIGTERM to the main process (KillSignal=SIGTERM), clean exit 0.
stop_and_check() {
  local pid; pid=$(daemon_pid)
  kill -TERM "$pid"
  for _ in $(seq 1 120); do grep -q "^EXIT=" "$state/notify.log" && break; sleep 0.5; done
  check "the daemon said STOPPING=1" grep -qx "STOPPING=1" "$state/notify.log"
  check "SIGTERM stops the daemon with exit code 0" grep -qx "EXIT=0" "$state/notify.log"
  stop_daemon
}

say "start the installed daemon as the unit does"
start_daemon
pid=$(daemon_pid)
check "the daemon runs as ja4" bash -c '[ "$(stat -c %U /proc/'"$pid"')" = ja4 ]'
# CAP_NET_ADMIN is bit 12, CAP_NET_RAW bit 13: 0x3000 and nothing else.
check "effective capabilities are CAP_NET_RAW and CAP_NET_ADMIN only" grep -qx "CapEff:	0000000000003000" "/proc/$pid/status"
check "ambient capabilities are CAP_NET_RAW and CAP_NET_ADMIN only" grep -qx "CapAmb:	0000000000003000" "/proc/$pid/status"
check "no new privileges" grep -qx "NoNewPrivs:	1" "/proc/$pid/status"
check "the ingest socket is the web server group's, srw-rw----" \
  bash -c '[ "$(stat -c %F:%G:%a /run/ja4/reqin.sock)" = "socket:www-data:660" ]'
check "ja4 status reports the daemon ready" bash -c '/usr/bin/ja4 status --config '"$config"' >"'"$state"'/status.txt"'

say "enable mod_reqin_log and a TLS vhost in the system Apache"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$host" -keyout "$state/key.pem" -out "$state/cert.pem" 2>/dev/null
cat > "/etc/apache2/sites-available/$site.conf" <<EOF
Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
    ServerName $host
    DocumentRoot /var/www/html
    SSLEngine on
    SSLCertificateFile $state/cert.pem
    SSLCertificateKeyFile $state/key.pem
</VirtualHost>
EOF
# Only the test's listener: the stock ports (80, 443) may be someone else's.
: > /etc/apache2/ports.conf
a2enmod -q reqin_log ssl >/dev/null
a2ensite -q "$site" >/dev/null
[ -f /var/www/html/index.html ] || fail "/var/www/html/index.html is missing (apache2 default page)"
if apache_pid >/dev/null; then apache2ctl restart; else apache2ctl start; fi
for _ in $(seq 1 40); do curl -ks -o /dev/null "https://127.0.0.1:$port/" && break; sleep 0.25; done

say "HTTPS requests through Apache"
tcpdump -i lo -U -w "$state/hellos.pcap" "tcp port $port" >/dev/null 2>&1 &
echo $! > "$state/tcpdump.pid"
sleep 1
requests=5
: > "$state/client-ports"
for i in $(seq 1 $requests); do
  curl -ks --resolve "$host:$port:127.0.0.1" -o /dev/null -w '%{local_port}\n' \
    "https://$host:$port/index.html?ja4-package-test=$i" >> "$state/client-ports"
done
sleep 1
kill "$(cat "$state/tcpdump.pid")"; rm -f "$state/tcpdump.pid"
sleep 0.5

rows=""
for _ in $(seq 1 180); do
  # JSON lines: the tsv format repeats its header line for every block of the result.
  rows=$(/usr/bin/ja4 sql --config "$config" --format jsonl "SELECT client_port, match_status, sni, ja4 FROM ja4.http_logs WHERE query LIKE 'ja4-package-test=%' ORDER BY client_port" 2>"$state/sql.err" \
    | jq -r '[.client_port, .match_status, .sni, .ja4] | @tsv') || true
  [ "$(grep -c . <<<"$rows")" -ge "$requests" ] && break
  sleep 1
done
echo "$rows" > "$state/rows.tsv"
check "all $requests requests are in the store" bash -c '[ "$(grep -c . "$1")" -eq '"$requests"' ]' _ "$state/rows.tsv"
check "each request is matched to its handshake" bash -c '! cut -f2 "$1" | grep -vqx matched' _ "$state/rows.tsv"
check "the SNI is the vhost's" bash -c '! cut -f3 "$1" | grep -vqx "'"$host"'"' _ "$state/rows.tsv"
# FoxIO JA4 a-part: t (TCP), 13 (TLS 1.3), d (SNI is a domain), 2-digit cipher and extension
# counts, first ALPN's first and last characters; then two 12-hex-digit hashes.
check "each request has a JA4 of the form t13d…_…_…" bash -c '! cut -f4 "$1" | grep -vqE "^t13d[0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$"' _ "$state/rows.tsv"
/usr/bin/ja4 fingerprint --format csv "$state/hellos.pcap" > "$state/hellos.csv"
check "each stored JA4 equals the JA4 of its own connection's ClientHello (tcpdump + ja4 fingerprint)" bash -c '
  while IFS=$'"'\t'"' read -r cport _ _ ja4; do
    grep -q ",$cport,127.0.0.1,[0-9]*,'"$host"',.*,$ja4," "$1" || { echo "client port $cport: $ja4 not in $1" >&2; exit 1; }
  done < "$2"' _ "$state/hellos.csv" "$state/rows.tsv"
check "the client ports are those curl used" bash -c 'diff <(sort -n "$1") <(cut -f1 "$2" | sort -n) >/dev/null' _ "$state/client-ports" "$state/rows.tsv"
check "/readyz is healthy with every module checked" bash -c '
  body=$(curl -s "http://127.0.0.1:'"$dash_port"'/readyz"); echo "$body" > "'"$state"'/readyz.json"
  jq -e ".status == \"Healthy\" and (.checks | has(\"Capture\") and has(\"HttpIngest\") and has(\"Storage\"))" <<<"$body" >/dev/null'
curl -s "http://127.0.0.1:$dash_port/metrics" > "$state/metrics.txt"
check "/metrics exposes the process gauges" grep -q "^ja4_process_resident_memory_bytes " "$state/metrics.txt"
# The unit's DOTNET_GCHeapHardLimitPercent (hexadecimal) holds the managed heap to half the memory.
check "the GC's memory limit is half the machine's memory" bash -c '
  limit=$(sed -n "s/^ja4_dotnet_gc_memory_limit_bytes //p" "$1"); total=$(awk "/^MemTotal:/ {print \$2 * 1024}" /proc/meminfo)
  awk -v l="$limit" -v t="$total" "BEGIN { r = l / t; exit !(r > 0.45 && r < 0.55) }"' _ "$state/metrics.txt"
# And its DOTNET_GCGen0MaxBudget caps the young generation at 4 MB.
check "the GC's young-generation budget is capped at 4 MB" grep -q "^ja4_dotnet_gc_gen0_max_budget_bytes 4194304$" "$state/metrics.txt"
# And its DOTNET_GCConserveMemory=9.
check "the GC conserves memory at level 9" grep -q "^ja4_dotnet_gc_conserve_memory 9$" "$state/metrics.txt"
# And its MALLOC_ARENA_MAX=2 reaches the daemon (the C library reads it once, at start).
check "the C library's allocator is held to two arenas" bash -c 'tr "\0" "\n" < /proc/'"$pid"'/environ | grep -qx MALLOC_ARENA_MAX=2'
check "nothing was extracted from the executable at start (no .net under the service's home)" test ! -e /var/lib/ja4/.net
# Uncompressed, each assembly is mapped from the executable (hundreds of mappings); compressed, they would be
# decompressed into anonymous memory and the executable mapped only as the host's few segments.
check "the assemblies are mapped from the executable, not decompressed into memory" \
  bash -c '[ "$(grep -c " /usr/lib/ja4/ja4$" /proc/'"$pid"'/maps)" -gt 50 ]'

say "stop"
stop_and_check
check "the data-protection key ring is kept under /var/lib/ja4/keys, daemon-only" \
  bash -c '[ "$(stat -c %U:%a /var/lib/ja4/keys)" = ja4:700 ] && ls /var/lib/ja4/keys/key-*.xml >/dev/null'
stored=$(grep -c . "$state/rows.tsv")

say "upgrade: install the same package again"
touch /var/lib/ja4/package-test-marker
dpkg -i "$deb" >"$state/dpkg-upgrade.log" 2>&1 || { cat "$state/dpkg-upgrade.log" >&2; fail "dpkg -i (upgrade)"; }
check "the modified conffile is kept" sha256sum -c --quiet "$state/config.sha256"
check "the data directory is kept" test -f /var/lib/ja4/package-test-marker
check "the store is kept" test -d /var/lib/ja4/clickhouse
start_daemon
# Without --config: /usr/lib/ja4/appsettings.json leads to the installed configuration.
rows_after=$(cd / && /usr/bin/ja4 sql --format jsonl "SELECT count() AS n FROM ja4.http_logs WHERE query LIKE 'ja4-package-test=%'" | jq -r .n)
check "the upgraded daemon serves the rows stored before ($stored)" test "$rows_after" = "$stored"
stop_and_check

say "purge"
apache2ctl stop >/dev/null
for _ in $(seq 1 40); do apache_pid >/dev/null || break; sleep 0.25; done
dpkg --purge ja4 >"$state/dpkg-purge.log" 2>&1 || { cat "$state/dpkg-purge.log" >&2; fail "dpkg --purge"; }
check "user ja4 is gone" bash -c '! getent passwd ja4 >/dev/null'
check "group ja4 is gone" bash -c '! getent group ja4 >/dev/null'
check "/etc/ja4 is gone" test ! -e /etc/ja4
check "/var/lib/ja4 is gone" test ! -e /var/lib/ja4
check "/usr/lib/ja4 is gone" test ! -e /usr/lib/ja4
check "the Apache module is disabled" bash -c '[ ! -e /etc/apache2/mods-enabled/reqin_log.load ] && [ ! -e /etc/apache2/mods-enabled/reqin_log.conf ]'
check "Apache's configuration is still valid" bash -c 'apache2ctl -t >/dev/null 2>&1'

say "package test passed: $passed checks"
