using System.Buffers.Binary;
using System.Text.Json;
using Ja4.Host;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.Capture;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    /// <summary>Tests that redirect <see cref="Console.Out"/> run alone.</summary>
    public const string Name = "Console";
}

/// <summary><c>ja4 fingerprint</c> through <see cref="Cli.RunAsync(string[], TextWriter?, TextWriter?)"/>.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class FingerprintVerbTests
{
    private static readonly string[] Keys =
        ["ts", "transport", "src", "src_port", "dst", "dst_port", "sni", "alpn", "tls_version",
         "ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full"];

    internal static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            var code = await Cli.RunAsync(args, o, e);
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    private static string Pcap(string name) => Path.Combine(Corpus.FoxioPcapDir, name);

    [Fact]
    public async Task Jsonl_has_exactly_the_keys_in_order_and_the_reference_values()
    {
        var (code, output, err) = await Run("fingerprint", Pcap("latest.pcapng"));
        Assert.Equal(0, code);
        Assert.Equal("", err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = Corpus.Expected("latest.pcapng");
        Assert.Equal(expected.Count, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var root = doc.RootElement;
            Assert.Equal(Keys, root.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(JsonValueKind.Number, root.GetProperty("src_port").ValueKind);
            Assert.Equal(JsonValueKind.Number, root.GetProperty("dst_port").ValueKind);
            // latest.pcapng: TCP only, and each connection's hello comes in its stream order.
            foreach (var key in new[] { "transport", "src", "dst", "sni", "ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full" })
            {
                Assert.Equal(expected[i].GetProperty(key).ToString(), root.GetProperty(key).ToString());
            }
            Assert.Equal(expected[i].GetProperty("src_port").GetInt32(), root.GetProperty("src_port").GetInt32());
            Assert.Equal(expected[i].GetProperty("dst_port").GetInt32(), root.GetProperty("dst_port").GetInt32());
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", root.GetProperty("ts").GetString());
        }
    }

    [Fact]
    public async Task Timestamp_alpn_and_version_of_a_known_packet()
    {
        // tshark: the hello's frame.time is Jul 5, 2020 20:23:28.666633000 UTC; ALPN "h2,http/1.1".
        var (code, output, _) = await Run("fingerprint", Pcap("tls-alpn-h2.pcap"));
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output.Trim());
        var root = doc.RootElement;
        Assert.Equal("2020-07-05T20:23:28.666633Z", root.GetProperty("ts").GetString());
        Assert.Equal("h2", root.GetProperty("alpn").GetString());
        Assert.Equal("1.2", root.GetProperty("tls_version").GetString());
        Assert.Equal("tcp", root.GetProperty("transport").GetString());
    }

    [Fact]
    public async Task Null_sni_and_alpn_are_json_null()
    {
        var (code, output, _) = await Run("fingerprint", Pcap("https-connect.pcap"));
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output.Trim());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("sni").ValueKind);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("alpn").ValueKind);
        Assert.Equal(8080, doc.RootElement.GetProperty("dst_port").GetInt32());
    }

    [Fact]
    public async Task Several_files_in_argument_order()
    {
        var (code, output, _) = await Run("fingerprint", Pcap("tls12.pcap"), Pcap("ipv6.pcapng"));
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains(Corpus.Expected("tls12.pcap")[0].GetProperty("ja4").GetString()!, lines[0]);
        Assert.Contains(Corpus.Expected("ipv6.pcapng")[0].GetProperty("ja4").GetString()!, lines[1]);
    }

    [Fact]
    public async Task Csv_has_a_header_and_one_row_per_hello()
    {
        var (code, output, _) = await Run("fingerprint", "--format", "csv", Pcap("tls3.pcapng"));
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(',', Keys), lines[0]);
        Assert.Equal(Corpus.Expected("tls3.pcapng").Count, lines.Length - 1);
        // ja4_r holds commas, so it is quoted; the row has the 15 fields.
        var first = ParseCsvLine(lines[1]);
        Assert.Equal(15, first.Count);
        Assert.Equal("tcp", first[1]);
        Assert.Equal("darksail.ai", first[6]);
        Assert.StartsWith("t13d1516h2_002f,0035", first[10]);
    }

    [Fact]
    public async Task Table_has_a_header_and_aligned_rows()
    {
        var (code, output, _) = await Run("fingerprint", "--format=table", Pcap("tls3.pcapng"));
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("TIME (UTC)", lines[0]);
        Assert.Equal(14, lines.Length);
        var ja4Column = lines[0].IndexOf("JA4", StringComparison.Ordinal);
        Assert.All(lines.Skip(1), l => Assert.Matches("^[tq]13d", l[ja4Column..]));
    }

    [Fact]
    public async Task Large_files_get_progress_lines_on_stderr()
    {
        var threshold = Ja4.Host.Commands.FingerprintCommand.ProgressThresholdBytes;
        Ja4.Host.Commands.FingerprintCommand.ProgressThresholdBytes = 0;
        try
        {
            var (code, output, err) = await Run("fingerprint", Pcap("tls3.pcapng"));
            Assert.Equal(0, code);
            Assert.Equal(13, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            var last = err.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
            Assert.Matches(@"^ja4 fingerprint: .*tls3\.pcapng: ~100% \(1,189 packets, 13 hellos, [0-9.]+ s\)$", last);
        }
        finally
        {
            Ja4.Host.Commands.FingerprintCommand.ProgressThresholdBytes = threshold;
        }
    }

    [Fact]
    public async Task Missing_file_is_one_error_line_and_exit_1()
    {
        var (code, output, err) = await Run("fingerprint", "/nonexistent/x.pcap");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal("ja4 fingerprint: /nonexistent/x.pcap: no such file", err.TrimEnd());
    }

    [Fact]
    public async Task Output_of_earlier_files_comes_before_the_error()
    {
        var (code, output, err) = await Run("fingerprint", Pcap("tls12.pcap"), "/nonexistent/y.pcap");
        Assert.Equal(1, code);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Truncated_file_prints_what_it_read_then_one_error_line()
    {
        // Cut latest.pcapng inside its last blocks: every hello before the cut is printed.
        var source = File.ReadAllBytes(Pcap("latest.pcapng"));
        var path = Path.Combine(Path.GetTempPath(), $"ja4-truncated-{Guid.NewGuid():N}.pcapng");
        File.WriteAllBytes(path, source[..(source.Length - 1000)]);
        try
        {
            var (code, output, err) = await Run("fingerprint", path);
            Assert.Equal(1, code);
            Assert.Equal(Corpus.Expected("latest.pcapng").Count, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"ja4 fingerprint: {path}: truncated or corrupt after ", line);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Not_a_capture_file_is_one_error_line()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ja4-garbage-{Guid.NewGuid():N}.pcap");
        File.WriteAllText(path, "this is not a capture file at all, just text\n");
        try
        {
            var (code, output, err) = await Run("fingerprint", path);
            Assert.Equal(1, code);
            Assert.Equal("", output);
            Assert.StartsWith($"ja4 fingerprint: {path}: not a readable pcap/pcapng file (", err.TrimEnd());
            Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Mixed_link_type_pcapng_gives_a_clear_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ja4-mixed-{Guid.NewGuid():N}.pcapng");
        File.WriteAllBytes(path, MixedLinkTypePcapng());
        try
        {
            var (code, _, err) = await Run("fingerprint", path);
            Assert.Equal(1, code);
            var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("pcapng interfaces have different link types", line);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("--format", "xml")]
    [InlineData("--bogus")]
    public async Task Bad_options_are_usage_errors(params string[] extra)
    {
        var (code, _, err) = await Run(["fingerprint", .. extra, Pcap("tls12.pcap")]);
        Assert.Equal(2, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task No_file_is_a_usage_error()
    {
        var (code, _, err) = await Run("fingerprint");
        Assert.Equal(2, code);
        Assert.Contains("no capture file given", err);
    }

    [Fact]
    public async Task Help_describes_the_keys()
    {
        var (code, output, _) = await Run("fingerprint", "--help");
        Assert.Equal(0, code);
        Assert.StartsWith("Usage: ja4 fingerprint FILE...", output);
        Assert.Contains("ja4_ro", output);
    }

    /// <summary>A pcapng (section header, two interfaces of link types 1 and 0, one packet on each).</summary>
    private static byte[] MixedLinkTypePcapng()
    {
        var ms = new MemoryStream();
        void Block(uint type, byte[] body)
        {
            var padded = (body.Length + 3) & ~3;
            var total = 12 + padded;
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, type); ms.Write(b);
            BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)total); ms.Write(b);
            ms.Write(body);
            ms.Write(new byte[padded - body.Length]);
            BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)total); ms.Write(b);
        }
        byte[] Le32(uint v) { var x = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(x, v); return x; }
        byte[] Le16(ushort v) { var x = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(x, v); return x; }
        // Section header: byte-order magic, version 1.0, section length unknown.
        Block(0x0A0D0D0A, [.. Le32(0x1A2B3C4D), .. Le16(1), .. Le16(0), .. new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }]);
        Block(1, [.. Le16(1), .. Le16(0), .. Le32(65535)]); // interface 0: Ethernet
        Block(1, [.. Le16(0), .. Le16(0), .. Le32(65535)]); // interface 1: BSD loopback
        var packet = new byte[60];
        Block(6, [.. Le32(0), .. Le32(0), .. Le32(1), .. Le32(60), .. Le32(60), .. packet]);
        Block(6, [.. Le32(1), .. Le32(0), .. Le32(2), .. Le32(60), .. Le32(60), .. packet]);
        return ms.ToArray();
    }

    private static List<string> ParseCsvLine(string line)
    {
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') { quoted = false; }
                else { sb.Append(c); }
            }
            else if (c == '"') { quoted = true; }
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else { sb.Append(c); }
        }
        fields.Add(sb.ToString());
        return fields;
    }
}
