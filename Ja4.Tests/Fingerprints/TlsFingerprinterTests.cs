using System.Globalization;
using System.Text;
using System.Text.Json;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Fingerprints;
using Ja4.Tests.TestSupport;
using static Ja4.Tests.Fingerprints.ClientHelloBuilder;

namespace Ja4.Tests.Fingerprints;

/// <summary>
/// Rebuilds each reference hello of the FoxIO corpus from its published raw forms (JA4_ro gives
/// ciphers, extensions and signature algorithms in wire order; tshark's JA3 string gives the
/// groups and point formats), then checks every fingerprint against the reference values.
/// </summary>
public sealed class TlsFingerprinterTests
{
    public static TheoryData<string, int> ReferenceHellos()
    {
        var data = new TheoryData<string, int>();
        foreach (var pcap in Corpus.FoxioPcaps())
        {
            var expected = Corpus.Expected(pcap);
            for (var i = 0; i < expected.Count; i++)
            {
                if (expected[i].TryGetProperty("ja4_ro", out _) && Str(expected[i], "ja3_full") is not null)
                {
                    data.Add(pcap, i);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ReferenceHellos))]
    public void Rebuilt_reference_hello_gives_reference_fingerprints(string pcap, int index)
    {
        var e = Corpus.Expected(pcap)[index];
        var bytes = Rebuild(e, grease: false);
        Assert.True(ClientHelloParser.TryParse(bytes, out var hello, out var error), error.ToString());
        var fp = TlsFingerprinter.Compute(hello!, Str(e, "transport") == "udp" ? Transport.Udp : Transport.Tcp);

        AssertReference(e, fp);
    }

    /// <summary>Every fingerprint and the SNI equal the reference values of the corpus.</summary>
    internal static void AssertReference(JsonElement e, HelloFingerprints fp)
    {
        Assert.Equal(Str(e, "ja4"), fp.Ja4);
        Assert.Equal(Str(e, "ja4_r"), fp.Ja4R);
        Assert.Equal(Str(e, "ja4_o"), fp.Ja4O);
        Assert.Equal(Str(e, "ja4_ro"), fp.Ja4Ro);
        Assert.Equal(Str(e, "ja3_full"), fp.Ja3Full);
        Assert.Equal(Str(e, "ja3"), fp.Ja3);
        Assert.Equal(Str(e, "sni"), fp.Sni);
    }

    [Theory]
    [MemberData(nameof(ReferenceHellos))]
    public void Grease_values_are_ignored_everywhere(string pcap, int index)
    {
        var e = Corpus.Expected(pcap)[index];
        Assert.True(ClientHelloParser.TryParse(Rebuild(e, grease: true), out var hello, out _));
        var fp = TlsFingerprinter.Compute(hello!, Str(e, "transport") == "udp" ? Transport.Udp : Transport.Tcp);
        Assert.Equal(Str(e, "ja4"), fp.Ja4);
        Assert.Equal(Str(e, "ja4_ro"), fp.Ja4Ro);
        Assert.Equal(Str(e, "ja3"), fp.Ja3);
    }

    [Theory]
    // JA4 spec, "ALPN Extension Value": first and last characters; hex form when not alphanumeric.
    [InlineData(new byte[] { (byte)'h', (byte)'2' }, "h2")]
    [InlineData(new byte[] { (byte)'h', (byte)'t', (byte)'t', (byte)'p', (byte)'/', (byte)'1', (byte)'.', (byte)'1' }, "h1")]
    [InlineData(new byte[] { 0xba, 0xad }, "bd")]            // corpus README: tls-non-ascii-alpn
    [InlineData(new byte[] { (byte)'x' }, "xx")]             // one character is both first and last
    [InlineData(new byte[] { (byte)'a', 0x2e }, "6e")]        // last byte '.' is not alphanumeric: hex "612e"
    [InlineData(new byte[] { 0x01, (byte)'z' }, "0a")]        // hex "017a"
    public void Alpn_code_follows_the_spec(byte[] first, string code)
    {
        var b = new ClientHelloBuilder();
        b.Ciphers.Add(0x1301);
        b.Alpn(first, "h2"u8.ToArray());
        Assert.True(ClientHelloParser.TryParse(b.Build(), out var hello, out _));
        Assert.Equal("t12i0101" + code, TlsFingerprinter.Compute(hello!, Transport.Tcp).Ja4[..10]);
    }

    [Fact]
    public void Hello_without_alpn_sni_or_extensions_uses_zero_markers()
    {
        var b = new ClientHelloBuilder { LegacyVersion = 0x0301 };
        b.Ciphers.AddRange([0x0035, 0x002f]);
        Assert.True(ClientHelloParser.TryParse(b.Build(), out var hello, out _));
        var fp = TlsFingerprinter.Compute(hello!, Transport.Tcp);
        // a: t, TLS 1.0, no SNI (i), 2 ciphers, 0 extensions, no ALPN (00).
        // b: sha256("002f,0035")[..12]; c: no extensions -> twelve zeros (spec).
        Assert.Equal("t10i020000_" + Sha12("002f,0035") + "_000000000000", fp.Ja4);
        Assert.Equal("t10i020000_002f,0035_", fp.Ja4R);
        Assert.Equal("t10i020000_0035,002f_", fp.Ja4Ro);
        Assert.Equal("769,53-47,,,", fp.Ja3Full);
        Assert.Equal("1.0", fp.TlsVersion);
    }

    [Fact]
    public void Counts_are_capped_at_99_and_signature_algorithms_keep_wire_order()
    {
        var b = new ClientHelloBuilder();
        for (ushort c = 1; c <= 120; c++)
        {
            b.Ciphers.Add(c);
        }
        for (ushort x = 0x100; x < 0x100 + 105; x++)
        {
            b.Extension(x, []);
        }
        b.U16ListExtension(0x000d, [0x0601, 0x0403]);
        Assert.True(ClientHelloParser.TryParse(b.Build(), out var hello, out _));
        var fp = TlsFingerprinter.Compute(hello!, Transport.Tcp);
        Assert.StartsWith("t12i9999", fp.Ja4);
        Assert.EndsWith("_0601,0403", fp.Ja4R);
    }

    [Fact]
    public void Supported_versions_pick_the_highest_non_grease_value()
    {
        var b = new ClientHelloBuilder();
        b.Ciphers.Add(0x1301);
        b.U16ListExtension(0x002b, [0x7a7a, 0x0303, 0x0304], prefixBytes: 1);
        Assert.True(ClientHelloParser.TryParse(b.Build(), out var hello, out _));
        var fp = TlsFingerprinter.Compute(hello!, Transport.Udp);
        Assert.StartsWith("q13i0101", fp.Ja4);
        Assert.Equal("1.3", fp.TlsVersion);
    }

    private static string Sha12(string s) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(s)))[..12];

    internal static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Wire bytes of a hello whose JA4_ro and JA3 string are the given reference values.</summary>
    internal static byte[] Rebuild(JsonElement e, bool grease)
    {
        var ro = Str(e, "ja4_ro")!.Split('_');
        var ja3 = Str(e, "ja3_full")!.Split(',');
        var a = ro[0];
        var b = new ClientHelloBuilder { LegacyVersion = ushort.Parse(ja3[0], CultureInfo.InvariantCulture) };
        if (grease)
        {
            b.Ciphers.Add(0x2a2a);
        }
        b.Ciphers.AddRange(Hex(ro[1]));
        var sigs = ro.Length > 3 ? Hex(ro[3]) : [];
        var groups = Dec(ja3[3]);
        if (grease)
        {
            b.Extension(0xdada, []);
            groups = [0x4a4a, .. groups];
            sigs = sigs.Length > 0 ? [0xfafa, .. sigs] : sigs;
        }
        foreach (var ext in Hex(ro[2]))
        {
            switch (ext)
            {
                case 0x0000: b.ServerName(Str(e, "sni") ?? ""); break;
                case 0x0010: b.Alpn(Encoding.ASCII.GetBytes(a.Substring(8, 2))); break;
                case 0x002b:
                    ushort[] versions = a.Substring(1, 2) == "13" ? [0x0304, 0x0303] : [0x0303];
                    b.U16ListExtension(0x002b, grease ? [0x1a1a, .. versions] : versions, prefixBytes: 1);
                    break;
                case 0x000d: b.U16ListExtension(0x000d, sigs); break;
                case 0x000a: b.U16ListExtension(0x000a, groups); break;
                case 0x000b: b.PointFormats(ja3[4].Length == 0 ? [] : ja3[4].Split('-').Select(byte.Parse).ToArray()); break;
                default: b.Extension(ext, []); break;
            }
        }
        if (grease)
        {
            b.Extension(0x0a0a, [0]);
        }
        return b.Build();
    }

    private static ushort[] Hex(string list) =>
        list.Length == 0 ? [] : list.Split(',').Select(h => ushort.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();

    private static ushort[] Dec(string list) =>
        list.Length == 0 ? [] : list.Split('-').Select(d => ushort.Parse(d, CultureInfo.InvariantCulture)).ToArray();
}
