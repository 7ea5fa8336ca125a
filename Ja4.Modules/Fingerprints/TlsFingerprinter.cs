using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Fingerprints;

/// <summary>Every fingerprint of one ClientHello, with the facts shown beside them.</summary>
public sealed record HelloFingerprints(
    string Ja4,
    string Ja4R,
    string Ja4O,
    string Ja4Ro,
    string Ja3,
    string Ja3Full,
    string TlsVersion,
    string? Sni,
    IReadOnlyList<string> Alpn,
    ushort LegacyVersion);

/// <summary>
/// JA4 (FoxIO, BSD-3-Clause, <c>technical_details/JA4.md</c>) and JA3 (Salesforce) over a parsed
/// ClientHello. Pure functions: no I/O, no state.
/// </summary>
public static class TlsFingerprinter
{
    /// <summary>JA4 hash parts are "the first 12 characters of the sha256 hash"; empty lists hash to zeros.</summary>
    private const string EmptyHash = "000000000000";

    public static HelloFingerprints Compute(ClientHello hello, Transport transport)
    {
        var ja4 = Ja4Parts(hello, transport);
        var (ja3, ja3Full) = Ja3(hello);
        return new HelloFingerprints(
            Ja4: $"{ja4.A}_{Hash12(ja4.SortedCiphers)}_{TailHash(ja4, ja4.SortedTail)}",
            Ja4R: Raw(ja4.A, ja4.SortedCiphers, ja4.SortedTail),
            Ja4O: $"{ja4.A}_{Hash12(ja4.OriginalCiphers)}_{TailHash(ja4, ja4.OriginalTail)}",
            Ja4Ro: Raw(ja4.A, ja4.OriginalCiphers, ja4.OriginalTail),
            Ja3: ja3,
            Ja3Full: ja3Full,
            TlsVersion: TlsConstants.VersionName(hello.MaxVersion),
            Sni: hello.Sni,
            Alpn: hello.AlpnNames(),
            LegacyVersion: hello.LegacyVersion);
    }

    /// <summary>
    /// "If there are no extensions ... 000000000000": the emptiness test is on the extension list
    /// without SNI and ALPN, for JA4_o too (a hello whose only extension is SNI hashes to zeros in
    /// both forms, as the reference implementations print it).
    /// </summary>
    private static string TailHash(Ja4Input ja4, string tail) => ja4.HasHashedExtensions ? Hash12(tail) : EmptyHash;

    private static string Raw(string a, string ciphers, string tail) => $"{a}_{ciphers}_{tail}";

    /// <summary>The readable inputs of JA4 and JA4_o.</summary>
    private readonly record struct Ja4Input(
        string A, string SortedCiphers, string SortedTail, string OriginalCiphers, string OriginalTail,
        bool HasHashedExtensions);

    private static Ja4Input Ja4Parts(ClientHello hello, Transport transport)
    {
        var ciphers = WithoutGrease(hello.CipherSuites);
        var extensions = WithoutGrease(hello.Extensions);
        var sigs = HexList(WithoutGrease(hello.SignatureAlgorithms));

        // JA4_a: protocol, version, SNI (d|i), cipher count, extension count, ALPN first/last char.
        var a = string.Concat(
            transport == Transport.Udp ? "q" : "t",
            TlsConstants.Ja4VersionCode(hello.MaxVersion),
            hello.HasServerName ? "d" : "i",
            TwoDigits(ciphers.Length),
            TwoDigits(extensions.Length),
            AlpnCode(hello.Alpn));

        // JA4_c: "The extension list is sorted ... SNI and ALPN are not included",
        // then "_" and the signature algorithms in their original order.
        var hashedExtensions = Array.FindAll(extensions, e => e != TlsConstants.ExtServerName && e != TlsConstants.ExtAlpn);
        Array.Sort(hashedExtensions);
        var sortedCiphers = (ushort[])ciphers.Clone();
        Array.Sort(sortedCiphers);
        return new Ja4Input(
            a,
            HexList(sortedCiphers),
            WithSignatures(HexList(hashedExtensions), sigs),
            HexList(ciphers),
            WithSignatures(HexList(extensions), sigs),
            hashedExtensions.Length > 0);
    }

    private static ushort[] WithoutGrease(ushort[] values) => Array.FindAll(values, v => !TlsConstants.IsGrease(v));

    /// <summary>Counts are two digits, capped at 99 (JA4 spec).</summary>
    private static string TwoDigits(int n) => Math.Min(n, 99).ToString("00", CultureInfo.InvariantCulture);

    /// <summary>"If there are no signature algorithms ... the string ends without an underscore."</summary>
    private static string WithSignatures(string extensions, string sigs) =>
        sigs.Length == 0 ? extensions : extensions + "_" + sigs;

    /// <summary>
    /// First and last character of the first ALPN value; "00" without ALPN. When the first or
    /// last byte is not alphanumeric, the first and last characters of its hex form (JA4 spec).
    /// </summary>
    internal static string AlpnCode(byte[][] alpn)
    {
        if (alpn.Length == 0 || alpn[0].Length == 0)
        {
            return "00";
        }
        var v = alpn[0];
        byte first = v[0], last = v[^1];
        if (IsAlphanumeric(first) && IsAlphanumeric(last))
        {
            return string.Concat((char)first, (char)last);
        }
        const string hex = "0123456789abcdef";
        return string.Concat(hex[first >> 4], hex[last & 0x0f]);
    }

    private static bool IsAlphanumeric(byte b) => b is (>= 0x30 and <= 0x39) or (>= 0x41 and <= 0x5a) or (>= 0x61 and <= 0x7a);

    /// <summary>"0a0a,1301,..." : four lowercase hex digits per value, comma-separated.</summary>
    private static string HexList(ushort[] values)
    {
        if (values.Length == 0)
        {
            return string.Empty;
        }
        return string.Create(values.Length * 5 - 1, values, static (span, vs) =>
        {
            const string hex = "0123456789abcdef";
            var j = 0;
            for (var i = 0; i < vs.Length; i++)
            {
                if (i > 0)
                {
                    span[j++] = ',';
                }
                var v = vs[i];
                span[j++] = hex[v >> 12];
                span[j++] = hex[(v >> 8) & 0xf];
                span[j++] = hex[(v >> 4) & 0xf];
                span[j++] = hex[v & 0xf];
            }
        });
    }

    private static string Hash12(string input)
    {
        // "000000000000" stands for an empty list (no ciphers, or no extensions).
        if (input.Length == 0)
        {
            return EmptyHash;
        }
        Span<byte> digest = stackalloc byte[32];
        var bytes = input.Length <= 4096 ? stackalloc byte[input.Length] : new byte[input.Length];
        Encoding.ASCII.GetBytes(input, bytes);
        SHA256.HashData(bytes, digest);
        return Convert.ToHexStringLower(digest[..6]);
    }

    /// <summary>
    /// JA3: "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats" in decimal,
    /// '-' within a field, GREASE removed (as tshark's tls.handshake.ja3_full), then MD5.
    /// </summary>
    public static (string Ja3, string Ja3Full) Ja3(ClientHello hello)
    {
        var full = string.Join(',',
            hello.LegacyVersion.ToString(CultureInfo.InvariantCulture),
            DecimalList(hello.CipherSuites),
            DecimalList(hello.Extensions),
            DecimalList(hello.SupportedGroups),
            string.Join('-', hello.EcPointFormats.Select(p => p.ToString(CultureInfo.InvariantCulture))));
        var md5 = MD5.HashData(Encoding.ASCII.GetBytes(full));
        return (Convert.ToHexStringLower(md5), full);
    }

    private static string DecimalList(ushort[] values) =>
        string.Join('-', values.Where(v => !TlsConstants.IsGrease(v)).Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
