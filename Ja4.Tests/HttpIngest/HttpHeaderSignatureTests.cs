using Ja4.Modules.HttpIngest;

namespace Ja4.Tests.HttpIngest;

/// <summary>The worked examples of docs/apache-module.md, and the rules behind them.</summary>
public sealed class HttpHeaderSignatureTests
{
    private static KeyValuePair<string, string>[] H(params string[] names) =>
        names.Select(n => new KeyValuePair<string, string>(n, "value of " + n)).ToArray();

    public static TheoryData<string, string, string[], string, string> DocumentedExamples => new()
    {
        // curl 7.88 over HTTP/1.1
        { "GET", "HTTP/1.1", ["Host", "User-Agent", "Accept"], "GET|1.1|3|----t|HO,UA,AC", "fbd7cc8111030947" },
        // a browser navigation over HTTP/2 (names as mod_http2 hands them over)
        { "GET", "HTTP/2.0",
          ["user-agent", "accept", "accept-language", "accept-encoding", "referer", "cookie", "upgrade-insecure-requests",
           "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "sec-fetch-user", "priority", "te", "host"],
          "GET|2|14|crl--|UA,AC,AL,AE,RE,CK,UI,FD,FM,FS,FU,PI,TE,HO", "9bd63e970821d9b2" },
        // a script's POST
        { "POST", "HTTP/1.1", ["Host", "User-Agent", "Accept-Encoding", "Accept", "Connection", "Content-Length", "Content-Type", "X-Api-Key"],
          "POST|1.1|8|----t|HO,UA,AE,AC,CN,CL,CT,x-api-key", "edb424bb33f9c096" },
        // a scanner writing names by hand
        { "head", "HTTP/1.0", ["host", "user-agent", "Accept"], "HEAD|1.0|3|----m|HO,UA,AC", "79147d35a6d05c66" },
    };

    [Theory]
    [MemberData(nameof(DocumentedExamples))]
    public void Documented_examples(string method, string protocol, string[] names, string raw, string hash)
    {
        var (signature, actualRaw) = HttpHeaderSignature.Compute(method, protocol, H(names));
        Assert.Equal(raw, actualRaw);
        Assert.Equal(hash, signature);
    }

    [Fact]
    public void Values_do_not_matter_names_and_order_do()
    {
        var a = HttpHeaderSignature.Compute("GET", "HTTP/1.1", [new("Host", "a"), new("User-Agent", "x")]);
        var b = HttpHeaderSignature.Compute("GET", "HTTP/1.1", [new("Host", "b.example"), new("User-Agent", "y/2.0")]);
        var swapped = HttpHeaderSignature.Compute("GET", "HTTP/1.1", [new("User-Agent", "x"), new("Host", "a")]);
        Assert.Equal(a, b);
        Assert.NotEqual(a.Signature, swapped.Signature);
    }

    [Theory]
    [InlineData("User-Agent", true, false)]
    [InlineData("X-Forwarded-For", true, false)]
    [InlineData("user-agent", false, true)]
    [InlineData("DNT", false, false)]
    [InlineData("User-agent", false, false)]
    [InlineData("x-1-Abc", false, false)]
    [InlineData("X-1-Abc", true, false)]
    [InlineData("123", true, true)]
    public void Name_case(string name, bool title, bool lower) =>
        Assert.Equal((title, lower), HttpHeaderSignature.NameCase(name));

    [Fact]
    public void Flags_record_cookie_referer_language_authorization_and_case()
    {
        Assert.Equal("GET|1.1|4|crlam|RE,CK,AL,AU",
            HttpHeaderSignature.ComputeRaw("GET", "HTTP/1.1", H("referer", "COOKIE", "Accept-Language", "authorization")));
        Assert.Equal("GET|1.1|2|----l|HO,x-custom", HttpHeaderSignature.ComputeRaw("GET", "HTTP/1.1", H("host", "x-custom")));
        Assert.Equal("GET|1.1|2|----m|HO,x-custom", HttpHeaderSignature.ComputeRaw("GET", "HTTP/1.1", H("Host", "x-custom")));
        Assert.Equal("GET|3|1|-----|HO", HttpHeaderSignature.ComputeRaw("GET", "HTTP/3", H("Host")));
        Assert.Equal("GET|1.1|0|-----|", HttpHeaderSignature.ComputeRaw("GET", "HTTP/1.1", []));
    }

    [Fact]
    public void Long_methods_are_cut_and_unknown_protocols_marked()
    {
        Assert.StartsWith("ABCDEFGHIJKLMNOP|?|", HttpHeaderSignature.ComputeRaw("abcdefghijklmnopqrstuvwxyz", "SPDY/3", []), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_code_is_two_upper_case_letters_and_unique()
    {
        Assert.All(HttpHeaderSignature.Codes.Values, c => Assert.Matches("^[A-Z]{2}$", c));
        Assert.Equal(HttpHeaderSignature.Codes.Count, HttpHeaderSignature.Codes.Values.Distinct().Count());
        Assert.All(HttpHeaderSignature.Codes.Keys, k => Assert.Equal(k.ToLowerInvariant(), k));
    }

    [Fact]
    public void The_hash_is_16_hex_digits_of_sha256()
    {
        var raw = "GET|1.1|3|----t|HO,UA,AC";
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw)))[..16];
        Assert.Equal(expected, HttpHeaderSignature.Hash(raw));
        var longRaw = "GET|1.1|500|----l|" + string.Join(',', Enumerable.Range(0, 500).Select(i => $"x-{i}"));
        Assert.Matches("^[0-9a-f]{16}$", HttpHeaderSignature.Hash(longRaw));
    }
}
