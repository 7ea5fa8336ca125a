using System.Buffers;
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
/// ClientHello. Pure functions: no I/O, no state beyond the optional <see cref="FingerprintCache"/>.
/// </summary>
/// <remarks>
/// The readable strings are written once into one pooled buffer and hashed from there (no
/// intermediate strings). With a cache, a raw string seen before is found by its characters,
/// so its hash is not computed again and the same string instances are shared by every hello
/// of that client stack.
/// </remarks>
public static class TlsFingerprinter
{
    /// <summary>JA4 hash parts are "the first 12 characters of the sha256 hash"; empty lists hash to zeros.</summary>
    private const string EmptyHash = "000000000000";

    /// <summary>Length of JA4_a: t13d1516h2.</summary>
    private const int PartALength = 10;

    private const string Hex = "0123456789abcdef";

    public static HelloFingerprints Compute(ClientHello hello, Transport transport) => Compute(hello, transport, null);

    public static HelloFingerprints Compute(ClientHello hello, Transport transport, FingerprintCache? cache)
    {
        var c = hello.CipherSuites;
        var e = hello.Extensions;
        var s = hello.SignatureAlgorithms;
        var values = ArrayPool<ushort>.Shared.Rent(2 * c.Length + 2 * e.Length + s.Length + 1);
        // Raw JA4 forms: part a, three lists of 4 hex digits plus separators; JA3: five decimal digits plus '-'.
        var rawLength = PartALength + 3 + 5 * (c.Length + e.Length + s.Length);
        var ja3Length = 10 + 6 * (c.Length + e.Length + hello.SupportedGroups.Length) + 4 * hello.EcPointFormats.Length;
        var chars = ArrayPool<char>.Shared.Rent(Math.Max(rawLength, ja3Length));
        try
        {
            var ciphers = WithoutGrease(c, values.AsSpan(0, c.Length));
            var sortedCiphers = values.AsSpan(c.Length, ciphers.Length);
            ciphers.CopyTo(sortedCiphers);
            sortedCiphers.Sort();
            var extensions = WithoutGrease(e, values.AsSpan(2 * c.Length, e.Length));
            // JA4_c: "The extension list is sorted ... SNI and ALPN are not included".
            var hashed = values.AsSpan(2 * c.Length + e.Length, e.Length);
            var hashedCount = 0;
            foreach (var x in extensions)
            {
                if (x != TlsConstants.ExtServerName && x != TlsConstants.ExtAlpn)
                {
                    hashed[hashedCount++] = x;
                }
            }
            hashed = hashed[..hashedCount];
            hashed.Sort();
            var sigs = WithoutGrease(s, values.AsSpan(2 * c.Length + 2 * e.Length, s.Length));
            var hasHashedExtensions = hashedCount > 0;

            Span<char> a = stackalloc char[PartALength];
            WritePartA(a, hello, transport, ciphers.Length, extensions.Length);

            var (ja4R, ja4) = Ja4Form(a, sortedCiphers, hashed, sigs, hasHashedExtensions, chars, cache?.Sorted);
            var (ja4Ro, ja4O) = Ja4Form(a, ciphers, extensions, sigs, hasHashedExtensions, chars, cache?.Original);
            var (ja3Full, ja3) = Ja3Form(hello, chars, cache?.Ja3);
            return new HelloFingerprints(
                Ja4: ja4,
                Ja4R: ja4R,
                Ja4O: ja4O,
                Ja4Ro: ja4Ro,
                Ja3: ja3,
                Ja3Full: ja3Full,
                TlsVersion: TlsConstants.VersionName(hello.MaxVersion),
                Sni: hello.Sni,
                Alpn: cache is null ? hello.AlpnNames() : cache.AlpnNames(hello.Alpn),
                LegacyVersion: hello.LegacyVersion);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
            ArrayPool<ushort>.Shared.Return(values);
        }
    }

    /// <summary>
    /// One raw JA4 form ("a_ciphers_extensions[_signatures]") and its hashed form
    /// ("a_hash12(ciphers)_hash12(extensions[_signatures])").
    /// </summary>
    /// <remarks>
    /// "If there are no extensions ... 000000000000": the emptiness test is on the extension list
    /// without SNI and ALPN, for JA4_o too (a hello whose only extension is SNI hashes to zeros in
    /// both forms, as the reference implementations print it).
    /// </remarks>
    private static (string Raw, string Hashed) Ja4Form(ReadOnlySpan<char> a, ReadOnlySpan<ushort> ciphers,
        ReadOnlySpan<ushort> extensions, ReadOnlySpan<ushort> sigs, bool hasHashedExtensions, char[] buffer,
        Dictionary<string, string>? cache)
    {
        var span = buffer.AsSpan();
        a.CopyTo(span);
        var n = a.Length;
        span[n++] = '_';
        var cipherStart = n;
        n += WriteHexList(ciphers, span[n..]);
        var cipherEnd = n;
        span[n++] = '_';
        var tailStart = n;
        n += WriteHexList(extensions, span[n..]);
        // "If there are no signature algorithms ... the string ends without an underscore."
        if (!sigs.IsEmpty)
        {
            span[n++] = '_';
            n += WriteHexList(sigs, span[n..]);
        }
        var raw = span[..n];
        if (cache is not null && cache.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(raw, out var rawString, out var hashed))
        {
            return (rawString, hashed);
        }
        Span<char> h = stackalloc char[PartALength + 2 + 2 * 12];
        a.CopyTo(h);
        h[PartALength] = '_';
        Hash12(raw[cipherStart..cipherEnd], h.Slice(PartALength + 1, 12));
        h[PartALength + 13] = '_';
        if (hasHashedExtensions)
        {
            Hash12(raw[tailStart..], h.Slice(PartALength + 14, 12));
        }
        else
        {
            EmptyHash.CopyTo(h[(PartALength + 14)..]);
        }
        rawString = new string(raw);
        hashed = new string(h);
        Remember(cache, rawString, hashed);
        return (rawString, hashed);
    }

    private static void WritePartA(Span<char> a, ClientHello hello, Transport transport, int cipherCount, int extensionCount)
    {
        // JA4_a: protocol, version, SNI (d|i), cipher count, extension count, ALPN first/last char.
        a[0] = transport == Transport.Udp ? 'q' : 't';
        var version = TlsConstants.Ja4VersionCode(hello.MaxVersion);
        a[1] = version[0];
        a[2] = version[1];
        a[3] = hello.HasServerName ? 'd' : 'i';
        TwoDigits(cipherCount, a[4..]);
        TwoDigits(extensionCount, a[6..]);
        AlpnCode(hello.Alpn, a[8..]);
    }

    private static ReadOnlySpan<ushort> WithoutGrease(ushort[] values, Span<ushort> into)
    {
        var n = 0;
        foreach (var v in values)
        {
            if (!TlsConstants.IsGrease(v))
            {
                into[n++] = v;
            }
        }
        return into[..n];
    }

    /// <summary>Counts are two digits, capped at 99 (JA4 spec).</summary>
    private static void TwoDigits(int n, Span<char> into)
    {
        n = Math.Min(n, 99);
        into[0] = (char)('0' + (n / 10));
        into[1] = (char)('0' + (n % 10));
    }

    /// <summary>
    /// First and last character of the first ALPN value; "00" without ALPN. When the first or
    /// last byte is not alphanumeric, the first and last characters of its hex form (JA4 spec).
    /// </summary>
    internal static string AlpnCode(byte[][] alpn)
    {
        Span<char> code = stackalloc char[2];
        AlpnCode(alpn, code);
        return new string(code);
    }

    private static void AlpnCode(byte[][] alpn, Span<char> into)
    {
        if (alpn.Length == 0 || alpn[0].Length == 0)
        {
            into[0] = '0';
            into[1] = '0';
            return;
        }
        var v = alpn[0];
        byte first = v[0], last = v[^1];
        if (IsAlphanumeric(first) && IsAlphanumeric(last))
        {
            into[0] = (char)first;
            into[1] = (char)last;
            return;
        }
        into[0] = Hex[first >> 4];
        into[1] = Hex[last & 0x0f];
    }

    private static bool IsAlphanumeric(byte b) => b is (>= 0x30 and <= 0x39) or (>= 0x41 and <= 0x5a) or (>= 0x61 and <= 0x7a);

    /// <summary>"0a0a,1301,..." : four lowercase hex digits per value, comma-separated; returns the length.</summary>
    private static int WriteHexList(ReadOnlySpan<ushort> values, Span<char> span)
    {
        var j = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                span[j++] = ',';
            }
            var v = values[i];
            span[j++] = Hex[v >> 12];
            span[j++] = Hex[(v >> 8) & 0xf];
            span[j++] = Hex[(v >> 4) & 0xf];
            span[j++] = Hex[v & 0xf];
        }
        return j;
    }

    /// <summary>The first 12 hex characters of SHA-256 over ASCII text; zeros for an empty list.</summary>
    private static void Hash12(ReadOnlySpan<char> input, Span<char> into)
    {
        if (input.IsEmpty)
        {
            EmptyHash.CopyTo(into);
            return;
        }
        Span<byte> digest = stackalloc byte[32];
        var bytes = input.Length <= 4096 ? stackalloc byte[input.Length] : new byte[input.Length];
        Encoding.ASCII.GetBytes(input, bytes);
        SHA256.HashData(bytes, digest);
        Convert.TryToHexStringLower(digest[..6], into, out _);
    }

    /// <summary>
    /// JA3: "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats" in decimal,
    /// '-' within a field, GREASE removed (as tshark's tls.handshake.ja3_full), then MD5.
    /// </summary>
    public static (string Ja3, string Ja3Full) Ja3(ClientHello hello)
    {
        var chars = ArrayPool<char>.Shared.Rent(10 + 6 * (hello.CipherSuites.Length + hello.Extensions.Length + hello.SupportedGroups.Length)
            + 4 * hello.EcPointFormats.Length);
        try
        {
            var (full, ja3) = Ja3Form(hello, chars, null);
            return (ja3, full);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private static (string Full, string Hashed) Ja3Form(ClientHello hello, char[] buffer, Dictionary<string, string>? cache)
    {
        var span = buffer.AsSpan();
        hello.LegacyVersion.TryFormat(span, out var n, default, CultureInfo.InvariantCulture);
        span[n++] = ',';
        n += WriteDecimalList(hello.CipherSuites, span[n..]);
        span[n++] = ',';
        n += WriteDecimalList(hello.Extensions, span[n..]);
        span[n++] = ',';
        n += WriteDecimalList(hello.SupportedGroups, span[n..]);
        span[n++] = ',';
        for (var i = 0; i < hello.EcPointFormats.Length; i++)
        {
            if (i > 0)
            {
                span[n++] = '-';
            }
            hello.EcPointFormats[i].TryFormat(span[n..], out var w, default, CultureInfo.InvariantCulture);
            n += w;
        }
        var full = span[..n];
        if (cache is not null && cache.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(full, out var fullString, out var hashed))
        {
            return (fullString, hashed);
        }
        var bytes = full.Length <= 4096 ? stackalloc byte[full.Length] : new byte[full.Length];
        Encoding.ASCII.GetBytes(full, bytes);
        Span<byte> md5 = stackalloc byte[16];
        MD5.HashData(bytes, md5);
        fullString = new string(full);
        hashed = Convert.ToHexStringLower(md5);
        Remember(cache, fullString, hashed);
        return (fullString, hashed);
    }

    /// <summary>Decimal values without GREASE, '-'-separated; returns the length.</summary>
    private static int WriteDecimalList(ushort[] values, Span<char> span)
    {
        var n = 0;
        foreach (var v in values)
        {
            if (TlsConstants.IsGrease(v))
            {
                continue;
            }
            if (n > 0)
            {
                span[n++] = '-';
            }
            v.TryFormat(span[n..], out var w, default, CultureInfo.InvariantCulture);
            n += w;
        }
        return n;
    }

    private static void Remember(Dictionary<string, string>? cache, string raw, string hashed)
    {
        if (cache is null)
        {
            return;
        }
        if (cache.Count >= FingerprintCache.MaxEntries)
        {
            cache.Clear();
        }
        cache[raw] = hashed;
    }
}
