using System.Net;
using System.Text;
using Ja4.Modules.Core.Events;
using Ja4.Modules.HttpIngest;

namespace Ja4.Tests.HttpIngest;

public sealed class ReqinRecordParserTests
{
    /// <summary>A record as mod_reqin_log writes it (every field).</summary>
    internal const string Full = """
        {"v":1,"time_us":1700000000123456,"client_ip":"192.0.2.10","client_port":51234,"server_ip":"198.51.100.5","server_port":443,"vhost":"www.example.test","method":"GET","path":"/a/b.html","query":"x=1&y=%22","protocol":"HTTP/2.0","host":"www.example.test","status":200,"bytes_sent":5120,"duration_us":734,"conn_id":17,"keepalive_index":3,"tls_protocol":"TLSv1.3","tls_cipher":"TLS_AES_128_GCM_SHA256","tls_sni":"www.example.test","headers":[["User-Agent","Mozilla/5.0 (X11; Linux x86_64)"],["Accept","text/html"],["Cookie","[redacted]"],["Host","www.example.test"]]}
        """;

    private static ReqinParseError Reject(string json)
    {
        var parser = new ReqinRecordParser();
        Assert.False(parser.TryParse(Encoding.UTF8.GetBytes(json), out var request, out var error), "accepted: " + json);
        Assert.Null(request);
        return error;
    }

    private static HttpRequest Accept(string json)
    {
        var parser = new ReqinRecordParser();
        Assert.True(parser.TryParse(Encoding.UTF8.GetBytes(json), out var request, out var error), error.ToString());
        return request;
    }

    [Fact]
    public void Parses_every_field()
    {
        var r = Accept(Full);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000123).AddTicks(4560), r.Timestamp);
        Assert.Equal(FlowKey.Create(IPAddress.Parse("192.0.2.10"), 51234, IPAddress.Parse("198.51.100.5"), 443), r.Flow);
        Assert.Equal("www.example.test", r.VirtualHost);
        Assert.Equal("GET", r.Method);
        Assert.Equal("/a/b.html", r.Path);
        Assert.Equal("x=1&y=%22", r.Query);
        Assert.Equal("HTTP/2.0", r.Protocol);
        Assert.Equal("www.example.test", r.Host);
        Assert.Equal(200, r.Status);
        Assert.Equal(5120, r.BytesSent);
        Assert.Equal(734, r.DurationMicros);
        Assert.Equal(17, r.ConnectionId);
        Assert.Equal(3, r.KeepAliveIndex);
        Assert.Equal("TLSv1.3", r.TlsProtocol);
        Assert.Equal("TLS_AES_128_GCM_SHA256", r.TlsCipher);
        Assert.Equal("www.example.test", r.TlsSni);
        Assert.False(r.Truncated);
        Assert.Equal(["User-Agent", "Accept", "Cookie", "Host"], r.Headers.Select(h => h.Key));
        Assert.Equal("Mozilla/5.0 (X11; Linux x86_64)", r.UserAgent);
        Assert.Equal("GET|2|4|c----|UA,AC,CK,HO", r.HeaderSignatureRaw);
        Assert.Equal(HttpHeaderSignature.Hash(r.HeaderSignatureRaw!), r.HeaderSignature);
    }

    [Fact]
    public void Optional_fields_may_be_absent_or_null_and_unknown_fields_are_skipped()
    {
        var r = Accept("""
            {"time_us":1,"client_ip":"::ffff:10.0.0.1","client_port":0,"server_ip":"2001:db8::1","server_port":80,
             "method":"","path":"","protocol":"","status":400,"headers":[],"query":null,"tls_sni":null,
             "future":{"nested":[1,2,{"x":null}]},"another":"x","truncated":true}
            """);
        Assert.Null(r.Query);
        Assert.Null(r.Host);
        Assert.Null(r.VirtualHost);
        Assert.Null(r.TlsProtocol);
        Assert.Null(r.TlsSni);
        Assert.Empty(r.Headers);
        Assert.True(r.Truncated);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), r.Flow.ClientIp);   // IPv4-mapped normalised
        Assert.Equal(IPAddress.Parse("2001:db8::1"), r.Flow.ServerIp);
        Assert.Equal("-|?|0|-----|", r.HeaderSignatureRaw);
    }

    [Fact]
    public void Json_escapes_are_decoded()
    {
        var r = Accept("""
            {"time_us":1,"client_ip":"127.0.0.1","client_port":1,"server_ip":"127.0.0.1","server_port":2,"method":"GET",
             "path":"/a\"b\\c\u0001\u00ff\u00e9\ud83d\ude00","protocol":"HTTP/1.1","status":200,
             "headers":[["X-\u0041","v\tw\nx"],["\u0048ost","h"]]}
            """);
        Assert.Equal("/a\"b\\c\u0001\u00ffé😀", r.Path);
        Assert.Equal([new("X-A", "v\tw\nx"), new("Host", "h")], r.Headers);
    }

    [Theory]
    [InlineData("time_us")]
    [InlineData("client_ip")]
    [InlineData("client_port")]
    [InlineData("server_ip")]
    [InlineData("server_port")]
    [InlineData("method")]
    [InlineData("path")]
    [InlineData("protocol")]
    [InlineData("status")]
    [InlineData("headers")]
    public void A_missing_required_field_is_named(string field)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(Full)!.AsObject();
        json.Remove(field);
        var e = Reject(json.ToJsonString());
        Assert.Equal(ReqinInvalidReason.MissingField, e.Reason);
        Assert.Equal(field, e.Detail);
    }

    [Theory]
    [InlineData("\"time_us\":1700000000123456", "\"time_us\":\"1700000000123456\"", "time_us")]
    [InlineData("\"time_us\":1700000000123456", "\"time_us\":-5", "time_us")]
    [InlineData("\"time_us\":1700000000123456", "\"time_us\":1.5", "time_us")]
    [InlineData("\"time_us\":1700000000123456", "\"time_us\":99999999999999999999", "time_us")]
    [InlineData("\"client_ip\":\"192.0.2.10\"", "\"client_ip\":\"not-an-ip\"", "client_ip")]
    [InlineData("\"client_ip\":\"192.0.2.10\"", "\"client_ip\":3221225994", "client_ip")]
    [InlineData("\"client_port\":51234", "\"client_port\":65536", "client_port")]
    [InlineData("\"server_port\":443", "\"server_port\":-1", "server_port")]
    [InlineData("\"status\":200", "\"status\":1000", "status")]
    [InlineData("\"status\":200", "\"status\":null", "status")]
    [InlineData("\"method\":\"GET\"", "\"method\":7", "method")]
    [InlineData("\"method\":\"GET\"", "\"method\":null", "method")]
    [InlineData("\"bytes_sent\":5120", "\"bytes_sent\":-1", "bytes_sent")]
    [InlineData("\"keepalive_index\":3", "\"keepalive_index\":3000000000", "keepalive_index")]
    [InlineData("\"query\":\"x=1&y=%22\"", "\"query\":[]", "query")]
    [InlineData("\"tls_sni\":\"www.example.test\"", "\"tls_sni\":{}", "tls_sni")]
    [InlineData("[\"Accept\",\"text/html\"]", "[\"Accept\"]", "headers")]
    [InlineData("[\"Accept\",\"text/html\"]", "[\"Accept\",\"text/html\",\"x\"]", "headers")]
    [InlineData("[\"Accept\",\"text/html\"]", "[\"Accept\",1]", "headers")]
    [InlineData("[\"Accept\",\"text/html\"]", "{\"Accept\":\"text/html\"}", "headers")]
    public void A_field_of_the_wrong_type_or_range_is_named(string from, string to, string field)
    {
        Assert.Contains(from, Full, StringComparison.Ordinal);
        var e = Reject(Full.Replace(from, to, StringComparison.Ordinal));
        Assert.Equal(ReqinInvalidReason.BadField, e.Reason);
        Assert.Equal(field, e.Detail);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("{")]
    [InlineData("{\"v\":1,")]
    [InlineData("{\"a\":1}{\"b\":2}")]
    [InlineData("{\"a\":1} x")]
    [InlineData("{'a':1}")]
    [InlineData("{\"a\":tru}")]
    [InlineData("{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]}")]
    public void Malformed_json_is_rejected_as_json(string json) =>
        Assert.Equal(ReqinInvalidReason.Json, Reject(json).Reason);

    [Fact]
    public void Another_record_version_is_rejected()
    {
        Assert.Equal(ReqinInvalidReason.UnsupportedVersion, Reject(Full.Replace("\"v\":1", "\"v\":2", StringComparison.Ordinal)).Reason);
        Assert.Equal(ReqinInvalidReason.UnsupportedVersion, Reject(Full.Replace("\"v\":1", "\"v\":\"1\"", StringComparison.Ordinal)).Reason);
    }

    [Fact]
    public void Invalid_utf8_inside_a_string_is_rejected()
    {
        var bytes = Encoding.UTF8.GetBytes(Full);
        var i = Encoding.UTF8.GetBytes(Full).AsSpan().IndexOf("Linux"u8);
        bytes[i] = 0xFF;
        var parser = new ReqinRecordParser();
        Assert.False(parser.TryParse(bytes, out _, out var e));
        Assert.Equal(ReqinInvalidReason.Json, e.Reason);

        var escaped = Encoding.UTF8.GetBytes(Full.Replace("Linux", "Lin\\ud800ux", StringComparison.Ordinal));   // lone surrogate
        Assert.False(parser.TryParse(escaped, out _, out e));
        Assert.Equal(ReqinInvalidReason.Json, e.Reason);
    }

    [Fact]
    public void Random_and_truncated_bytes_never_throw_and_never_hang()
    {
        var parser = new ReqinRecordParser();
        var random = new Random(42);
        var full = Encoding.UTF8.GetBytes(Full);
        for (var i = 0; i < full.Length; i++)
        {
            Assert.False(parser.TryParse(full.AsSpan(0, i), out _, out _));
        }
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            parser.TryParse(bytes, out _, out _);
            // Mutations of a valid record: one byte changed.
            var m = (byte[])full.Clone();
            m[random.Next(m.Length)] = (byte)random.Next(256);
            if (parser.TryParse(m, out var r, out _))
            {
                Assert.NotNull(r.Method);
            }
        }
    }

    [Fact]
    public void The_parser_is_reusable_and_shares_recurring_strings()
    {
        var parser = new ReqinRecordParser();
        var bytes = Encoding.UTF8.GetBytes(Full);
        Assert.True(parser.TryParse(bytes, out var a, out _));
        Assert.False(parser.TryParse("{"u8, out _, out _));
        Assert.True(parser.TryParse(bytes, out var b, out _));
        Assert.Equal(a.Headers, b.Headers);
        Assert.Same(a.Headers[0].Key, b.Headers[0].Key);
        Assert.Same(a.Method, b.Method);
        Assert.NotSame(a.Headers, b.Headers);
    }

    [Fact]
    public void Signature_can_be_switched_off()
    {
        var parser = new ReqinRecordParser(computeHeaderSignature: false);
        Assert.True(parser.TryParse(Encoding.UTF8.GetBytes(Full), out var r, out _));
        Assert.Null(r.HeaderSignature);
        Assert.Null(r.HeaderSignatureRaw);
    }

    [Fact]
    public void Round_trips_through_the_writer()
    {
        var r = Accept(Full);
        var again = Accept(ReqinRecordWriter.ToJson(r));
        Assert.Equal(ReqinRecordWriter.ToJson(r), ReqinRecordWriter.ToJson(again));
        Assert.Equal(r.Headers, again.Headers);
    }
}
