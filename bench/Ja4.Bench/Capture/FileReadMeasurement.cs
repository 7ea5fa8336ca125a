using System.Diagnostics;
using System.Globalization;
using Ja4.Modules.Capture;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Ja4.Bench.Capture;

/// <summary>Where the time of the offline path goes: libpcap reading alone, hello extraction, fingerprinting.</summary>
public sealed class FileReadMeasurement : IMeasurement
{
    /// <summary>CPU time of this process (a shared machine makes wall time meaningless).</summary>
    private sealed class CpuWatch
    {
        private TimeSpan _start = Process.GetCurrentProcess().TotalProcessorTime;
        public TimeSpan Elapsed => Process.GetCurrentProcess().TotalProcessorTime - _start;
        public void Restart() => _start = Process.GetCurrentProcess().TotalProcessorTime;
    }

    public string Name => "capture-file-stages";
    public string Description => "time libpcap reading, extraction and fingerprinting of a pcap: capture-file-stages FILE";

    public Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: capture-file-stages FILE");
            return Task.FromResult(2);
        }
        var path = args[0];
        var sw = new CpuWatch();
        long packets = 0;
        using (var device = new CaptureFileReaderDevice(path))
        {
            device.Open();
            IntPtr h = IntPtr.Zero, d = IntPtr.Zero;
            while (device.GetNextPacketPointers(ref h, ref d) == (int)GetPacketStatus.PacketRead)
            {
                packets++;
            }
        }
        var read = sw.Elapsed;
        sw.Restart();
        using (var device = new CaptureFileReaderDevice(path))
        {
            device.Open();
            IntPtr h = IntPtr.Zero, d = IntPtr.Zero;
            var handle = device.Handle.DangerousGetHandle();
            while (DirectPcap.NextEx(handle, ref h, ref d) == 1)
            {
            }
        }
        Console.WriteLine($"direct pcap_next_ex: {sw.Elapsed.TotalMilliseconds:0} ms (CPU time)");
        sw.Restart();
        long hellos;
        using (var reader = new CaptureFileReader(path))
        {
            hellos = reader.ReadHellos().LongCount();
        }
        var extract = sw.Elapsed;
        sw.Restart();
        var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        var gen0 = GC.CollectionCount(0);
        using (var reader = new CaptureFileReader(path))
        {
            reader.ReadEvents().LongCount();
        }
        var events = sw.Elapsed;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"read+extract+fingerprint allocated {allocated / 1e6:0.0} MB ({(double)allocated / Math.Max(1, hellos):0} bytes per hello), {GC.CollectionCount(0) - gen0} gen0 collections"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{packets} packets, {hellos} hellos: libpcap read {read.TotalMilliseconds:0} ms, read+extract {extract.TotalMilliseconds:0} ms, read+extract+fingerprint {events.TotalMilliseconds:0} ms (CPU time)"));
        return Task.FromResult(0);
    }
}

internal static partial class DirectPcap
{
    [System.Runtime.InteropServices.LibraryImport("libpcap.so.0.8", EntryPoint = "pcap_next_ex")]
    public static partial int NextEx(IntPtr pcap, ref IntPtr header, ref IntPtr data);
}
