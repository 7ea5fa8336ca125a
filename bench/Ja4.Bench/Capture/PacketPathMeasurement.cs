using System.Diagnostics;
using System.Globalization;
using Ja4.Modules.Capture;
using Ja4.Modules.Core.Metrics;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Ja4.Bench.Capture;

/// <summary>
/// The per-packet path in memory (no file I/O): loads frames of a pcap, then runs decoding,
/// reassembly and QUIC detection over them, reporting packets/s and the heap bytes allocated
/// per packet that is not part of a handshake.
/// </summary>
public sealed class PacketPathMeasurement : IMeasurement
{
    public string Name => "capture-packet-path";
    public string Description => "in-memory packet path over a pcap: capture-packet-path FILE [--max N]";

    public Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: capture-packet-path FILE [--max N]");
            return Task.FromResult(2);
        }
        var max = args.Length >= 3 && args[1] == "--max" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 600_000;
        var (linkType, frames, ticks) = Load(args[0], max);

        // Bulk only: the packets that complete or belong to no hello, replayed after the hellos are
        // known, measure the non-handshake path; the first pass measures everything.
        Run(linkType, frames, ticks, out _, out var warmup, out _);
        Console.WriteLine($"warm-up pass: {warmup.TotalMilliseconds:0} ms");
        var all = Run(linkType, frames, ticks, out var allocatedAll, out var elapsedAll, out var hellos);
        var bulkFrames = BulkOnly(linkType, frames, ticks);
        Run(linkType, bulkFrames.Frames, bulkFrames.Ticks, out var allocatedBulk, out var elapsedBulk, out _);
        var ppsAll = all / elapsedAll.TotalSeconds;
        var ppsBulk = bulkFrames.Frames.Count / elapsedBulk.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"packet path: {all} packets ({hellos} hellos) in {elapsedAll.TotalMilliseconds:0} ms, {allocatedAll / (double)all:0.0} B/packet; non-handshake: {bulkFrames.Frames.Count} packets, {allocatedBulk} B allocated"));
        Row.Print("capture packet path", "packets/s in memory (all)", ppsAll);
        Row.Print("capture packet path", "packets/s in memory (bulk)", ppsBulk);
        Row.Print("capture packet path", "B allocated / bulk packet", allocatedBulk / (double)Math.Max(1, bulkFrames.Frames.Count));
        return Task.FromResult(0);
    }

    internal static (int LinkType, List<byte[]> Frames, List<long> Ticks) Load(string path, int max)
    {
        using var device = new CaptureFileReaderDevice(path);
        device.Open();
        var frames = new List<byte[]>();
        var ticks = new List<long>();
        while (frames.Count < max && device.GetNextPacket(out var p) == GetPacketStatus.PacketRead)
        {
            frames.Add(p.Data.ToArray());
            ticks.Add(p.Header.Timeval.Date.Ticks);
        }
        return ((int)device.LinkType, frames, ticks);
    }

    private static long Run(int linkType, List<byte[]> frames, List<long> ticks, out long allocated, out TimeSpan elapsed, out long hellos)
    {
        using var extractor = new HelloExtractor(new CaptureOptions(), new CaptureCounters(new Ja4Metrics()));
        hellos = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < frames.Count; i++)
        {
            if (extractor.Process(linkType, frames[i], ticks[i], out var hello, out _) && hello is not null)
            {
                hellos++;
            }
        }
        elapsed = sw.Elapsed;
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return frames.Count;
    }

    /// <summary>Frames that neither start nor continue a hello: SYN-less bulk data, ACKs, FINs of fingerprinted connections.</summary>
    private static (List<byte[]> Frames, List<long> Ticks) BulkOnly(int linkType, List<byte[]> frames, List<long> ticks)
    {
        var outFrames = new List<byte[]>();
        var outTicks = new List<long>();
        var info = new Ja4.Modules.Capture.Decoding.PacketInfo();
        for (var i = 0; i < frames.Count; i++)
        {
            if (Ja4.Modules.Capture.Decoding.PacketDecoder.Decode(linkType, frames[i], ref info) != Ja4.Modules.Capture.Decoding.DecodeStatus.Ok)
            {
                continue;
            }
            var payload = frames[i].AsSpan(info.PayloadOffset, info.PayloadLength);
            var syn = (info.TcpFlags & 0x02) != 0;
            var handshake = payload.Length > 0 && payload[0] is 0x16 or 0x14;
            if (!syn && !handshake)
            {
                outFrames.Add(frames[i]);
                outTicks.Add(ticks[i]);
            }
        }
        return (outFrames, outTicks);
    }
}
