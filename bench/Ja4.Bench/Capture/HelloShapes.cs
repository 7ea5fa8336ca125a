using System.Buffers.Binary;
using System.Text;

namespace Ja4.Bench.Capture;

/// <summary>
/// ClientHello messages of several realistic shapes, written byte by byte (RFC 8446 §4.1.2):
/// a Chrome-like TLS 1.3 hello with GREASE and an ML-KEM hybrid key share (larger than one
/// segment), a Firefox-like one, an OpenSSL/curl one, a TLS 1.2-only client and an old TLS 1.0 one.
/// </summary>
internal static class HelloShapes
{
    public const int Count = 5;

    public static byte[] Build(int shape, Random random, string sni) => shape switch
    {
        0 => Chrome(random, sni),
        1 => Firefox(random, sni),
        2 => OpenSsl(random, sni),
        3 => Tls12(random, sni),
        _ => Tls10(random, sni),
    };

    private static ushort Grease(Random r) => (ushort)(0x0a0a + 0x1010 * r.Next(16));

    private static byte[] Chrome(Random r, string sni)
    {
        var g = Grease(r);
        ushort[] ciphers = [g, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
        var ext = new List<(ushort, byte[])>
        {
            (Grease(r), []),
            (0x0000, ServerName(sni)),
            (0x0017, []),
            (0xff01, [0]),
            (0x000a, U16List([Grease(r), 0x11ec, 0x001d, 0x0017, 0x0018])),
            (0x000b, [1, 0]),
            (0x0023, []),
            (0x0010, Alpn("h2", "http/1.1")),
            (0x0005, [1, 0, 0, 0, 0]),
            (0x000d, U16List([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601])),
            (0x0012, []),
            // X25519MLKEM768 (1216 bytes) + X25519 (32): the hello no longer fits one segment.
            (0x0033, KeyShares(r, (Grease(r), 1), (0x11ec, 1216), (0x001d, 32))),
            (0x002d, [1, 1]),
            (0x002b, [6, (byte)(g >> 8), (byte)g, 3, 4, 3, 3]),
            (0x001b, [2, 0, 2]),
            (0x4469, Concat(U16(3), U16(2), Encoding.ASCII.GetBytes("h2"))),
            (0xfe0d, Random(r, 250)),
            (Grease(r), [0]),
        };
        // Chrome permutes its extensions.
        var shuffled = ext.OrderBy(_ => r.Next()).ToList();
        return Hello(r, 0x0303, ciphers, shuffled, sessionId: true);
    }

    private static byte[] Firefox(Random r, string sni)
    {
        ushort[] ciphers = [0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
        var ext = new List<(ushort, byte[])>
        {
            (0x0000, ServerName(sni)), (0x0017, []), (0xff01, [0]),
            (0x000a, U16List([0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101])), (0x000b, [1, 0]),
            (0x0023, []), (0x0010, Alpn("h2", "http/1.1")), (0x0005, [1, 0, 0, 0, 0]),
            (0x0022, U16List([0x0403, 0x0503, 0x0603, 0x0203])),
            (0x0033, KeyShares(r, (0x001d, 32), (0x0017, 65))),
            (0x002b, [4, 3, 4, 3, 3]),
            (0x000d, U16List([0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201])),
            (0x002d, [1, 1]), (0x001c, U16(0x4001)), (0x0015, new byte[r.Next(100, 300)]),
        };
        return Hello(r, 0x0303, ciphers, ext, sessionId: true);
    }

    private static byte[] OpenSsl(Random r, string sni)
    {
        ushort[] ciphers = [0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff];
        var ext = new List<(ushort, byte[])>
        {
            (0x0000, ServerName(sni)), (0x000b, [3, 0, 1, 2]),
            (0x000a, U16List([0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104])),
            (0x0023, []), (0x0010, Alpn("http/1.1")), (0x0016, []), (0x0017, []), (0x0031, []),
            (0x000d, U16List([0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602])),
            (0x002b, [4, 3, 4, 3, 3]), (0x002d, [1, 1]), (0x0033, KeyShares(r, (0x001d, 32))),
        };
        return Hello(r, 0x0303, ciphers, ext, sessionId: true);
    }

    private static byte[] Tls12(Random r, string sni)
    {
        ushort[] ciphers = [0xc02c, 0xc02b, 0xc030, 0xc02f, 0xc024, 0xc023, 0xc028, 0xc027, 0xc00a, 0xc009, 0xc014, 0xc013, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x000a];
        var ext = new List<(ushort, byte[])>
        {
            (0x0000, ServerName(sni)), (0x0005, [1, 0, 0, 0, 0]), (0x000a, U16List([0x001d, 0x0017, 0x0018])),
            (0x000b, [1, 0]), (0x000d, U16List([0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0202, 0x0601, 0x0603])),
            (0x0023, []), (0x0017, []), (0xff01, [0]),
        };
        return Hello(r, 0x0303, ciphers, ext, sessionId: false);
    }

    private static byte[] Tls10(Random r, string sni)
    {
        ushort[] ciphers = [0x0039, 0x0038, 0x0035, 0x0016, 0x0013, 0x000a, 0x0033, 0x0032, 0x002f, 0x0005, 0x0004, 0x00ff];
        var ext = new List<(ushort, byte[])> { (0x0000, ServerName(sni)) };
        return Hello(r, 0x0301, ciphers, ext, sessionId: false);
    }

    private static byte[] Hello(Random r, ushort version, ushort[] ciphers, List<(ushort Type, byte[] Data)> extensions, bool sessionId)
    {
        var ext = Concat(extensions.Select(e => Concat(U16(e.Type), U16(e.Data.Length), e.Data)).ToArray());
        var cipherBytes = Concat(ciphers.Select(U16).ToArray());
        var body = Concat(U16(version), Random(r, 32), sessionId ? Concat([32], Random(r, 32)) : [0],
            U16(cipherBytes.Length), cipherBytes, [1, 0], U16(ext.Length), ext);
        return Concat([1, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length], body);
    }

    private static byte[] ServerName(string host)
    {
        var name = Encoding.ASCII.GetBytes(host);
        var entry = Concat([0], U16(name.Length), name);
        return Concat(U16(entry.Length), entry);
    }

    private static byte[] Alpn(params string[] names)
    {
        var list = Concat(names.Select(n => Concat([(byte)n.Length], Encoding.ASCII.GetBytes(n))).ToArray());
        return Concat(U16(list.Length), list);
    }

    private static byte[] U16List(ushort[] values)
    {
        var body = Concat(values.Select(U16).ToArray());
        return Concat(U16(body.Length), body);
    }

    private static byte[] KeyShares(Random r, params (ushort Group, int Length)[] shares)
    {
        var list = Concat(shares.Select(s => Concat(U16(s.Group), U16(s.Length), Random(r, s.Length))).ToArray());
        return Concat(U16(list.Length), list);
    }

    private static byte[] Random(Random r, int n)
    {
        var b = new byte[n];
        r.NextBytes(b);
        return b;
    }

    internal static byte[] U16(ushort v) => [(byte)(v >> 8), (byte)v];
    internal static byte[] U16(int v) => [(byte)(v >> 8), (byte)v];

    internal static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        var o = 0;
        foreach (var p in parts)
        {
            p.CopyTo(result, o);
            o += p.Length;
        }
        return result;
    }

    internal static void WriteU32(Span<byte> b, uint v) => BinaryPrimitives.WriteUInt32BigEndian(b, v);
}
