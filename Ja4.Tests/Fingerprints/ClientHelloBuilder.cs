using System.Buffers.Binary;
using System.Text;

namespace Ja4.Tests.Fingerprints;

/// <summary>Builds ClientHello handshake messages byte by byte, following RFC 8446 §4.1.2.</summary>
public sealed class ClientHelloBuilder
{
    public ushort LegacyVersion { get; set; } = 0x0303;
    public List<ushort> Ciphers { get; } = [];
    public List<(ushort Type, byte[] Data)> Extensions { get; } = [];

    public ClientHelloBuilder Extension(ushort type, byte[] data)
    {
        Extensions.Add((type, data));
        return this;
    }

    public ClientHelloBuilder ServerName(string host)
    {
        var name = Encoding.ASCII.GetBytes(host);
        var entry = Concat([0], U16((ushort)name.Length), name);
        return Extension(0x0000, Concat(U16((ushort)entry.Length), entry));
    }

    public ClientHelloBuilder Alpn(params byte[][] names)
    {
        var list = Concat(names.Select(n => Concat([(byte)n.Length], n)).ToArray());
        return Extension(0x0010, Concat(U16((ushort)list.Length), list));
    }

    public ClientHelloBuilder U16ListExtension(ushort type, IEnumerable<ushort> values, int prefixBytes = 2)
    {
        var body = Concat(values.Select(U16).ToArray());
        var prefix = prefixBytes == 1 ? [(byte)body.Length] : U16((ushort)body.Length);
        return Extension(type, Concat(prefix, body));
    }

    public ClientHelloBuilder PointFormats(params byte[] formats) => Extension(0x000b, Concat([(byte)formats.Length], formats));

    public byte[] Build()
    {
        var extBlock = Concat(Extensions.Select(e => Concat(U16(e.Type), U16((ushort)e.Data.Length), e.Data)).ToArray());
        var cipherBytes = Concat(Ciphers.Select(U16).ToArray());
        var body = Concat(
            U16(LegacyVersion),
            new byte[32],                  // random
            [32], new byte[32],            // legacy_session_id
            U16((ushort)cipherBytes.Length), cipherBytes,
            [1, 0],                        // legacy_compression_methods: null
            U16((ushort)extBlock.Length), extBlock);
        return Concat([1, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length], body);
    }

    public static byte[] U16(ushort v)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, v);
        return b;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
