using Ja4.Modules.Capture;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Core.Events;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Ja4.Tests.Capture;

/// <summary>
/// The corpus' expected files list hellos the way FoxIO's Rust tool reports them: TCP before
/// QUIC, each by the order in which the connection's first packet appears (Wireshark's stream
/// index), not by when the hello completed. This puts capture-order output in that order.
/// </summary>
internal static class ReferenceOrder
{
    public static List<T> Sort<T>(string pcapPath, IEnumerable<T> hellos, Func<T, (Transport Transport, FlowId Flow)> key)
    {
        var firstSeen = FirstSeen(pcapPath);
        return hellos
            .OrderBy(h => key(h).Transport)
            .ThenBy(h => firstSeen.TryGetValue(Canonical(key(h).Transport, key(h).Flow), out var i) ? i : long.MaxValue)
            .ToList();
    }

    private static Dictionary<(Transport, FlowId), long> FirstSeen(string pcapPath)
    {
        var result = new Dictionary<(Transport, FlowId), long>();
        using var device = new CaptureFileReaderDevice(pcapPath);
        device.Open();
        var linkType = (int)device.LinkType;
        var info = new PacketInfo();
        long index = 0;
        while (device.GetNextPacket(out var capture) == GetPacketStatus.PacketRead)
        {
            index++;
            if (PacketDecoder.Decode(linkType, capture.Data, ref info) != DecodeStatus.Ok)
            {
                continue;
            }
            var transport = info.Protocol == PacketDecoder.ProtoTcp ? Transport.Tcp : Transport.Udp;
            result.TryAdd(Canonical(transport, info.Flow), index);
        }
        return result;
    }

    private static (Transport, FlowId) Canonical(Transport t, FlowId f)
    {
        var forward = f.Src.High < f.Dst.High || (f.Src.High == f.Dst.High && (f.Src.Low < f.Dst.Low || (f.Src.Low == f.Dst.Low && f.SrcPort <= f.DstPort)));
        return (t, forward ? f : f.Reverse());
    }
}
