namespace Ja4.Modules.Capture;

/// <summary>
/// Reads libpcap's <c>struct pcap_pkthdr</c> behind the pointer that <c>pcap_next_ex</c> returns
/// (via SharpPcap's <c>GetNextPacketPointers</c>), so that the packet loop never boxes a header.
/// Layout on 64-bit Linux: <c>struct timeval { long tv_sec; long tv_usec; }</c>, then
/// <c>uint32 caplen</c>, <c>uint32 len</c>; microsecond resolution (the default of
/// <c>pcap_open_offline</c> and live handles).
/// </summary>
internal static class PcapRecord
{
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
