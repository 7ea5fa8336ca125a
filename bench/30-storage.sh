#!/usr/bin/env bash
# Storage: sustained insert of correlated requests into chDB through the writer (rows/s and rows per
# CPU-second, per batch size; 50,000 clients = nearly every row its own aggregate group, 1,000 clients
# = a few busy clients; sustained over 10 million rows with the events generated beforehand, one or two
# inserts at once), where one insert's time goes (storage-insert-paths: encode, RowBinary vs
# Native parsing, table and view work, the engine's own INSERT SELECT), and median latency of the
# dashboard queries on 10 million generated http_logs rows.
# $1 = repository root, $2 = output directory. Prints ROW| lines.
set -euo pipefail
root="$1"
out="$2"
"$root/scripts/fetch-chdb.sh"
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
bench="$root/bench/Ja4.Bench/bin/Release/net10.0/Ja4.Bench.dll"
cd "$root"
rows="${JA4_BENCH_INGEST_ROWS:-2000000}"
sustained="${JA4_BENCH_SUSTAINED_ROWS:-10000000}"
# With the benchmark generating events as it goes (its generator takes about a core):
for batch in 50000 200000 1000000; do
  dotnet "$bench" storage-ingest --rows "$rows" --batch "$batch" --data "$out/storage-ingest"
done
dotnet "$bench" storage-ingest --rows "$rows" --batch 200000 --clients 1000 --data "$out/storage-ingest"
# Sustained: 10 million rows from a pool of a million events generated before the clock starts, so that
# the writer and the engine have the two cores (1,000 clients: realistic repetition; 50,000: every row of
# a batch its own aggregate group, the views' worst case).
for clients in 1000 50000; do
  dotnet "$bench" storage-ingest --rows "$sustained" --batch 200000 --clients "$clients" --pregenerate 1000000 --data "$out/storage-ingest"
done
dotnet "$bench" storage-ingest --rows "$sustained" --batch 50000 --clients 1000 --pregenerate 1000000 --data "$out/storage-ingest"
dotnet "$bench" storage-ingest --rows "$sustained" --batch 200000 --clients 50000 --pregenerate 1000000 --concurrency 2 --data "$out/storage-ingest"
dotnet "$bench" storage-insert-paths --rows 100000 --repeat 3 --data "$out/storage-insert-paths"
dotnet "$bench" storage-queries --rows "${JA4_BENCH_QUERY_ROWS:-10000000}" --data "$out/storage-queries"
rm -rf "$out/storage-ingest" "$out/storage-insert-paths" "$out/storage-queries"
