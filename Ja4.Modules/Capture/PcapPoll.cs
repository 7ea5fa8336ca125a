using System.Runtime.InteropServices;

namespace Ja4.Modules.Capture;

/// <summary>
/// Waits for a live pcap handle to become readable with <c>poll(2)</c> on
/// <c>pcap_get_selectable_fd</c>, because on Linux <c>pcap_next_ex</c> may block past its read
/// timeout while no packet arrives; the capture loop must wake up to honour shutdown and timers.
/// </summary>
internal static partial class PcapPoll
{
    private const short PollIn = 0x0001;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libpcap.so.0.8", EntryPoint = "pcap_get_selectable_fd")]
    private static partial int GetSelectableFd(IntPtr pcap);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>The descriptor to poll, or -1 when the handle has none.</summary>
    public static int SelectableFd(SafeHandle pcapHandle) => GetSelectableFd(pcapHandle.DangerousGetHandle());

    /// <summary>True when the descriptor is readable within <paramref name="timeoutMs"/> (or cannot be polled).</summary>
    public static unsafe bool WaitReadable(int fd, int timeoutMs)
    {
        if (fd < 0)
        {
            return true;
        }
        var p = new PollFd { Fd = fd, Events = PollIn };
        var r = Poll(&p, 1, timeoutMs);
        return r != 0;
    }
}
