#!/usr/bin/env bash
# Runs every benchmark script bench/NN-*.sh in order and prints one table of their ROW| lines.
# Each script receives the repository root as $1 and the output directory as $2.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/bench/out"
mkdir -p "$out"
rows="$out/rows.txt"
: > "$rows"
status=0
for script in "$root"/bench/[0-9][0-9]-*.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .sh)
  echo "== $name" >&2
  if ! bash "$script" "$root" "$out" 2> >(tee "$out/$name.err" >&2) | tee "$out/$name.log" | grep '^ROW|' >> "$rows"; then
    echo "!! $name failed (see bench/out/$name.log)" >&2
    status=1
  fi
done
echo
printf '| %-28s | %-30s | %14s | %-10s | %14s | %8s |\n' benchmark metric ja4 peer "peer value" ratio
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..30})" "$(printf -- '-%.0s' {1..32})" "$(printf -- '-%.0s' {1..16})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..16})" "$(printf -- '-%.0s' {1..10})"
while IFS='|' read -r _ b m v p pv r; do
  printf '| %-28s | %-30s | %14s | %-10s | %14s | %8s |\n' "$b" "$m" "$v" "$p" "$pv" "$r"
done < "$rows"
exit $status
