using System.Runtime.CompilerServices;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Capture.Quic;
using Ja4.Modules.Capture.Reassembly;
using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Capture;

/// <summary>A complete ClientHello handshake message as found on the wire, before fingerprinting.</summary>
/// <param name="Timestamp">Capture time of the packet that completed it.</param>
/// <param name="Flow">Client (the sender of the hello) → server.</param>
/// <param name="Transport">TCP (TLS) or UDP (QUIC Initial).</param>
/// <param name="Message">The handshake message: msg_type (1), uint24 length, body.</param>
public sealed record CapturedHello(DateTimeOffset Timestamp, FlowId Flow, Transport Transport, byte[] Message);

/// <summary>
/// The packet path shared by live capture and file reading: decode a frame, feed TCP segments to
/// reassembly and UDP datagrams to QUIC Initial decryption, and return what completed. Packets
/// that are not part of a handshake are handled without allocating. One thread owns an instance.
/// </summary>
public sealed class HelloExtractor : IDisposable
{
    private readonly TcpHelloReassembler _tcp;
    private readonly QuicHelloAssembler? _quic;
    private readonly CaptureCounters _counters;
    private PacketInfo _info;
    private long _packets;
    private long _bytes;
    private long _flushedPackets;
    private long _flushedBytes;

    public HelloExtractor(ReassemblyLimits limits, bool quic, CaptureCounters counters)
    {
        _counters = counters;
        _tcp = new TcpHelloReassembler(limits, counters);
        _quic = quic ? new QuicHelloAssembler(limits.MaxFlows, limits.MaxHelloBytes, limits.FlowIdleTimeout, counters) : null;
    }

    public HelloExtractor(CaptureOptions options, CaptureCounters counters)
        : this(ReassemblyLimits.From(options), options.Quic, counters)
    {
    }

    public CaptureCounters Counters => _counters;
    public TcpHelloReassembler Tcp => _tcp;
    public int QuicFlowCount => _quic?.FlowCount ?? 0;

    /// <summary>
    /// Processes one captured frame. Returns true when it completed a ClientHello
    /// (<paramref name="hello"/>) or ended a tracked connection (<paramref name="closed"/>).
    /// </summary>
    /// <param name="linkType">pcap link type (DLT) of the capture.</param>
    /// <param name="frame">The captured bytes.</param>
    /// <param name="timestampTicks">Capture time as UTC ticks (<see cref="DateTimeOffset.UtcTicks"/>).</param>
    /// <param name="hello">The ClientHello this frame completed, or null.</param>
    /// <param name="closed">The tracked connection this frame ended, or null.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Process(int linkType, ReadOnlySpan<byte> frame, long timestampTicks, out CapturedHello? hello,
        out ClosedConnection? closed)
    {
        hello = null;
        closed = null;
        // Plain fields on the hot path, added to the shared counters in batches.
        _packets++;
        _bytes += frame.Length;
        if ((_packets & 0xFFF) == 0)
        {
            FlushCounters();
        }
        var status = PacketDecoder.Decode(linkType, frame, ref _info);
        if (status != DecodeStatus.Ok)
        {
            _counters.Skipped(status);
            return false;
        }
        var payload = frame.Slice(_info.PayloadOffset, _info.PayloadLength);
        byte[]? message;
        Transport transport;
        if (_info.Protocol == PacketDecoder.ProtoTcp)
        {
            message = _tcp.Process(_info, payload, timestampTicks, out closed);
            transport = Transport.Tcp;
        }
        else if (_quic is not null)
        {
            message = _quic.Process(_info.Flow, payload, timestampTicks);
            transport = Transport.Udp;
        }
        else
        {
            return false;
        }
        if (message is not null)
        {
            hello = new CapturedHello(new DateTimeOffset(timestampTicks, TimeSpan.Zero), _info.Flow, transport, message);
        }
        return hello is not null || closed is not null;
    }

    /// <summary>Adds the packets and bytes seen since the last flush to the shared counters.</summary>
    public void FlushCounters()
    {
        _counters.Packets.Add(_packets - _flushedPackets);
        _counters.Bytes.Add(_bytes - _flushedBytes);
        _flushedPackets = _packets;
        _flushedBytes = _bytes;
    }

    /// <summary>Expires idle state when no packet has arrived for a while (live capture).</summary>
    public void Sweep(long nowTicks)
    {
        FlushCounters();
        _tcp.Sweep(nowTicks);
        _quic?.ExpireIdle(nowTicks);
    }

    public void Dispose()
    {
        FlushCounters();
        _quic?.Dispose();
    }
}
