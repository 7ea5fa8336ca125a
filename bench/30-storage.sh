#!/usr/bin/env bash
# Storage: sustained insert of correlated requests into chDB through the writer (rows/s, with the
# batch size), and median latency of the dashboard queries on 10 million generated http_logs rows.
# $1 = repository root, $2 = output directory. Prints ROW| lines.
set -euo pipefail
root="$1"
out="$2"
"$root/scripts/fetch-chdb.sh"
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
bench="$root/bench/Ja4.Bench/bin/Release/net10.0/Ja4.Bench.dll"
cd "$root"
for batch in 50000 200000; do
  dotnet "$bench" storage-ingest --rows "${JA4_BENCH_INGEST_ROWS:-2000000}" --batch "$batch" --data "$out/storage-ingest"
done
dotnet "$bench" storage-queries --rows "${JA4_BENCH_QUERY_ROWS:-10000000}" --data "$out/storage-queries"
rm -rf "$out/storage-ingest" "$out/storage-queries"
