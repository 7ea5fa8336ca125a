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

# Wall and CPU time (user + sys of the child) of each tool on the same file, same run.
# ja4 fingerprint runs with tiered compilation off (it re-executes itself so, see Ja4.Host/OneShotRuntime.cs).
python3 - "$out" "$packets" "$pcap" "$ja4" <<'PY'
import os, subprocess, sys, time
out, packets, pcap, ja4 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def measure(label, args):
    output = f"{out}/capture-{label}.out"
    with open(output, "wb") as o, open(f"{out}/capture-{label}.err", "wb") as e:
        t0 = time.monotonic()
        p = subprocess.Popen(args, stdout=o, stderr=e)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{label} failed, see {out}/capture-{label}.err")
    hellos = sum(1 for line in open(output, "rb") if line.strip())
    return wall, usage.ru_utime + usage.ru_stime, hellos
# ja4 takes about a second: the median of three runs (by wall time) evens out this VM's jitter.
runs = sorted((measure("ja4", [ja4, "fingerprint", pcap]) for _ in range(3)), key=lambda r: r[0])
jw, jc, jh = runs[1]
print("ja4 runs (wall s, CPU s): " + ", ".join(f"{w:.2f}/{c:.2f}" for w, c, _ in runs))
tw, tc, th = measure("tshark", ["tshark", "-r", pcap, "-Y", "tls.handshake.type==1", "-T", "fields", "-e", "tls.handshake.ja3"])
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
