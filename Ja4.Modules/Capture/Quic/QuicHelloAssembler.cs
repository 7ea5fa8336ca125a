using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Capture.Reassembly;

namespace Ja4.Modules.Capture.Quic;

/// <summary>
/// Finds the ClientHello in a client's QUIC Initial packets: removes header protection,
/// decrypts the payload with the client Initial keys (RFC 9001 §5), walks the frames and
/// reassembles CRYPTO data by offset across coalesced and successive Initial packets. State is
/// per client 4-tuple, keyed to the DCID of the client's first Initial (later Initials of the
/// same connection carry the server's CID but keep the original keys). Bounded by a flow cap
/// (oldest evicted) and idle expiry.
/// </summary>
public sealed class QuicHelloAssembler : IDisposable
{
    private const int MaxConnectionIdLength = 20;
    private const byte FramePadding = 0x00;
    private const byte FramePing = 0x01;
    private const byte FrameAck = 0x02;
    private const byte FrameAckEcn = 0x03;
    private const byte FrameCrypto = 0x06;
    private const byte FrameConnectionClose = 0x1c;

    private readonly LruTable<QuicFlow> _flows;
    private readonly int _maxFlows;
    private readonly int _maxHelloBytes;
    private readonly long _idleTicks;
    private readonly CaptureCounters _counters;
    private readonly byte[] _packet = new byte[65_536];
    private readonly byte[] _plain = new byte[65_536];

    public QuicHelloAssembler(int maxFlows, int maxHelloBytes, TimeSpan idleTimeout, CaptureCounters counters)
    {
        _maxFlows = maxFlows;
        _maxHelloBytes = maxHelloBytes;
        _idleTicks = idleTimeout.Ticks;
        _counters = counters;
        _flows = new LruTable<QuicFlow>(maxFlows);
    }

    public int FlowCount => _flows.Count;

    /// <summary>Quick test on the first bytes: a long-header packet of a supported version.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool LooksLikeInitial(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < 7 || (datagram[0] & 0xC0) != 0xC0)
        {
            return false;
        }
        var version = BinaryPrimitives.ReadUInt32BigEndian(datagram[1..]);
        return QuicVersions.IsSupported(version) && ((datagram[0] >> 4) & 0x3) == QuicVersions.InitialType(version);
    }

    /// <summary>
    /// Processes one UDP payload sent by <paramref name="flow"/>'s source. Returns the complete
    /// ClientHello handshake message when this datagram completes it, else null.
    /// </summary>
    public byte[]? Process(in FlowId flow, ReadOnlySpan<byte> datagram, long now)
    {
        if (!LooksLikeInitial(datagram))
        {
            return null;
        }
        ExpireIdle(now);
        var pos = 0;
        byte[]? hello = null;
        while (pos < datagram.Length && hello is null)
        {
            var rest = datagram[pos..];
            if (rest.Length < 7 || (rest[0] & 0x80) == 0)
            {
                break;
            }
            var version = BinaryPrimitives.ReadUInt32BigEndian(rest[1..]);
            if (!QuicVersions.IsSupported(version))
            {
                break;
            }
            var p = 5;
            int dcidLength = rest[p++];
            if (dcidLength > MaxConnectionIdLength || rest.Length < p + dcidLength + 1)
            {
                break;
            }
            var dcid = rest.Slice(p, dcidLength);
            p += dcidLength;
            int scidLength = rest[p++];
            if (scidLength > MaxConnectionIdLength || rest.Length < p + scidLength)
            {
                break;
            }
            p += scidLength;
            var type = (rest[0] >> 4) & 0x3;
            var isInitial = type == QuicVersions.InitialType(version);
            var isRetry = type == (version == QuicVersions.V2 ? 0 : 3);
            if (isRetry)
            {
                break;
            }
            if (isInitial)
            {
                if (!TryReadVarint(rest, ref p, out var tokenLength) || (ulong)(rest.Length - p) < tokenLength)
                {
                    break;
                }
                p += (int)tokenLength;
            }
            if (!TryReadVarint(rest, ref p, out var length) || (ulong)(rest.Length - p) < length)
            {
                break;
            }
            var packetLength = p + (int)length;
            if (isInitial)
            {
                hello = ProcessInitial(flow, version, dcid, rest[..packetLength], p, now);
            }
            pos += packetLength;
        }
        return hello;
    }

    private byte[]? ProcessInitial(in FlowId id, uint version, ReadOnlySpan<byte> dcid, ReadOnlySpan<byte> packet, int pnOffset, long now)
    {
        var existing = _flows.TryGet(id, out var flow);
        if (existing && flow.Done)
        {
            _flows.Touch(flow, now);
            return null;
        }
        // RFC 9001 §5.4.2: the sample starts 4 bytes after the packet number's start.
        if (packet.Length < pnOffset + 4 + QuicInitialProtection.SampleLength)
        {
            return null;
        }
        QuicInitialProtection? fresh = null;
        var protection = existing && flow.Version == version ? flow.Protection : fresh = QuicInitialProtection.ForClient(version, dcid);
        if (!TryUnprotect(protection, packet, pnOffset, existing ? flow.LargestPacketNumber : -1, out var plainLength, out var pn))
        {
            if (existing && fresh is null && !dcid.SequenceEqual(flow.Dcid))
            {
                // A new connection from the same address and port: restart with keys from its DCID.
                fresh = QuicInitialProtection.ForClient(version, dcid);
                if (TryUnprotect(fresh, packet, pnOffset, -1, out plainLength, out pn))
                {
                    RemoveFlow(flow, giveUp: true);
                    existing = false;
                    goto decrypted;
                }
            }
            fresh?.Dispose();
            _counters.QuicUndecryptable.Increment();
            return null;
        }
decrypted:
        if (!existing || fresh is not null)
        {
            if (fresh is null)
            {
                return null;
            }
            while (_flows.Count >= _maxFlows && _flows.Oldest is { } oldest)
            {
                RemoveFlow(oldest, giveUp: true);
            }
            flow = new QuicFlow(version, dcid.ToArray(), fresh);
            _flows.Add(id, flow, now);
        }
        flow.LargestPacketNumber = Math.Max(flow.LargestPacketNumber, (long)pn);
        _flows.Touch(flow, now);
        if (!ReadFrames(flow, _plain.AsSpan(0, plainLength)))
        {
            RemoveFlow(flow, giveUp: true);
            return null;
        }
        var prefix = flow.ContiguousPrefix;
        if (prefix < 4)
        {
            return null;
        }
        if (flow.Crypto[0] != TlsRecordScanner.HandshakeTypeClientHello)
        {
            // A server Initial that happened to decrypt, or garbage: stop following it.
            RemoveFlow(flow, giveUp: true);
            return null;
        }
        var needed = 4 + ((flow.Crypto[1] << 16) | (flow.Crypto[2] << 8) | flow.Crypto[3]);
        if (needed > _maxHelloBytes)
        {
            RemoveFlow(flow, giveUp: true);
            return null;
        }
        if (prefix < needed)
        {
            return null;
        }
        var hello = flow.Crypto.AsSpan(0, needed).ToArray();
        flow.MarkDone();
        return hello;
    }

    private bool TryUnprotect(QuicInitialProtection protection, ReadOnlySpan<byte> packet, int pnOffset, long largestPn,
        out int plainLength, out ulong packetNumber)
    {
        plainLength = 0;
        packetNumber = 0;
        var buffer = _packet.AsSpan(0, packet.Length);
        packet.CopyTo(buffer);
        Span<byte> mask = stackalloc byte[5];
        protection.HeaderMask(buffer.Slice(pnOffset + 4, QuicInitialProtection.SampleLength), mask);
        // Long header: the low 4 bits of the first byte are protected (RFC 9001 §5.4.1).
        buffer[0] ^= (byte)(mask[0] & 0x0F);
        var pnLength = (buffer[0] & 0x03) + 1;
        ulong truncated = 0;
        for (var i = 0; i < pnLength; i++)
        {
            buffer[pnOffset + i] ^= mask[1 + i];
            truncated = (truncated << 8) | buffer[pnOffset + i];
        }
        packetNumber = DecodePacketNumber(largestPn, truncated, pnLength * 8);
        var headerLength = pnOffset + pnLength;
        if (buffer.Length - headerLength < QuicInitialProtection.TagLength)
        {
            return false;
        }
        if (!protection.TryDecrypt(packetNumber, buffer[..headerLength], buffer[headerLength..], _plain))
        {
            return false;
        }
        plainLength = buffer.Length - headerLength - QuicInitialProtection.TagLength;
        return true;
    }

    /// <summary>RFC 9000 Appendix A.3: the full packet number closest to the next expected one.</summary>
    internal static ulong DecodePacketNumber(long largest, ulong truncated, int bits)
    {
        var expected = (ulong)(largest + 1);
        var window = 1UL << bits;
        var halfWindow = window / 2;
        var mask = window - 1;
        var candidate = (expected & ~mask) | truncated;
        if (candidate + halfWindow <= expected && candidate < (1UL << 62) - window)
        {
            return candidate + window;
        }
        if (candidate > expected + halfWindow && candidate >= window)
        {
            return candidate - window;
        }
        return candidate;
    }

    /// <summary>Walks the frames of a decrypted Initial payload (RFC 9000 §19); false on a malformed frame.</summary>
    private bool ReadFrames(QuicFlow flow, ReadOnlySpan<byte> payload)
    {
        var p = 0;
        while (p < payload.Length)
        {
            if (!TryReadVarint(payload, ref p, out var frameType))
            {
                return false;
            }
            switch (frameType)
            {
                case FramePadding or FramePing:
                    break;
                case FrameAck or FrameAckEcn:
                {
                    if (!TryReadVarint(payload, ref p, out _) || !TryReadVarint(payload, ref p, out _)
                        || !TryReadVarint(payload, ref p, out var ranges) || !TryReadVarint(payload, ref p, out _))
                    {
                        return false;
                    }
                    for (ulong r = 0; r < ranges; r++)
                    {
                        if (!TryReadVarint(payload, ref p, out _) || !TryReadVarint(payload, ref p, out _))
                        {
                            return false;
                        }
                    }
                    if (frameType == FrameAckEcn && (!TryReadVarint(payload, ref p, out _)
                        || !TryReadVarint(payload, ref p, out _) || !TryReadVarint(payload, ref p, out _)))
                    {
                        return false;
                    }
                    break;
                }
                case FrameCrypto:
                {
                    if (!TryReadVarint(payload, ref p, out var offset) || !TryReadVarint(payload, ref p, out var length)
                        || (ulong)(payload.Length - p) < length)
                    {
                        return false;
                    }
                    if (offset + length > (ulong)_maxHelloBytes)
                    {
                        return false;
                    }
                    flow.AddCrypto((int)offset, payload.Slice(p, (int)length), _maxHelloBytes);
                    p += (int)length;
                    break;
                }
                case FrameConnectionClose:
                {
                    if (!TryReadVarint(payload, ref p, out _) || !TryReadVarint(payload, ref p, out _)
                        || !TryReadVarint(payload, ref p, out var reasonLength) || (ulong)(payload.Length - p) < reasonLength)
                    {
                        return false;
                    }
                    p += (int)reasonLength;
                    break;
                }
                default:
                    // No other frame type is allowed in an Initial packet (RFC 9000 §12.4).
                    return false;
            }
        }
        return true;
    }

    /// <summary>RFC 9000 §16 variable-length integer.</summary>
    internal static bool TryReadVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        value = 0;
        if (pos >= data.Length)
        {
            return false;
        }
        var length = 1 << (data[pos] >> 6);
        if (data.Length - pos < length)
        {
            return false;
        }
        value = (ulong)(data[pos] & 0x3F);
        for (var i = 1; i < length; i++)
        {
            value = (value << 8) | data[pos + i];
        }
        pos += length;
        return true;
    }

    /// <summary>Drops state idle for longer than the timeout (packet clock).</summary>
    public void ExpireIdle(long now)
    {
        while (_flows.Oldest is { } oldest && now - oldest.LastActivity > _idleTicks)
        {
            RemoveFlow(oldest, giveUp: !oldest.Done);
        }
    }

    private void RemoveFlow(QuicFlow flow, bool giveUp)
    {
        _flows.Remove(flow);
        if (giveUp && !flow.Done)
        {
            _counters.QuicGiveUps.Increment();
        }
        flow.Dispose();
    }

    public void Dispose()
    {
        while (_flows.Oldest is { } oldest)
        {
            _flows.Remove(oldest);
            oldest.Dispose();
        }
    }

    private sealed class QuicFlow(uint version, byte[] dcid, QuicInitialProtection protection) : LruEntry, IDisposable
    {
        private readonly List<(int Start, int End)> _ranges = [];
        public uint Version { get; } = version;
        public byte[] Dcid { get; } = dcid;
        public QuicInitialProtection Protection { get; private set; } = protection;
        public long LargestPacketNumber { get; set; } = -1;
        public byte[] Crypto { get; private set; } = new byte[2048];
        public bool Done { get; private set; }

        public int ContiguousPrefix => _ranges.Count > 0 && _ranges[0].Start == 0 ? _ranges[0].End : 0;

        public void AddCrypto(int offset, ReadOnlySpan<byte> data, int cap)
        {
            var end = offset + data.Length;
            if (end > Crypto.Length)
            {
                var grown = new byte[Math.Min(cap, Math.Max(end, Crypto.Length * 2))];
                Crypto.AsSpan().CopyTo(grown);
                Crypto = grown;
            }
            data.CopyTo(Crypto.AsSpan(offset));
            // Merge [offset, end) into the sorted, disjoint range list.
            var start = offset;
            var i = 0;
            while (i < _ranges.Count && _ranges[i].End < start)
            {
                i++;
            }
            while (i < _ranges.Count && _ranges[i].Start <= end)
            {
                start = Math.Min(start, _ranges[i].Start);
                end = Math.Max(end, _ranges[i].End);
                _ranges.RemoveAt(i);
            }
            _ranges.Insert(i, (start, end));
        }

        public void MarkDone()
        {
            Done = true;
            Crypto = [];
            _ranges.Clear();
        }

        public void Dispose() => Protection.Dispose();
    }
}
