using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ja4.Modules.Capture;
using Ja4.Modules.Core.Events;

namespace Ja4.Host.Commands;

/// <summary><c>ja4 fingerprint FILE...</c>: every ClientHello in pcap/pcapng files, one line each.</summary>
public sealed class FingerprintCommand : ICommand
{
    /// <summary>Files larger than this get progress lines on stderr.</summary>
    internal static long ProgressThresholdBytes { get; set; } = 100L * 1024 * 1024;

    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(2);

    /// <summary>Output keys, in this order, for jsonl and csv.</summary>
    internal static readonly string[] Keys =
        ["ts", "transport", "src", "src_port", "dst", "dst_port", "sni", "alpn", "tls_version",
         "ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full"];

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    public string Name => "fingerprint";
    public string Summary => "fingerprint every ClientHello in pcap/pcapng files";
    public string Help => """
        Usage: ja4 fingerprint FILE... [--format jsonl|csv|table]

        Reads pcap and pcapng files through the capture module's packet path (decoding,
        TCP reassembly, QUIC Initial decryption) and prints one line per TLS or QUIC
        ClientHello, in capture order.

        Options:
          --format jsonl  one JSON object per line (default) with the keys
                          ts, transport, src, src_port, dst, dst_port, sni, alpn,
                          tls_version, ja4, ja4_r, ja4_o, ja4_ro, ja3, ja3_full
                          (ts is ISO-8601 UTC; sni and alpn are null when absent;
                          alpn is the first ALPN value)
          --format csv    the same keys as a CSV header and rows
          --format table  aligned columns for reading

        Files over 100 MB get a progress line on stderr every few seconds.
        A missing or unreadable file stops with one error line and exit code 1,
        after printing every hello read before the error.

        """;

    public Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var reader = new ArgReader(args, ["--format"], []);
        var format = reader.Value("--format") ?? "jsonl";
        if (format is not ("jsonl" or "csv" or "table"))
        {
            throw new UsageException($"--format must be jsonl, csv or table (got '{format}')");
        }
        if (reader.Positionals.Count == 0)
        {
            throw new UsageException("no capture file given");
        }
        var output = new LineOutput(Console.Out);
        var formatter = new HelloFormatter(format);
        if (formatter.Header() is { } header)
        {
            output.Append(header);
        }
        try
        {
            foreach (var file in reader.Positionals)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadFile(file, formatter, output);
            }
        }
        catch (CaptureFileException e)
        {
            output.Flush();
            throw new CommandFailedException(e.Message);
        }
        output.Flush();
        return Task.FromResult(Cli.Ok);
    }

    private static void ReadFile(string file, HelloFormatter formatter, LineOutput output)
    {
        using var capture = new CaptureFileReader(file);
        var showProgress = File.Exists(file) && new FileInfo(file).Length > ProgressThresholdBytes;
        var clock = Stopwatch.StartNew();
        var nextProgress = ProgressInterval;
        var hellos = 0L;
        foreach (var hello in capture.ReadEvents())
        {
            hellos++;
            output.Append(formatter.Format(hello));
            if (showProgress && clock.Elapsed >= nextProgress)
            {
                nextProgress = clock.Elapsed + ProgressInterval;
                Progress(file, capture, hellos, clock.Elapsed, done: false);
            }
        }
        if (showProgress)
        {
            Progress(file, capture, hellos, clock.Elapsed, done: true);
        }
    }

    private static void Progress(string file, CaptureFileReader capture, long hellos, TimeSpan elapsed, bool done)
    {
        // Bytes read are estimated from the packets (libpcap does not expose its file position).
        var percent = done || capture.FileSize == 0 ? 100.0 : Math.Min(99.0, 100.0 * capture.BytesRead / capture.FileSize);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ja4 fingerprint: {file}: ~{percent:0}% ({capture.Packets:N0} packets, {hellos:N0} hellos, {elapsed.TotalSeconds:0.0} s)"));
    }

    /// <summary>Collects output lines and writes them in large chunks.</summary>
    private sealed class LineOutput(TextWriter writer)
    {
        private const int ChunkChars = 64 * 1024;
        private readonly StringBuilder _buffer = new(ChunkChars + 4096);

        public void Append(string line)
        {
            _buffer.Append(line).Append('\n');
            if (_buffer.Length >= ChunkChars)
            {
                Flush();
            }
        }

        public void Flush()
        {
            // Chunk by chunk: one 64K-character string per flush would be a large-object allocation.
            foreach (var chunk in _buffer.GetChunks())
            {
                writer.Write(chunk.Span);
            }
            _buffer.Clear();
            writer.Flush();
        }
    }

    /// <summary>Formats one hello as a jsonl, csv or table line.</summary>
    internal sealed class HelloFormatter(string format)
    {
        private readonly ArrayBufferWriter<byte> _json = new(2048);

        public string? Header() => format switch
        {
            "csv" => string.Join(',', Keys),
            "table" => TableRow("TIME (UTC)", "PROTO", "CLIENT", "SERVER", "TLS", "JA4", "JA3", "SNI"),
            _ => null,
        };

        public string Format(TlsClientHello h) => format switch
        {
            "csv" => string.Join(',', Fields(h).Select(v => Csv(v.Text))),
            "table" => TableRow(Timestamp(h.Timestamp), Transport(h), Endpoint(h.Flow.ClientIp, h.Flow.ClientPort),
                Endpoint(h.Flow.ServerIp, h.Flow.ServerPort), h.TlsVersion, h.Ja4, h.Ja3, h.Sni ?? "-"),
            _ => Json(h),
        };

        private string Json(TlsClientHello h)
        {
            _json.ResetWrittenCount();
            using (var w = new Utf8JsonWriter(_json, JsonOptions))
            {
                w.WriteStartObject();
                foreach (var (key, text, number) in Fields(h))
                {
                    if (number is { } n)
                    {
                        w.WriteNumber(key, n);
                    }
                    else if (text is null)
                    {
                        w.WriteNull(key);
                    }
                    else
                    {
                        w.WriteString(key, text);
                    }
                }
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(_json.WrittenSpan);
        }

        /// <summary>Every key with its text (null when absent) or, for ports, its number.</summary>
        private static IEnumerable<(string Key, string? Text, int? Number)> Fields(TlsClientHello h)
        {
            yield return ("ts", Timestamp(h.Timestamp), null);
            yield return ("transport", Transport(h), null);
            yield return ("src", h.Flow.ClientIp.ToString(), null);
            yield return ("src_port", h.Flow.ClientPort.ToString(CultureInfo.InvariantCulture), h.Flow.ClientPort);
            yield return ("dst", h.Flow.ServerIp.ToString(), null);
            yield return ("dst_port", h.Flow.ServerPort.ToString(CultureInfo.InvariantCulture), h.Flow.ServerPort);
            yield return ("sni", h.Sni, null);
            yield return ("alpn", h.Alpn.Count > 0 ? h.Alpn[0] : null, null);
            yield return ("tls_version", h.TlsVersion, null);
            yield return ("ja4", h.Ja4, null);
            yield return ("ja4_r", h.Ja4R, null);
            yield return ("ja4_o", h.Ja4O, null);
            yield return ("ja4_ro", h.Ja4Ro, null);
            yield return ("ja3", h.Ja3, null);
            yield return ("ja3_full", h.Ja3Full, null);
        }

        internal static string Timestamp(DateTimeOffset ts) =>
            ts.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

        private static string Transport(TlsClientHello h) => h.Transport == Modules.Core.Events.Transport.Tcp ? "tcp" : "udp";

        private static string Endpoint(System.Net.IPAddress ip, ushort port) =>
            ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]:{port}" : $"{ip}:{port}";

        private static string Csv(string? value)
        {
            if (value is null)
            {
                return "";
            }
            return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
        }

        private static string TableRow(string ts, string proto, string client, string server, string tls, string ja4, string ja3, string sni) =>
            $"{ts,-27} {proto,-5} {client,-22} {server,-22} {tls,-3} {ja4,-36} {ja3,-32} {sni}";
    }
}
