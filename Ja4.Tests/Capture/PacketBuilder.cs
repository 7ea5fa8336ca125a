using System.Buffers.Binary;
using System.Net;

namespace Ja4.Tests.Capture;

/// <summary>Hand-built frames, byte by byte from the RFC layouts (checksums left zero: not verified).</summary>
internal static class PacketBuilder
{
    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] U16(int v) => [(byte)(v >> 8), (byte)v];

    public static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    /// <summary>RFC 9293 §3.1: 20-byte header (plus options), data offset in 32-bit words.</summary>
    public static byte[] Tcp(ushort srcPort, ushort dstPort, uint seq, byte flags, byte[]? payload = null, uint ack = 0, byte[]? options = null)
    {
        options ??= [];
        var headerLength = 20 + options.Length;
        return Concat(U16(srcPort), U16(dstPort), U32(seq), U32(ack),
            [(byte)((headerLength / 4) << 4), flags], U16(65535), U16(0), U16(0), options, payload ?? []);
    }

    /// <summary>RFC 768.</summary>
    public static byte[] Udp(ushort srcPort, ushort dstPort, byte[] payload) =>
        Concat(U16(srcPort), U16(dstPort), U16(8 + payload.Length), U16(0), payload);

    /// <summary>RFC 791: version 4, IHL from options, total length, flags/fragment offset.</summary>
    public static byte[] Ipv4(string src, string dst, byte protocol, byte[] payload, byte[]? options = null, ushort flagsAndOffset = 0x4000)
    {
        options ??= [];
        var headerLength = 20 + options.Length;
        return Concat([(byte)(0x40 | headerLength / 4), 0], U16(headerLength + payload.Length), U16(0x1234),
            U16(flagsAndOffset), [64, protocol], U16(0), IPAddress.Parse(src).GetAddressBytes(),
            IPAddress.Parse(dst).GetAddressBytes(), options, payload);
    }

    /// <summary>RFC 8200: fixed 40-byte header; <paramref name="extensions"/> already chained by the caller.</summary>
    public static byte[] Ipv6(string src, string dst, byte nextHeader, byte[] payload) =>
        Concat([0x60, 0, 0, 0], U16(payload.Length), [nextHeader, 64],
            IPAddress.Parse(src).GetAddressBytes(), IPAddress.Parse(dst).GetAddressBytes(), payload);

    /// <summary>An 8-byte IPv6 options header (hop-by-hop or destination options) with PadN.</summary>
    public static byte[] Ipv6OptionsHeader(byte next) => [next, 0, 1, 4, 0, 0, 0, 0];

    /// <summary>IPv6 fragment header: next, reserved, offset (13 bits) | M, identification.</summary>
    public static byte[] Ipv6FragmentHeader(byte next, int offsetUnits, bool more) =>
        Concat([next, 0], U16((offsetUnits << 3) | (more ? 1 : 0)), U32(0xCAFE));

    public static readonly byte[] MacA = [0x02, 0, 0, 0, 0, 0x0a];
    public static readonly byte[] MacB = [0x02, 0, 0, 0, 0, 0x0b];

    /// <summary>Ethernet II, with optional VLAN tags (TPID, TCI) before the EtherType.</summary>
    public static byte[] Ethernet(ushort etherType, byte[] payload, params (ushort Tpid, ushort Vid)[] tags) =>
        Concat(MacB, MacA, Concat(tags.Select(t => Concat(U16(t.Tpid), U16(t.Vid))).ToArray()), U16(etherType), payload);

    /// <summary>Linux cooked v1: packet type, ARPHRD_ETHER, address length, address (8), protocol.</summary>
    public static byte[] Sll(ushort protocol, byte[] payload) =>
        Concat(U16(0), U16(1), U16(6), MacA, [0, 0], U16(protocol), payload);

    /// <summary>Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address (8).</summary>
    public static byte[] Sll2(ushort protocol, byte[] payload) =>
        Concat(U16(protocol), U16(0), U32(2), U16(1), [0, 6], MacA, [0, 0], payload);

    /// <summary>BSD loopback: 4-byte address family in host order (little-endian writer) or big-endian.</summary>
    public static byte[] Null(uint family, byte[] payload, bool littleEndian)
    {
        var f = new byte[4];
        if (littleEndian)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(f, family);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(f, family);
        }
        return Concat(f, payload);
    }

    /// <summary>GRE (RFC 2784/2890): C, K, S flags add checksum, key and sequence words.</summary>
    public static byte[] Gre(ushort protocol, byte[] payload, bool checksum = false, uint? key = null, uint? sequence = null)
    {
        var flags = (checksum ? 0x8000 : 0) | (key is null ? 0 : 0x2000) | (sequence is null ? 0 : 0x1000);
        return Concat(U16(flags), U16(protocol), checksum ? [0, 0, 0, 0] : [], key is { } k ? U32(k) : [],
            sequence is { } s ? U32(s) : [], payload);
    }

    /// <summary>ERSPAN type II header (8 bytes): Ver=1, VLAN, COS/En/T, session id, index.</summary>
    public static byte[] Erspan2Header() => [0x10, 0x64, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x07];

    /// <summary>ERSPAN type III header (12 bytes), O flag in the last bit; with O, an 8-byte platform subheader follows.</summary>
    public static byte[] Erspan3Header(bool platformSubheader) =>
        Concat([0x20, 0x64, 0x00, 0x2a], U32(0x01020304), [0x00, 0x00, 0x00, (byte)(platformSubheader ? 0x01 : 0x00)],
            platformSubheader ? [0x08, 0, 0, 0, 0, 0, 0, 1] : []);

    /// <summary>VXLAN (RFC 7348): flags with I set, reserved, 24-bit VNI, reserved.</summary>
    public static byte[] Vxlan(byte[] innerEthernet) => Concat([0x08, 0, 0, 0, 0, 0x12, 0x34, 0], innerEthernet);

    /// <summary>Geneve (RFC 8926): version 0, option length in 4-byte words, protocol type, VNI, options.</summary>
    public static byte[] Geneve(ushort protocol, byte[] payload, byte[]? options = null)
    {
        options ??= [];
        return Concat([(byte)(options.Length / 4), 0], U16(protocol), [0, 0x12, 0x34, 0], options, payload);
    }

    /// <summary>Wraps a handshake message in TLS records of at most <paramref name="recordSize"/> bytes each.</summary>
    public static byte[] TlsRecords(byte[] handshake, int recordSize = 16384)
    {
        var records = new List<byte[]>();
        for (var i = 0; i < handshake.Length; i += recordSize)
        {
            var part = handshake.AsSpan(i, Math.Min(recordSize, handshake.Length - i)).ToArray();
            records.Add(Concat([22, 3, 1], U16(part.Length), part));
        }
        return Concat(records.ToArray());
    }
}
