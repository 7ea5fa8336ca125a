#!/usr/bin/env bash
# Capture throughput: `ja4 fingerprint` against tshark's JA3 on one generated pcap (same run),
# plus the in-memory packet path and its allocations per non-handshake packet.
# $1 = repository root, $2 = output directory.
set -euo pipefail
root="$1"
out="$2"
packets_wanted="${JA4_BENCH_CAPTURE_PACKETS:-1500000}"
bench="$root/bench/Ja4.Bench"
ja4="$root/build/ja4"
[ -x "$ja4" ] || { echo "missing $ja4: run 'make build' first" >&2; exit 1; }
command -v tshark >/dev/null || { echo "missing tshark: apt-get install tshark" >&2; exit 1; }

dotnet build "$bench/Ja4.Bench.csproj" -c Release --nologo -v quiet >&2
benchdll="$bench/bin/Release/net10.0/Ja4.Bench.dll"

# The generator is deterministic (seeded): build the file once and keep it.
pcap="$out/capture-$packets_wanted.pcap"
if [ ! -s "$pcap" ]; then
  echo "generating $pcap" >&2
  dotnet "$benchdll" capture-pcapgen "$pcap.tmp" --packets "$packets_wanted" --seed 4242 >&2
  mv "$pcap.tmp" "$pcap"
fi
packets="$packets_wanted"

# Warm the page cache so that both tools read from memory.
cat "$pcap" > /dev/null

measure() { # label, output file, command...
  local label="$1" output="$2"; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$out/capture-$label.time" "$@" > "$output" 2> "$out/capture-$label.err"
  t1=$(date +%s.%N)
  echo "$t0 $t1" > "$out/capture-$label.wall"
}

measure ja4 "$out/capture-ja4.jsonl" "$ja4" fingerprint "$pcap"
measure tshark "$out/capture-tshark.txt" tshark -r "$pcap" -Y 'tls.handshake.type==1' -T fields -e tls.handshake.ja3

python3 - "$out" "$packets" <<'PY'
import sys
out, packets = sys.argv[1], int(sys.argv[2])
def load(label, output):
    t0, t1 = map(float, open(f"{out}/capture-{label}.wall").read().split())
    user, sys_ = map(float, open(f"{out}/capture-{label}.time").read().split()[-2:])
    hellos = sum(1 for line in open(output) if line.strip())
    return t1 - t0, user + sys_, hellos
jw, jc, jh = load("ja4", f"{out}/capture-ja4.jsonl")
tw, tc, th = load("tshark", f"{out}/capture-tshark.txt")
print(f"ja4 fingerprint: {packets} packets, {jh} hellos, {jw:.2f} s wall, {jc:.2f} s CPU")
print(f"tshark:          {packets} packets, {th} hellos, {tw:.2f} s wall, {tc:.2f} s CPU")
def row(metric, v, pv):
    print(f"ROW|capture fingerprint|{metric}|{v:.0f}|tshark|{pv:.0f}|{v / pv:.2f}x")
row("packets/s (wall)", packets / jw, packets / tw)
row("ClientHellos/s (wall)", jh / jw, th / tw)
row("packets/s (CPU time)", packets / jc, packets / tc)
print(f"ROW|capture fingerprint|ClientHellos found|{jh}|tshark|{th}|")
PY

# The per-packet path in memory (no file I/O) and its allocations per non-handshake packet.
dotnet "$benchdll" capture-packet-path "$pcap" --max 600000
