#!/usr/bin/env bash
# Dashboard: p95 latency of every REST endpoint and the server-side render time of each page
# (prerendered HTML over HTTP) on 10 million generated http_logs rows, 200,000 anomalies and
# 1,000 campaigns, served by the real daemon on chDB. Target: 300 ms or less for each.
# $1 = repository root, $2 = output directory. Prints ROW| lines.
set -euo pipefail
root="$1"
out="$2"
"$root/scripts/fetch-chdb.sh"
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
bench="$root/bench/Ja4.Bench/bin/Release/net10.0/Ja4.Bench.dll"
cd "$root"
dotnet "$bench" dashboard --rows "${JA4_BENCH_DASHBOARD_ROWS:-10000000}" --calls "${JA4_BENCH_DASHBOARD_CALLS:-20}" --data "$out/dashboard"
rm -rf "$out/dashboard"
