#!/usr/bin/env bash
# Installs the system packages the build, tests and benchmarks need on Debian.
# Usage: scripts/install-deps.sh [build|test|bench|run]   (idempotent, quiet when all present)
set -euo pipefail
want=(libpcap0.8 libpcap-dev tcpdump curl openssl ca-certificates jq)
case "${1:-test}" in
  run|build) ;;
  test|bench) want+=(tshark apache2 apache2-dev apache2-utils libssl-dev wrk python3 python3-sklearn chromium rpm);;
esac
# npm fetches the embedded ClickHouse engine (scripts/fetch-chdb.sh).
command -v npm >/dev/null || want+=(npm)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
