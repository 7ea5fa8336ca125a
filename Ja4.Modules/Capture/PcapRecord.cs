using System.Runtime.InteropServices;

namespace Ja4.Modules.Capture;

/// <summary>
/// Reads libpcap's <c>struct pcap_pkthdr</c> behind the pointer that <c>pcap_next_ex</c> returns
/// (via SharpPcap's <c>GetNextPacketPointers</c>), so that the packet loop never boxes a header.
/// Layout on 64-bit Linux: <c>struct timeval { long tv_sec; long tv_usec; }</c>, then
/// <c>uint32 caplen</c>, <c>uint32 len</c>; microsecond resolution (the default of
/// <c>pcap_open_offline</c> and live handles).
/// </summary>
/// <remarks>
/// The packet loops call <c>pcap_next_ex</c> directly on the handle SharpPcap opened (held with
/// <see cref="SafeHandle.DangerousAddRef"/> for the whole loop): SharpPcap's wrapper takes and
/// releases the handle on every packet, which costs about a third of libpcap's own read time.
/// </remarks>
internal static partial class PcapRecord
{
    /// <summary><c>pcap_next_ex</c> results (the values of SharpPcap's <c>GetPacketStatus</c>).</summary>
    public const int PacketRead = 1;
    public const int ReadTimeout = 0;
    public const int NoRemainingPackets = -2;

    [LibraryImport("libpcap.so.0.8", EntryPoint = "pcap_next_ex")]
    private static partial int NextEx(IntPtr pcap, out IntPtr header, out IntPtr data);

    /// <summary>Reads the next record of an open handle (the caller holds a reference on it).</summary>
    public static int Next(IntPtr pcap, out IntPtr header, out IntPtr data) => NextEx(pcap, out header, out data);

    private const long UnixEpochTicks = 621_355_968_000_000_000L;

    public static unsafe long TimestampTicks(IntPtr header)
    {
        var p = (long*)header;
        return UnixEpochTicks + p[0] * TimeSpan.TicksPerSecond + p[1] * TimeSpan.TicksPerMicrosecond;
    }

    public static unsafe int CaptureLength(IntPtr header) => (int)*(uint*)((byte*)header + 2 * sizeof(long));

    public static unsafe ReadOnlySpan<byte> Data(IntPtr header, IntPtr data) =>
        new((void*)data, CaptureLength(header));

    static PcapRecord()
    {
        if (IntPtr.Size != 8 || !OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("packet capture supports 64-bit Linux only");
        }
    }
}
