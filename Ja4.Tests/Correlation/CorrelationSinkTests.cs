using System.Text;
using System.Text.Json;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Correlation.Sinks;
using static Ja4.Tests.Correlation.CorrelationTestData;

namespace Ja4.Tests.Correlation;

public sealed class CorrelationSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-sink-").FullName;

    private static CorrelatedRequest Record(string path, MatchStatus status = MatchStatus.Matched)
    {
        var flow = Flow();
        return new CorrelatedRequest(Request(flow, T0, path: path), status == MatchStatus.Matched ? Hello(flow, T0) : null,
            status, T0.AddSeconds(1));
    }

    [Fact]
    public void Json_line_carries_the_request_and_its_fingerprints()
    {
        var stream = new MemoryStream();
        using (var sink = new StdoutSink(stream))
        {
            sink.Write(Record("/x"));
            sink.Write(Record("/y", MatchStatus.NoHandshakeSeen));
        }
        var lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("", lines[2]);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("matched", first.GetProperty("match_status").GetString());
        Assert.Equal("198.51.100.7", first.GetProperty("client_ip").GetString());
        Assert.Equal(50_000, first.GetProperty("client_port").GetInt32());
        Assert.Equal("2026-03-01T12:00:00Z", first.GetProperty("timestamp").GetString());
        Assert.Equal("t13d1516h2_8daaf6152771_d8a2da3f94cd", first.GetProperty("handshake").GetProperty("ja4").GetString());
        Assert.Equal("curl/8.0", first.GetProperty("user_agent").GetString());
        var second = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal("no_handshake_seen", second.GetProperty("match_status").GetString());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("handshake").ValueKind);
    }

    [Fact]
    public void Hostile_strings_are_escaped_and_stay_on_one_line()
    {
        const string path = "/a\nb\r\"c\"</script>\u2028\u0000\u001b[31m";
        var request = Request(Flow(), T0, path: path) with
        {
            Headers = [new("X-Evil\n", "v\r\n{\"injected\":1}"), new("X-Surrogate", "a\ud800b")],
            TlsSni = "\u00e9.example",
        };
        var stream = new MemoryStream();
        using (var sink = new StdoutSink(stream))
        {
            sink.Write(new CorrelatedRequest(request, null, MatchStatus.NoHandshakeSeen, T0));
        }
        var bytes = stream.ToArray();
        // One line: the only raw control byte is the final newline; everything else is printable ASCII.
        Assert.Equal((byte)'\n', bytes[^1]);
        Assert.All(bytes[..^1], b => Assert.InRange(b, (byte)0x20, (byte)0x7e));
        var text = Encoding.ASCII.GetString(bytes);
        Assert.Contains("\\u003C/script\\u003E", text);
        Assert.Contains("\\u2028", text);

        var root = JsonDocument.Parse(bytes).RootElement;
        Assert.Equal(path, root.GetProperty("path").GetString());
        var headers = root.GetProperty("headers");
        Assert.Equal("X-Evil\n", headers[0][0].GetString());
        Assert.Equal("v\r\n{\"injected\":1}", headers[0][1].GetString());
        Assert.Equal("a\uFFFDb", headers[1][1].GetString());
        Assert.Equal("\u00e9.example", root.GetProperty("tls_sni").GetString());
        Assert.False(root.TryGetProperty("injected", out _));
    }

    [Fact]
    public void File_sink_rotates_by_size_and_keeps_n_files()
    {
        var path = Path.Combine(_dir, "logs", "correlated.jsonl");
        var lineBytes = LineLength(Record("/p000"));
        // Three lines per file.
        using (var sink = new RotatingFileSink(path, lineBytes * 3 + 1, keep: 2))
        {
            for (var i = 0; i < 20; i++)
            {
                sink.Write(Record($"/p{i:000}"));
                sink.Flush();
            }
            Assert.Equal(6, sink.Rotations);
        }
        var files = Directory.GetFiles(Path.GetDirectoryName(path)!).Select(f => Path.GetFileName(f)!).Order().ToArray();
        Assert.Equal(["correlated.jsonl", "correlated.jsonl.1", "correlated.jsonl.2"], files);
        Assert.Equal(["/p018", "/p019"], Paths(path));
        Assert.Equal(["/p015", "/p016", "/p017"], Paths(path + ".1"));
        Assert.Equal(["/p012", "/p013", "/p014"], Paths(path + ".2"));
    }

    [Fact]
    public void File_sink_appends_to_an_existing_file_and_rotates_buffered_lines_whole()
    {
        var path = Path.Combine(_dir, "c.jsonl");
        var lineBytes = LineLength(Record("/p000"));
        File.WriteAllText(path, "");
        using (var sink = new RotatingFileSink(path, lineBytes * 2, keep: 1))
        {
            // Not flushed between writes: rotation must still cut between whole lines.
            for (var i = 0; i < 5; i++)
            {
                sink.Write(Record($"/p{i:000}"));
            }
        }
        Assert.Equal(["/p004"], Paths(path));
        Assert.Equal(["/p002", "/p003"], Paths(path + ".1"));
        Assert.False(File.Exists(path + ".2"));

        using (var sink = new RotatingFileSink(path, lineBytes * 2, keep: 1))
        {
            sink.Write(Record("/p005"));
        }
        Assert.Equal(["/p004", "/p005"], Paths(path));
    }

    [Fact]
    public void File_sink_with_keep_zero_starts_over()
    {
        var path = Path.Combine(_dir, "k0.jsonl");
        var lineBytes = LineLength(Record("/p000"));
        using (var sink = new RotatingFileSink(path, lineBytes, keep: 0))
        {
            sink.Write(Record("/p000"));
            sink.Write(Record("/p001"));
        }
        Assert.Equal(["/p001"], Paths(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void File_sink_that_cannot_be_opened_names_its_key()
    {
        var blocker = Path.Combine(_dir, "not-a-dir");
        File.WriteAllText(blocker, "");
        var options = new Ja4.Modules.Correlation.CorrelationOptions();
        options.Sinks.File.Enabled = true;
        options.Sinks.File.Path = Path.Combine(blocker, "c.jsonl");
        var e = Assert.Throws<InvalidOperationException>(() => Ja4.Modules.Correlation.CorrelationWorker.CreateSinks(options));
        Assert.StartsWith("Modules:Correlation:Sinks:File:Path ", e.Message, StringComparison.Ordinal);
    }

    private static int LineLength(CorrelatedRequest r)
    {
        var stream = new MemoryStream();
        using (var sink = new StdoutSink(stream))
        {
            sink.Write(r);
        }
        return stream.ToArray().Length;
    }

    private static string[] Paths(string file) =>
        [.. File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("path").GetString()!)];

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
