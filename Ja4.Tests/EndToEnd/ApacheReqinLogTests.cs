using System.Net;
using System.Text;
using Ja4.Modules.Core.Events;
using Ja4.Tests.HttpIngest;

namespace Ja4.Tests.EndToEnd;

/// <summary>Apache tests share the machine's two cores: never run them in parallel.</summary>
[CollectionDefinition("Apache", DisableParallelization = true)]
public sealed class ApacheCollection;

/// <summary>
/// One private Apache (event MPM, mod_ssl, mod_http2, the real mod_reqin_log) writing to the
/// real HttpIngest listener. Virtual hosts: the HTTP and HTTPS ones with the defaults, and
/// <see cref="RawPort"/> (no redaction, 256 KiB records, <c>HttpProtocolOptions Unsafe</c> so
/// that control characters reach the module) and <see cref="SmallPort"/> (4 KiB records, no
/// query string).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ApacheIngestFixture : IAsyncLifetime
{
    internal ApacheFixture Apache { get; private set; } = null!;
    internal IngestHarness Ingest { get; private set; } = null!;

    public int RawPort => Apache.ExtraPorts[0];
    public int SmallPort => Apache.ExtraPorts[1];

    private string _root = "";

    public async Task InitializeAsync()
    {
        _root = Directory.CreateTempSubdirectory("ja4-ingest-").FullName;
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
        var socket = Path.Combine(_root, "run", "reqin.sock");
        Ingest = await IngestHarness.StartAsync(socket);
        Apache = await ApacheFixture.StartAsync(new ApacheOptions
        {
            SocketPath = socket,
            ServerDirectives = "LimitRequestFieldSize 70000\nLimitRequestFields 200\n",
            ExtraVirtualHosts =
            [
                "ReqinLogRedactHeaders None\n    ReqinLogMaxRecordBytes 262144\n    HttpProtocolOptions Unsafe",
                "ReqinLogMaxRecordBytes 4096\n    ReqinLogQueryString Off",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        await Apache.DisposeAsync();
        await Ingest.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}

[Collection("Apache")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ApacheReqinLogTests(ApacheIngestFixture f) : IClassFixture<ApacheIngestFixture>
{
    private static string Id() => Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Http11_keep_alive_every_request_arrives_with_the_right_values()
    {
        var id = Id();
        await using var conn = await RawHttpConnection.OpenAsync(f.Apache.HttpPort);
        var sent = new List<(string Path, string Query, string[] Headers, RawHttpResponse Response)>();
        for (var i = 0; i < 5; i++)
        {
            string[] headers =
            [
                $"Host: localhost:{f.Apache.HttpPort}",
                "User-Agent: ja4-test/1.0",
                "Accept: text/html",
                $"X-Test-Id: {id}-{i}",
                "Cookie: session=secret-value",
                "Authorization: Basic dXNlcjpwYXNz",
            ];
            var path = i == 3 ? "/missing.html" : "/index.html";
            var query = $"id={id}&i={i}";
            var response = await conn.SendAsync(RawHttpConnection.Request("GET", $"{path}?{query}", headers));
            sent.Add((path, query, headers, response));
        }
        var before = DateTimeOffset.UtcNow;

        var records = await f.Ingest.WaitForAsync(r => r.HeaderValue("X-Test-Id")?.StartsWith(id, StringComparison.Ordinal) == true, 5);
        records = records.OrderBy(r => r.KeepAliveIndex).ToList();
        Assert.Equal(5, records.Count);
        for (var i = 0; i < 5; i++)
        {
            var r = records[i];
            var (path, query, headers, response) = sent[i];
            Assert.Equal($"{id}-{i}", r.HeaderValue("X-Test-Id"));
            Assert.Equal(IPAddress.Loopback, r.Flow.ClientIp);
            Assert.Equal(conn.LocalPort, r.Flow.ClientPort);
            Assert.Equal(IPAddress.Loopback, r.Flow.ServerIp);
            Assert.Equal(f.Apache.HttpPort, r.Flow.ServerPort);
            Assert.Equal("GET", r.Method);
            Assert.Equal(path, r.Path);
            Assert.Equal(query, r.Query);
            Assert.Equal("HTTP/1.1", r.Protocol);
            Assert.Equal($"localhost:{f.Apache.HttpPort}", r.Host);
            Assert.Equal("localhost", r.VirtualHost);
            Assert.Equal(response.Status, r.Status);
            Assert.Equal(i == 3 ? 404 : 200, r.Status);
            Assert.Equal(response.Body.Length, r.BytesSent);
            Assert.InRange(r.DurationMicros, 0, 10_000_000);
            Assert.Equal(i, r.KeepAliveIndex);
            Assert.Equal(records[0].ConnectionId, r.ConnectionId);
            Assert.InRange(r.Timestamp, before.AddMinutes(-1), before.AddSeconds(1));
            Assert.Null(r.TlsProtocol);
            Assert.False(r.Truncated);
            // Every header, in arrival order; Cookie and Authorization redacted by default.
            Assert.Equal(headers.Select(h => h[..h.IndexOf(':')]), r.Headers.Select(h => h.Key));
            Assert.Equal("[redacted]", r.HeaderValue("Cookie"));
            Assert.Equal("[redacted]", r.HeaderValue("Authorization"));
            Assert.Equal("ja4-test/1.0", r.UserAgent);
            Assert.Equal("GET|1.1|6|c--at|HO,UA,AC,x-test-id,CK,AU", r.HeaderSignatureRaw);
            Assert.Matches("^[0-9a-f]{16}$", r.HeaderSignature);
        }
        Assert.Single(records.Select(r => r.HeaderSignature).Distinct());
    }

    [Fact]
    public async Task Http2_over_tls_carries_tls_facts_and_the_client_port()
    {
        var id = Id();
        var urls = Enumerable.Range(0, 3).Select(i => f.Apache.HttpsUrl($"/index.html?h2={id}&i={i}")).ToList();
        var results = await Curl.GetAsync(urls, ["--http2"]);
        Assert.All(results, r => Assert.Equal("2", r.HttpVersion));
        Assert.All(results, r => Assert.Equal(200, r.Status));

        var records = (await f.Ingest.WaitForAsync(r => r.Query?.Contains($"h2={id}", StringComparison.Ordinal) == true, 3))
            .OrderBy(r => r.Query, StringComparer.Ordinal).ToList();
        for (var i = 0; i < 3; i++)
        {
            var r = records[i];
            Assert.Equal("HTTP/2.0", r.Protocol);
            Assert.Equal(results[i].LocalPort, r.Flow.ClientPort);
            Assert.Equal(f.Apache.HttpsPort, r.Flow.ServerPort);
            Assert.Equal("TLSv1.3", r.TlsProtocol);
            Assert.False(string.IsNullOrEmpty(r.TlsCipher));
            Assert.Equal("localhost", r.TlsSni);
            Assert.Equal($"localhost:{f.Apache.HttpsPort}", r.Host);
            Assert.Equal("/index.html", r.Path);
            Assert.Equal(200, r.Status);
            Assert.StartsWith("curl/", r.UserAgent);
            Assert.StartsWith("GET|2|", r.HeaderSignatureRaw);
        }
        // One TLS connection, three streams: one connection id, indices 0..2.
        Assert.Single(records.Select(r => r.ConnectionId).Distinct());
        Assert.Single(records.Select(r => r.Flow.ClientPort).Distinct());
        Assert.Equal([0, 1, 2], records.Select(r => r.KeepAliveIndex).Order());
    }

    [Fact]
    public async Task Http11_over_tls_carries_tls_facts()
    {
        var id = Id();
        var results = await Curl.GetAsync([f.Apache.HttpsUrl($"/index.html?h1tls={id}")], ["--http1.1"]);
        var r = (await f.Ingest.WaitForAsync(r => r.Query == $"h1tls={id}"))[0];
        Assert.Equal("HTTP/1.1", r.Protocol);
        Assert.Equal(results[0].LocalPort, r.Flow.ClientPort);
        Assert.StartsWith("TLSv1.", r.TlsProtocol);
        Assert.Equal("localhost", r.TlsSni);
        Assert.NotNull(r.TlsCipher);
    }

    [Fact]
    public async Task A_request_with_100_headers_arrives_whole_and_in_order()
    {
        var id = Id();
        var headers = new List<string> { "Host: localhost", $"X-Test-Id: {id}" };
        for (var i = headers.Count; i < 100; i++)
        {
            headers.Add($"X-Header-{i:D3}: value {i} {new string((char)('a' + (i % 26)), i)}");
        }
        await using var conn = await RawHttpConnection.OpenAsync(f.Apache.HttpPort);
        var response = await conn.SendAsync(RawHttpConnection.Request("GET", "/index.html", headers));
        Assert.Equal(200, response.Status);

        var r = (await f.Ingest.WaitForAsync(r => r.HeaderValue("X-Test-Id") == id))[0];
        Assert.Equal(100, r.Headers.Count);
        Assert.Equal(headers, r.Headers.Select(h => $"{h.Key}: {h.Value}"));
        Assert.False(r.Truncated);
        Assert.Contains("|100|", r.HeaderSignatureRaw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hostile_header_values_and_paths_arrive_as_valid_json_with_their_values()
    {
        var id = Id();
        // Raw bytes: quotes, backslashes, a tab, control characters and DEL (HttpProtocolOptions
        // Unsafe lets them through), an escape sequence, valid UTF-8, invalid UTF-8 (a lone 0xFF,
        // a truncated sequence, an overlong form, a surrogate), and a value folded over two lines.
        var request = Concat(
            "GET /index.html?q=%22quoted%22&raw=", B(0xFF, 0x22, 0x5C), $"&id={id} HTTP/1.1\r\n",
            "Host: localhost\r\n",
            $"X-Test-Id: {id}\r\n",
            "X-Quotes: say \"hi\" and \\\"escaped\\\" \\\\ end\\\r\n",
            "X-Controls: a\tb", B(0x01, 0x02, 0x1B), "[31mred", B(0x7F), "end\r\n",
            "X-Utf8: caf", B(0xC3, 0xA9), " ", B(0xE2, 0x82, 0xAC), " ", B(0xF0, 0x9F, 0x98, 0x80), "\r\n",
            "X-Invalid: ", B(0xFF, 0x20, 0xC3, 0x20, 0xC0, 0xAF, 0x20, 0xED, 0xA0, 0x80, 0x20, 0xE2, 0x82), "\r\n",
            "X-Folded: first line\r\n   second line\r\n",
            "Cookie: a=1; b=\"two\"\r\n",
            "\r\n");
        await using var conn = await RawHttpConnection.OpenAsync(f.RawPort);
        var response = await conn.SendAsync(request);
        Assert.Equal(200, response.Status);

        var r = (await f.Ingest.WaitForAsync(r => r.HeaderValue("X-Test-Id") == id))[0];
        Assert.Equal($"q=%22quoted%22&raw=\u00FF\"\\&id={id}", r.Query);
        Assert.Equal("say \"hi\" and \\\"escaped\\\" \\\\ end\\", r.HeaderValue("X-Quotes"));
        Assert.Equal("a\tb\u0001\u0002\u001B[31mred\u007Fend", r.HeaderValue("X-Controls"));
        Assert.Equal("café € 😀", r.HeaderValue("X-Utf8"));
        // Bytes that are not UTF-8 come through as the Latin-1 code point of the same value.
        Assert.Equal("\u00FF \u00C3 \u00C0\u00AF \u00ED\u00A0\u0080 \u00E2\u0082", r.HeaderValue("X-Invalid"));
        Assert.Equal("first line second line", r.HeaderValue("X-Folded"));
        Assert.Equal("a=1; b=\"two\"", r.HeaderValue("Cookie"));   // this vhost redacts nothing

        // A control character in the request line: Apache answers 400, and the record still arrives.
        var bad = Concat($"GET /bad", B(0x01), $"path-{id} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        await using var conn2 = await RawHttpConnection.OpenAsync(f.Apache.HttpPort);
        Assert.Equal(400, (await conn2.SendAsync(bad)).Status);
        var r2 = (await f.Ingest.WaitForAsync(r => r.Path == $"/bad\u0001path-{id}"))[0];
        Assert.Equal(400, r2.Status);
        Assert.Equal(0, f.Ingest.Counter("ja4_httpingest_invalid_total"));
    }

    [Fact]
    public async Task A_64_KB_cookie_arrives_whole_where_not_redacted_and_redacted_by_default()
    {
        var id = Id();
        var cookie = "big=" + string.Concat(Enumerable.Range(0, 64 * 1024 / 16).Select(i => $"{i:x15}."));
        Assert.True(cookie.Length > 64 * 1024);
        string[] headers = ["Host: localhost", $"X-Test-Id: {id}", $"Cookie: {cookie}", "Accept: */*"];

        await using (var raw = await RawHttpConnection.OpenAsync(f.RawPort))
        {
            Assert.Equal(200, (await raw.SendAsync(RawHttpConnection.Request("GET", "/index.html", headers))).Status);
        }
        await using (var def = await RawHttpConnection.OpenAsync(f.Apache.HttpPort))
        {
            Assert.Equal(200, (await def.SendAsync(RawHttpConnection.Request("GET", "/index.html", headers))).Status);
        }

        var records = await f.Ingest.WaitForAsync(r => r.HeaderValue("X-Test-Id") == id, 2);
        var whole = Assert.Single(records, r => r.Flow.ServerPort == f.RawPort);
        Assert.Equal(cookie, whole.HeaderValue("Cookie"));
        Assert.Equal("*/*", whole.HeaderValue("Accept"));
        Assert.False(whole.Truncated);
        var redacted = Assert.Single(records, r => r.Flow.ServerPort == f.Apache.HttpPort);
        Assert.Equal("[redacted]", redacted.HeaderValue("Cookie"));
        Assert.Equal(4, redacted.Headers.Count);
    }

    [Fact]
    public async Task A_record_over_the_cap_is_cut_marked_truncated_and_counted()
    {
        var id = Id();
        var headers = new List<string> { "Host: localhost", $"X-Test-Id: {id}" };
        for (var i = 0; i < 40; i++)
        {
            headers.Add($"X-Filler-{i:D2}: {new string('x', 200)}");
        }
        var truncatedBefore = await f.Apache.ReadCounterAsync("ReqinLogTruncated");
        await using var conn = await RawHttpConnection.OpenAsync(f.SmallPort);
        Assert.Equal(200, (await conn.SendAsync(RawHttpConnection.Request("GET", $"/index.html?secret={id}", headers))).Status);

        var r = (await f.Ingest.WaitForAsync(r => r.HeaderValue("X-Test-Id") == id))[0];
        Assert.True(r.Truncated);
        Assert.InRange(r.Headers.Count, 3, 39);
        // What arrived is a prefix of what was sent; the last value may be cut short.
        var sentPairs = headers.Select(h => (Name: h[..h.IndexOf(':')], Value: h[(h.IndexOf(':') + 2)..])).ToList();
        for (var i = 0; i < r.Headers.Count; i++)
        {
            Assert.Equal(sentPairs[i].Name, r.Headers[i].Key);
            Assert.StartsWith(r.Headers[i].Value, sentPairs[i].Value, StringComparison.Ordinal);
        }
        Assert.Null(r.Query);                        // ReqinLogQueryString Off on this vhost
        Assert.True(f.Ingest.Counter("ja4_httpingest_truncated_total") >= 1);
        Assert.True(await f.Apache.ReadCounterAsync("ReqinLogTruncated") > truncatedBefore);
    }

    [Fact]
    public async Task A_cut_path_keeps_the_headers()
    {
        var id = Id();
        var path = "/" + id + "/" + new string('p', 2000);
        await using var conn = await RawHttpConnection.OpenAsync(f.SmallPort);
        var resp = await conn.SendAsync(RawHttpConnection.Request("GET", path, ["Host: localhost", $"X-Test-Id: {id}", "Accept: */*"]));
        Assert.Equal(404, resp.Status);
        var r = (await f.Ingest.WaitForAsync(r => r.HeaderValue("X-Test-Id") == id))[0];
        Assert.True(r.Truncated);
        Assert.StartsWith(r.Path, path, StringComparison.Ordinal);
        Assert.InRange(r.Path.Length, 900, 1023);   // a quarter of ReqinLogMaxRecordBytes 4096, quotes included
        Assert.Equal(["Host", "X-Test-Id", "Accept"], r.Headers.Select(h => h.Key));
    }

    [Fact]
    public async Task Records_of_the_same_requests_parse_the_same_from_a_jsonl_file()
    {
        // What the socket delivered, written as JSONL by hand, read back through ReqinJsonLines.
        var id = Id();
        await using var conn = await RawHttpConnection.OpenAsync(f.Apache.HttpPort);
        await conn.SendAsync(RawHttpConnection.Request("POST", $"/index.html?jsonl={id}",
            ["Host: localhost", "Content-Length: 0", "User-Agent: jsonl-check"]));
        var r = (await f.Ingest.WaitForAsync(r => r.Query == $"jsonl={id}"))[0];
        Assert.Equal("POST", r.Method);

        var line = ReqinRecordWriter.ToJson(r);
        using var file = new MemoryStream(Encoding.UTF8.GetBytes(line + "\n\n" + line + "\r\n"));
        var lines = Ja4.Modules.HttpIngest.ReqinJsonLines.Read(file, new Ja4.Modules.HttpIngest.ReqinRecordParser()).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(Normalize(r), Normalize(l.Request!)));
    }

    private static string Normalize(HttpRequest r) => ReqinRecordWriter.ToJson(r);

    internal static byte[] B(params byte[] bytes) => bytes;

    internal static byte[] Concat(params object[] parts)
    {
        var ms = new MemoryStream();
        foreach (var p in parts)
        {
            var bytes = p as byte[] ?? Encoding.Latin1.GetBytes((string)p);
            ms.Write(bytes);
        }
        return ms.ToArray();
    }
}
