#!/usr/bin/env bash
# Detection benchmarks: Isolation Forest against scikit-learn (same 100,000 x 20 matrix, same run),
# detection quality on labelled simulator traffic that the thresholds were not tuned on, and a whole
# detection run over about a million requests, in memory and as the daemon does it with storage on
# (features by SQL over http_logs in chDB, ml_* writes; wall and CPU time). Receives the repository root ($1) and an output
# directory ($2); prints ROW| lines.
set -euo pipefail
root="$1"
out="$2"
bench="$out/ja4-bench"
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release -o "$bench" >"$out/50-detection-build.log"
run() { dotnet "$bench/Ja4.Bench.dll" "$@"; }
run forest-timing "$root" 100000 20
run detection-quality "$root" 2027 evaluation
run detection-pca "$root" 2027
run detection-run "$root" 17000
"$root/scripts/fetch-chdb.sh" >/dev/null
(cd "$root" && run detection-run-store "$root" 17000)
