using System.Runtime.CompilerServices;
using System.Buffers.Binary;

namespace Ja4.Modules.Capture.Decoding;

/// <summary>Link-layer header types (pcap <c>DLT_*</c> values as libpcap reports them).</summary>
public static class LinkTypes
{
    /// <summary>BSD loopback: 4-byte address family in the writer's byte order.</summary>
    public const int Null = 0;
    public const int Ethernet = 1;
    /// <summary>DLT_RAW on Linux and most systems.</summary>
    public const int Raw = 12;
    /// <summary>DLT_RAW on OpenBSD.</summary>
    public const int RawOpenBsd = 14;
    /// <summary>LINKTYPE_RAW as written in files (libpcap maps it to <see cref="Raw"/>).</summary>
    public const int LinktypeRaw = 101;
    /// <summary>OpenBSD loopback: 4-byte address family, big-endian.</summary>
    public const int Loop = 108;
    /// <summary>Linux cooked capture v1 (interface "any").</summary>
    public const int LinuxSll = 113;
    public const int Ipv4 = 228;
    public const int Ipv6 = 229;
    /// <summary>Linux cooked capture v2.</summary>
    public const int LinuxSll2 = 276;

    public static bool IsSupported(int linkType) => linkType is Null or Ethernet or Raw or RawOpenBsd or LinktypeRaw
        or Loop or LinuxSll or Ipv4 or Ipv6 or LinuxSll2;
}

/// <summary>Outcome of decoding one frame.</summary>
public enum DecodeStatus : byte
{
    /// <summary>A TCP or UDP packet; its fields are in the <see cref="PacketInfo"/>.</summary>
    Ok = 0,
    /// <summary>Not IP (ARP, LLDP, ...).</summary>
    NotIp,
    /// <summary>IP, but neither TCP nor UDP (ICMP, ESP, ...).</summary>
    OtherProtocol,
    /// <summary>An IP fragment: not reassembled, counted.</summary>
    Fragment,
    /// <summary>A header is cut short (snap length, corrupt frame).</summary>
    Truncated,
    /// <summary>A header field is invalid (IP version, header length...).</summary>
    Malformed,
    /// <summary>The link type is not one the decoder knows.</summary>
    UnsupportedLink,
}

/// <summary>The transport-layer facts of one decoded packet. Offsets index the original frame.</summary>
public struct PacketInfo
{
    public IpAddr Src;
    public IpAddr Dst;
    /// <summary>6 (TCP) or 17 (UDP).</summary>
    public byte Protocol;
    public ushort SrcPort;
    public ushort DstPort;
    public uint Seq;
    public uint Ack;
    public byte TcpFlags;
    public int PayloadOffset;
    public int PayloadLength;
    /// <summary>How many tunnel headers (GRE, ERSPAN, VXLAN, Geneve) were removed.</summary>
    public byte TunnelDepth;

    public readonly FlowId Flow => new(Src, SrcPort, Dst, DstPort);
}

/// <summary>TCP header flags (RFC 9293 §3.1).</summary>
public static class TcpFlags
{
    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Rst = 0x04;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;
}

/// <summary>
/// Decodes a captured frame down to TCP or UDP on spans, without allocating: link layers
/// (Ethernet, Linux SLL/SLL2, raw IP, BSD loopback), 802.1Q/802.1ad VLAN tags, IPv4 with options,
/// IPv6 with extension headers, and the tunnels GRE (RFC 2784/2890), ERSPAN I/II/III,
/// VXLAN (RFC 7348, UDP 4789) and Geneve (RFC 8926, UDP 6081).
/// </summary>
public static class PacketDecoder
{
    public const ushort EtherTypeIpv4 = 0x0800;
    public const ushort EtherTypeIpv6 = 0x86DD;
    public const ushort EtherTypeVlan = 0x8100;
    public const ushort EtherTypeQinQ = 0x88A8;
    public const ushort EtherTypeQinQLegacy = 0x9100;
    /// <summary>Transparent Ethernet bridging (GRE, Geneve payload type).</summary>
    public const ushort EtherTypeTeb = 0x6558;
    /// <summary>ERSPAN type I and II in GRE.</summary>
    public const ushort EtherTypeErspan2 = 0x88BE;
    /// <summary>ERSPAN type III in GRE.</summary>
    public const ushort EtherTypeErspan3 = 0x22EB;
    public const ushort VxlanPort = 4789;
    public const ushort GenevePort = 6081;
    public const byte ProtoTcp = 6;
    public const byte ProtoUdp = 17;
    public const byte ProtoGre = 47;

    private const int MaxTunnelDepth = 4;
    private const int MaxVlanTags = 4;

    /// <summary>Decodes <paramref name="frame"/> captured with link type <paramref name="linkType"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static DecodeStatus Decode(int linkType, ReadOnlySpan<byte> frame, ref PacketInfo info)
    {
        info.TunnelDepth = 0;
        switch (linkType)
        {
            case LinkTypes.Ethernet:
                return DecodeEthernet(frame, 0, ref info);
            case LinkTypes.Raw or LinkTypes.RawOpenBsd or LinkTypes.LinktypeRaw:
                return DecodeIp(frame, 0, ref info);
            case LinkTypes.Ipv4:
                return DecodeIp(frame, 0, ref info);
            case LinkTypes.Ipv6:
                return DecodeIp(frame, 0, ref info);
            case LinkTypes.Null or LinkTypes.Loop:
            {
                if (frame.Length < 4)
                {
                    return DecodeStatus.Truncated;
                }
                // The family is in the writer's byte order for DLT_NULL; IPv6 is 24, 28 or 30 (BSDs, macOS).
                var family = linkType == LinkTypes.Loop || frame[0] == 0
                    ? BinaryPrimitives.ReadUInt32BigEndian(frame)
                    : BinaryPrimitives.ReadUInt32LittleEndian(frame);
                return family switch
                {
                    2 or 24 or 28 or 30 => DecodeIp(frame, 4, ref info),
                    _ => DecodeStatus.NotIp,
                };
            }
            case LinkTypes.LinuxSll:
                // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
                if (frame.Length < 16)
                {
                    return DecodeStatus.Truncated;
                }
                return DecodeEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame[14..]), frame, 16, ref info);
            case LinkTypes.LinuxSll2:
                // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
                if (frame.Length < 20)
                {
                    return DecodeStatus.Truncated;
                }
                return DecodeEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame), frame, 20, ref info);
            default:
                return DecodeStatus.UnsupportedLink;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeEthernet(ReadOnlySpan<byte> frame, int offset, ref PacketInfo info)
    {
        if (frame.Length < offset + 14)
        {
            return DecodeStatus.Truncated;
        }
        return DecodeEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 12)..]), frame, offset + 14, ref info);
    }

    /// <summary>Dispatches on an EtherType, skipping any stack of VLAN tags first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeEtherType(ushort etherType, ReadOnlySpan<byte> frame, int offset, ref PacketInfo info)
    {
        for (var tags = 0; etherType is EtherTypeVlan or EtherTypeQinQ or EtherTypeQinQLegacy; tags++)
        {
            // TCI(2) then the inner EtherType(2).
            if (tags == MaxVlanTags)
            {
                return DecodeStatus.Malformed;
            }
            if (frame.Length < offset + 4)
            {
                return DecodeStatus.Truncated;
            }
            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 2)..]);
            offset += 4;
        }
        return etherType switch
        {
            EtherTypeIpv4 or EtherTypeIpv6 => DecodeIp(frame, offset, ref info),
            _ => DecodeStatus.NotIp,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeIp(ReadOnlySpan<byte> frame, int offset, ref PacketInfo info)
    {
        if (frame.Length <= offset)
        {
            return DecodeStatus.Truncated;
        }
        return (frame[offset] >> 4) switch
        {
            4 => DecodeIpv4(frame, offset, ref info),
            6 => DecodeIpv6(frame, offset, ref info),
            _ => DecodeStatus.Malformed,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeIpv4(ReadOnlySpan<byte> frame, int offset, ref PacketInfo info)
    {
        if (frame.Length < offset + 20)
        {
            return DecodeStatus.Truncated;
        }
        var ip = frame[offset..];
        var headerLength = (ip[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (headerLength < 20 || totalLength < headerLength)
        {
            return DecodeStatus.Malformed;
        }
        if (ip.Length < headerLength)
        {
            return DecodeStatus.Truncated;
        }
        // More-fragments flag or a non-zero offset: a fragment (RFC 791). Not reassembled.
        if ((BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF) != 0)
        {
            return DecodeStatus.Fragment;
        }
        info.Src = IpAddr.FromV4(ip[12..]);
        info.Dst = IpAddr.FromV4(ip[16..]);
        // Trailing Ethernet padding is not payload; a snap-length cut keeps what was captured.
        var end = offset + Math.Min(totalLength, ip.Length);
        return DecodeTransport(ip[9], frame, offset + headerLength, end, ref info);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeIpv6(ReadOnlySpan<byte> frame, int offset, ref PacketInfo info)
    {
        if (frame.Length < offset + 40)
        {
            return DecodeStatus.Truncated;
        }
        var ip = frame[offset..];
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        var next = ip[6];
        info.Src = IpAddr.FromV6(ip[8..]);
        info.Dst = IpAddr.FromV6(ip[24..]);
        // A zero payload length means a jumbogram (RFC 2675): take what was captured.
        var end = payloadLength == 0 ? frame.Length : Math.Min(frame.Length, offset + 40 + payloadLength);
        var pos = offset + 40;
        // Extension headers (RFC 8200 §4), each bounded by the captured bytes.
        for (var i = 0; i < 16; i++)
        {
            switch (next)
            {
                case 0 or 43 or 60 or 135 or 139 or 140:
                    // Hop-by-hop, routing, destination options, mobility, HIP, shim6: (len + 1) * 8.
                    if (end < pos + 8)
                    {
                        return DecodeStatus.Truncated;
                    }
                    next = frame[pos];
                    pos += (frame[pos + 1] + 1) * 8;
                    break;
                case 44:
                    // Fragment header: offset (13 bits) and M flag.
                    if (end < pos + 8)
                    {
                        return DecodeStatus.Truncated;
                    }
                    if ((BinaryPrimitives.ReadUInt16BigEndian(frame[(pos + 2)..]) & 0xFFF9) != 0)
                    {
                        return DecodeStatus.Fragment;
                    }
                    next = frame[pos];
                    pos += 8;
                    break;
                case 51:
                    // Authentication header (RFC 4302): (len + 2) * 4.
                    if (end < pos + 8)
                    {
                        return DecodeStatus.Truncated;
                    }
                    next = frame[pos];
                    pos += (frame[pos + 1] + 2) * 4;
                    break;
                default:
                    if (pos > end)
                    {
                        return DecodeStatus.Truncated;
                    }
                    return DecodeTransport(next, frame, pos, end, ref info);
            }
        }
        return DecodeStatus.Malformed;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeTransport(byte protocol, ReadOnlySpan<byte> frame, int offset, int end, ref PacketInfo info)
    {
        switch (protocol)
        {
            case ProtoTcp:
            {
                if (end < offset + 20)
                {
                    return DecodeStatus.Truncated;
                }
                var tcp = frame[offset..end];
                var dataOffset = (tcp[12] >> 4) * 4;
                if (dataOffset < 20)
                {
                    return DecodeStatus.Malformed;
                }
                if (tcp.Length < dataOffset)
                {
                    return DecodeStatus.Truncated;
                }
                info.Protocol = ProtoTcp;
                info.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(tcp);
                info.DstPort = BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
                info.Seq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
                info.Ack = BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]);
                info.TcpFlags = tcp[13];
                info.PayloadOffset = offset + dataOffset;
                info.PayloadLength = tcp.Length - dataOffset;
                return DecodeStatus.Ok;
            }
            case ProtoUdp:
            {
                if (end < offset + 8)
                {
                    return DecodeStatus.Truncated;
                }
                var udp = frame[offset..end];
                int length = BinaryPrimitives.ReadUInt16BigEndian(udp[4..]);
                if (length != 0 && length < 8)
                {
                    return DecodeStatus.Malformed;
                }
                var srcPort = BinaryPrimitives.ReadUInt16BigEndian(udp);
                var dstPort = BinaryPrimitives.ReadUInt16BigEndian(udp[2..]);
                var payloadEnd = length == 0 ? udp.Length : Math.Min(length, udp.Length);
                if (info.TunnelDepth < MaxTunnelDepth)
                {
                    if (dstPort == VxlanPort)
                    {
                        return DecodeVxlan(frame, offset + 8, offset + payloadEnd, ref info);
                    }
                    if (dstPort == GenevePort)
                    {
                        return DecodeGeneve(frame, offset + 8, offset + payloadEnd, ref info);
                    }
                }
                info.Protocol = ProtoUdp;
                info.SrcPort = srcPort;
                info.DstPort = dstPort;
                info.Seq = 0;
                info.Ack = 0;
                info.TcpFlags = 0;
                info.PayloadOffset = offset + 8;
                info.PayloadLength = payloadEnd - 8;
                return DecodeStatus.Ok;
            }
            case ProtoGre when info.TunnelDepth < MaxTunnelDepth:
                return DecodeGre(frame, offset, end, ref info);
            default:
                return DecodeStatus.OtherProtocol;
        }
    }

    /// <summary>GRE (RFC 2784, key and sequence from RFC 2890), carrying IP, Ethernet or ERSPAN.</summary>
    private static DecodeStatus DecodeGre(ReadOnlySpan<byte> frame, int offset, int end, ref PacketInfo info)
    {
        if (end < offset + 4)
        {
            return DecodeStatus.Truncated;
        }
        var flags = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        var protocol = BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 2)..]);
        if ((flags & 0x0007) != 0)
        {
            // Version 1 is PPTP's enhanced GRE: not decoded.
            return DecodeStatus.OtherProtocol;
        }
        var hasSequence = (flags & 0x1000) != 0;
        var pos = offset + 4;
        if ((flags & 0x8000) != 0)
        {
            pos += 4; // checksum + reserved1
        }
        if ((flags & 0x2000) != 0)
        {
            pos += 4; // key
        }
        if (hasSequence)
        {
            pos += 4; // sequence number
        }
        if (end < pos)
        {
            return DecodeStatus.Truncated;
        }
        info.TunnelDepth++;
        var inner = frame[..end];
        switch (protocol)
        {
            case EtherTypeIpv4 or EtherTypeIpv6:
                return DecodeIp(inner, pos, ref info);
            case EtherTypeTeb:
                return DecodeEthernet(inner, pos, ref info);
            case EtherTypeErspan2:
                // Type I has no sequence number and no ERSPAN header; type II has both
                // (8-byte header: version, VLAN, CoS, En, T, session, index).
                if (hasSequence)
                {
                    if (end < pos + 8)
                    {
                        return DecodeStatus.Truncated;
                    }
                    pos += 8;
                }
                return DecodeEthernet(inner, pos, ref info);
            case EtherTypeErspan3:
            {
                // 12-byte header; the O flag (last bit) announces an 8-byte platform-specific subheader.
                if (end < pos + 12)
                {
                    return DecodeStatus.Truncated;
                }
                var hasSubHeader = (frame[pos + 11] & 0x01) != 0;
                pos += hasSubHeader ? 20 : 12;
                return DecodeEthernet(inner, pos, ref info);
            }
            default:
                return DecodeStatus.NotIp;
        }
    }

    /// <summary>VXLAN (RFC 7348): 8-byte header, then an Ethernet frame.</summary>
    private static DecodeStatus DecodeVxlan(ReadOnlySpan<byte> frame, int offset, int end, ref PacketInfo info)
    {
        if (end < offset + 8)
        {
            return DecodeStatus.Truncated;
        }
        if ((frame[offset] & 0x08) == 0)
        {
            // The I flag must be set for a valid VNI.
            return DecodeStatus.Malformed;
        }
        info.TunnelDepth++;
        return DecodeEthernet(frame[..end], offset + 8, ref info);
    }

    /// <summary>Geneve (RFC 8926): 8-byte header plus options, then the protocol type's payload.</summary>
    private static DecodeStatus DecodeGeneve(ReadOnlySpan<byte> frame, int offset, int end, ref PacketInfo info)
    {
        if (end < offset + 8)
        {
            return DecodeStatus.Truncated;
        }
        if (frame[offset] >> 6 != 0)
        {
            return DecodeStatus.Malformed;
        }
        var optionsLength = (frame[offset] & 0x3F) * 4;
        var protocol = BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 2)..]);
        var pos = offset + 8 + optionsLength;
        if (end < pos)
        {
            return DecodeStatus.Truncated;
        }
        info.TunnelDepth++;
        var inner = frame[..end];
        return protocol switch
        {
            EtherTypeTeb => DecodeEthernet(inner, pos, ref info),
            EtherTypeIpv4 or EtherTypeIpv6 => DecodeIp(inner, pos, ref info),
            _ => DecodeStatus.NotIp,
        };
    }
}
