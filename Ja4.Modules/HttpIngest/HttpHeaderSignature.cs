using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Ja4.Modules.HttpIngest;

/// <summary>
/// ja4's own HTTP request signature ("hsig1"), from the order and presence of request headers:
/// clients built on the same HTTP stack send the same headers in the same order, whatever the
/// URL and whatever the values. It is not FoxIO's JA4H and shares no code or layout with it.
/// <para>
/// Raw form: <c>METHOD|VERSION|COUNT|FLAGS|ORDER</c>
/// <list type="bullet">
/// <item>METHOD: the method, ASCII upper case, at most 16 characters (<c>-</c> when empty);</item>
/// <item>VERSION: <c>0.9</c>, <c>1.0</c>, <c>1.1</c>, <c>2</c> or <c>3</c> from the protocol (<c>?</c> otherwise);</item>
/// <item>COUNT: the number of request headers, in decimal;</item>
/// <item>FLAGS: five characters, each a letter or <c>-</c>: <c>c</c> Cookie present, <c>r</c> Referer,
/// <c>l</c> Accept-Language, <c>a</c> Authorization, then the name case of HTTP/1.x headers:
/// <c>t</c> all Title-Case, <c>l</c> all lower case, <c>m</c> mixed, <c>-</c> for HTTP/2 and later or no headers;</item>
/// <item>ORDER: the header names in arrival order, separated by <c>,</c>: well-known names as their
/// two-letter upper-case code (<see cref="Codes"/>), other names in ASCII lower case.</item>
/// </list>
/// Signature: the first 16 hex digits (lower case) of SHA-256 over the UTF-8 raw form.
/// Worked examples: docs/apache-module.md.
/// </para>
/// </summary>
public static class HttpHeaderSignature
{
    /// <summary>Longest method kept in the raw form.</summary>
    public const int MaxMethodLength = 16;

    /// <summary>Hex digits of the signature (64 bits of SHA-256).</summary>
    public const int HashHexLength = 16;

    /// <summary>Two-letter codes of well-known request header names (lower-case name → code).</summary>
    public static readonly IReadOnlyDictionary<string, string> Codes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["accept"] = "AC",
        ["accept-charset"] = "AH",
        ["accept-encoding"] = "AE",
        ["accept-language"] = "AL",
        ["authorization"] = "AU",
        ["cache-control"] = "CC",
        ["connection"] = "CN",
        ["content-length"] = "CL",
        ["content-type"] = "CT",
        ["cookie"] = "CK",
        ["dnt"] = "DN",
        ["host"] = "HO",
        ["if-modified-since"] = "IM",
        ["if-none-match"] = "IN",
        ["keep-alive"] = "KA",
        ["origin"] = "OR",
        ["pragma"] = "PR",
        ["priority"] = "PI",
        ["range"] = "RA",
        ["referer"] = "RE",
        ["sec-ch-ua"] = "SU",
        ["sec-ch-ua-mobile"] = "SM",
        ["sec-ch-ua-platform"] = "SP",
        ["sec-fetch-dest"] = "FD",
        ["sec-fetch-mode"] = "FM",
        ["sec-fetch-site"] = "FS",
        ["sec-fetch-user"] = "FU",
        ["te"] = "TE",
        ["upgrade"] = "UP",
        ["upgrade-insecure-requests"] = "UI",
        ["user-agent"] = "UA",
        ["x-forwarded-for"] = "XF",
        ["x-requested-with"] = "XR",
    };

    private static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> CodeLookup =
        ((Dictionary<string, string>)Codes).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Signature and raw form of one request.</summary>
    public static (string Signature, string Raw) Compute(string method, string protocol,
        IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var raw = ComputeRaw(method, protocol, headers);
        return (Hash(raw), raw);
    }

    /// <summary>The first <see cref="HashHexLength"/> hex digits of SHA-256(UTF-8 raw).</summary>
    public static string Hash(string raw)
    {
        var max = Encoding.UTF8.GetMaxByteCount(raw.Length);
        byte[]? rented = null;
        var bytes = max <= 1024 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var n = Encoding.UTF8.GetBytes(raw, bytes);
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes[..n], digest);
            return Convert.ToHexStringLower(digest[..(HashHexLength / 2)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The readable form <c>METHOD|VERSION|COUNT|FLAGS|ORDER</c>.</summary>
    public static string ComputeRaw(string method, string protocol, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        // First pass: codes, flags, name case and the exact length; then one allocation.
        var count = headers.Count;
        var codes = ArrayPool<string?>.Shared.Rent(Math.Max(count, 1));
        try
        {
            bool cookie = false, referer = false, language = false, authorization = false;
            bool allTitle = true, allLower = true;
            var methodLength = Math.Min(method.Length, MaxMethodLength);
            var version = Version(protocol);
            var length = Math.Max(methodLength, 1) + 1 + version.Length + 1 + CountDigits(count) + 1 + 5 + 1 + Math.Max(count - 1, 0);
            for (var i = 0; i < count; i++)
            {
                var name = headers[i].Key;
                var (title, lower) = NameCase(name);
                allTitle &= title;
                allLower &= lower;
                var code = CodeLookup.TryGetValue(name.AsSpan(), out var c) ? c : null;
                codes[i] = code;
                length += code?.Length ?? name.Length;
                switch (code)
                {
                    case "CK": cookie = true; break;
                    case "RE": referer = true; break;
                    case "AL": language = true; break;
                    case "AU": authorization = true; break;
                }
            }
            var caseFlag = count == 0 || version is not ("0.9" or "1.0" or "1.1") ? '-' : allLower ? 'l' : allTitle ? 't' : 'm';
            var state = new RawState(method, methodLength, version, headers, codes,
                [cookie ? 'c' : '-', referer ? 'r' : '-', language ? 'l' : '-', authorization ? 'a' : '-', caseFlag]);
            return string.Create(length, state, static (span, st) =>
            {
                var p = 0;
                if (st.MethodLength == 0)
                {
                    span[p++] = '-';
                }
                foreach (var ch in st.Method.AsSpan(0, st.MethodLength))
                {
                    span[p++] = char.IsAsciiLetterLower(ch) ? (char)(ch & ~0x20) : ch;
                }
                span[p++] = '|';
                st.Version.CopyTo(span[p..]);
                p += st.Version.Length;
                span[p++] = '|';
                st.Headers.Count.TryFormat(span[p..], out var digits, provider: System.Globalization.CultureInfo.InvariantCulture);
                p += digits;
                span[p++] = '|';
                st.Flags.CopyTo(span[p..]);
                p += 5;
                span[p++] = '|';
                for (var i = 0; i < st.Headers.Count; i++)
                {
                    if (i > 0)
                    {
                        span[p++] = ',';
                    }
                    if (st.Codes[i] is { } code)
                    {
                        code.CopyTo(span[p..]);
                        p += code.Length;
                        continue;
                    }
                    foreach (var ch in st.Headers[i].Key)
                    {
                        span[p++] = char.IsAsciiLetterUpper(ch) ? (char)(ch | 0x20) : ch;
                    }
                }
            });
        }
        finally
        {
            ArrayPool<string?>.Shared.Return(codes, clearArray: true);
        }
    }

    private sealed record RawState(string Method, int MethodLength, string Version,
        IReadOnlyList<KeyValuePair<string, string>> Headers, string?[] Codes, char[] Flags);

    private static int CountDigits(int n) => n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;

    /// <summary>"HTTP/1.1" → "1.1", "HTTP/2.0" → "2", "HTTP/3" → "3".</summary>
    internal static string Version(string protocol) => protocol switch
    {
        "HTTP/1.1" => "1.1",
        "HTTP/2.0" or "HTTP/2" => "2",
        "HTTP/1.0" => "1.0",
        "HTTP/3" or "HTTP/3.0" => "3",
        "HTTP/0.9" => "0.9",
        _ => "?",
    };

    /// <summary>
    /// Title-Case: every letter that starts a '-'-separated word is upper case and every other
    /// letter lower case ("User-Agent"). Lower: no upper-case letter ("user-agent").
    /// A name without letters is both.
    /// </summary>
    internal static (bool Title, bool Lower) NameCase(string name)
    {
        bool title = true, lower = true, wordStart = true;
        foreach (var ch in name)
        {
            if (ch == '-')
            {
                wordStart = true;
                continue;
            }
            if (char.IsAsciiLetter(ch))
            {
                var upper = char.IsAsciiLetterUpper(ch);
                lower &= !upper;
                title &= wordStart == upper;
            }
            wordStart = false;
        }
        return (title, lower);
    }
}
