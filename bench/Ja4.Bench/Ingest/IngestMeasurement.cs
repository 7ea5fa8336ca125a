using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using System.Threading.Channels;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.HttpIngest;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ja4.Bench.Ingest;

/// <summary>
/// HttpIngest: records parsed per second by <see cref="ReqinRecordParser"/> on one thread (with
/// and without the header signature), and records per second through the real socket listener
/// (SOCK_SEQPACKET, several sender connections like Apache children) into the pipeline channel.
/// Target: ≥ 300,000 records/s parsed.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class IngestMeasurement : IMeasurement
{
    public const double TargetRecordsPerSecond = 300_000;

    public string Name => "ingest";
    public string Description => "HttpIngest: records/s parsed, and through the socket listener";

    public async Task<int> RunAsync(string[] args)
    {
        var records = RecordCorpus.Generate(20_000, seed: 1);
        var avg = records.Average(r => r.Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"corpus: {records.Length} distinct records, {avg:0} bytes on average"));

        var withSignature = Parse(records, new ReqinRecordParser(computeHeaderSignature: true));
        var withoutSignature = Parse(records, new ReqinRecordParser(computeHeaderSignature: false));
        var socket = await ThroughSocketAsync(records, senders: 4, total: 400_000);

        // The machine is shared (2 cores, other jobs): records per CPU-second of the parsing
        // thread is what the parser costs; the wall-clock rate is shown for reference.
        Row.Print("http ingest", "parse+signature rec/CPU-s", withSignature.PerCpuSecond, "target", TargetRecordsPerSecond);
        Row.Print("http ingest", "parse only rec/CPU-s", withoutSignature.PerCpuSecond, "target", TargetRecordsPerSecond);
        Row.Print("http ingest", "parse+signature rec/s (wall)", withSignature.PerSecond);
        Row.Print("http ingest", "socket->channel rec/s (wall)", socket);
        return 0;
    }

    private readonly record struct Rate(double PerSecond, double PerCpuSecond);

    /// <summary>Best of five one-second runs after a warm-up, by wall clock and by thread CPU time.</summary>
    private static Rate Parse(byte[][] records, ReqinRecordParser parser)
    {
        for (var i = 0; i < 200_000; i++)
        {
            parser.TryParse(records[i % records.Length], out _, out _);
        }
        double best = 0, bestCpu = 0;
        for (var run = 0; run < 5; run++)
        {
            var cpu0 = ThreadCpu.Seconds();
            var sw = Stopwatch.StartNew();
            var n = 0;
            while (sw.ElapsedMilliseconds < 1000)
            {
                for (var i = 0; i < 10_000; i++, n++)
                {
                    if (!parser.TryParse(records[n % records.Length], out _, out var error))
                    {
                        throw new InvalidOperationException("corpus record rejected: " + error);
                    }
                }
            }
            best = Math.Max(best, n / sw.Elapsed.TotalSeconds);
            bestCpu = Math.Max(bestCpu, n / (ThreadCpu.Seconds() - cpu0));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"parse: {best:0} records/s wall, {bestCpu:0} records/CPU-s"));
        return new Rate(best, bestCpu);
    }

    private static async Task<double> ThroughSocketAsync(byte[][] records, int senders, int total)
    {
        var dir = Directory.CreateTempSubdirectory("ja4-bench-ingest-").FullName;
        try
        {
            await using var sink = await IngestSink.StartAsync(Path.Combine(dir, "reqin.sock"), socketGroup: "");
            var perSender = total / senders;
            var sw = Stopwatch.StartNew();
            var tasks = Enumerable.Range(0, senders).Select(s => Task.Run(() =>
            {
                using var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
                socket.Connect(new UnixDomainSocketEndPoint(sink.SocketPath));
                for (var i = 0; i < perSender; i++)
                {
                    socket.Send(records[(s * 7919 + i) % records.Length]);   // blocking: the bench measures the reader
                }
            })).ToArray();
            await Task.WhenAll(tasks);
            while (sink.Received < perSender * senders)
            {
                if (sw.Elapsed > TimeSpan.FromMinutes(2))
                {
                    throw new TimeoutException($"received {sink.Received} of {perSender * senders}");
                }
                await Task.Delay(1);
            }
            return sink.Received / sw.Elapsed.TotalSeconds;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID).</summary>
internal static partial class ThreadCpu
{
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec ts);

    public static double Seconds() => ClockGetTime(3, out var ts) == 0 ? ts.Seconds + (ts.Nanoseconds / 1e9) : double.NaN;
}

/// <summary>
/// <c>ja4-bench ingest-sink --socket PATH [--group G]</c>: the daemon's socket listener and a
/// consumer that counts, until SIGTERM or stdin closes; prints the counters on exit. Used by
/// bench/21-apache.sh as the daemon Apache writes to.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class IngestSinkMeasurement : IMeasurement
{
    public string Name => "ingest-sink";
    public string Description => "run the HttpIngest listener on --socket PATH and count records until SIGTERM";

    public async Task<int> RunAsync(string[] args)
    {
        var socket = Arg(args, "--socket") ?? throw new ArgumentException("--socket PATH is required");
        var group = Arg(args, "--group") ?? "www-data";
        await using var sink = await IngestSink.StartAsync(socket, group);
        using var stop = new CancellationTokenSource();
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        Console.WriteLine("listening on " + sink.SocketPath);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"received {sink.Received} records, invalid {sink.Metrics.Snapshot().Where(m => m.Name == "ja4_httpingest_invalid_total").Sum(m => m.Value)}"));
        return 0;
    }

    internal static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>The real listener, a real pipeline, and a consumer that only counts.</summary>
[SupportedOSPlatform("linux")]
internal sealed class IngestSink : IAsyncDisposable
{
    private readonly ReqinSocketListener _listener;
    private readonly Task _pump;
    private long _received;

    private IngestSink(ReqinSocketListener listener, ChannelReader<HttpRequest> reader, Ja4Metrics metrics, string path)
    {
        _listener = listener;
        Metrics = metrics;
        SocketPath = path;
        _pump = Task.Run(async () =>
        {
            while (await reader.WaitToReadAsync())
            {
                while (reader.TryRead(out _))
                {
                    Interlocked.Increment(ref _received);
                }
            }
        });
    }

    public string SocketPath { get; }
    public Ja4Metrics Metrics { get; }
    public long Received => Interlocked.Read(ref _received);

    public static async Task<IngestSink> StartAsync(string path, string socketGroup)
    {
        var metrics = new Ja4Metrics();
        var pipeline = new EventPipeline(new HashSet<string>(StringComparer.Ordinal) { ModuleNames.HttpIngest, ModuleNames.Correlation },
            new PipelineOptions(), metrics);
        var options = new HttpIngestOptions { Enabled = true, SocketPath = path, SocketGroup = socketGroup };
        var listener = new ReqinSocketListener(Options.Create(options), pipeline, metrics, NullLogger<ReqinSocketListener>.Instance, TimeProvider.System);
        await listener.StartAsync(CancellationToken.None);
        return new IngestSink(listener, pipeline.Reader<HttpRequest>(Edges.HttpRequests)!, metrics, Path.GetFullPath(path));
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.StopAsync(CancellationToken.None);
        _listener.Dispose();
        await _pump;
    }
}

/// <summary>Realistic mod_reqin_log records: browsers, scripts and bots, HTTP/1.1 and HTTP/2, varied paths.</summary>
internal static class RecordCorpus
{
    private static readonly string[][] HeaderSets =
    [
        ["Host", "User-Agent", "Accept"],
        ["Host", "Connection", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "Upgrade-Insecure-Requests", "User-Agent", "Accept",
         "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-User", "Sec-Fetch-Dest", "Accept-Encoding", "Accept-Language", "Cookie"],
        ["user-agent", "accept", "accept-language", "accept-encoding", "referer", "cookie", "upgrade-insecure-requests",
         "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "priority", "te", "Host"],
        ["Host", "User-Agent", "Accept-Encoding", "Accept", "Connection", "Content-Length", "Content-Type", "X-Api-Key"],
        ["Host", "User-Agent", "Accept", "Accept-Encoding", "X-Forwarded-For", "Via"],
    ];

    private static readonly string[] Agents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "curl/7.88.1",
        "python-requests/2.31.0",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ];

    public static byte[][] Generate(int count, int seed)
    {
        var random = new Random(seed);
        var result = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var set = HeaderSets[random.Next(HeaderSets.Length)];
            var h2 = set[0] == "user-agent";
            var tls = h2 || random.Next(3) > 0;
            var sb = new StringBuilder(1024);
            sb.Append(CultureInfo.InvariantCulture,
                $$"""{"v":1,"time_us":{{1_700_000_000_000_000L + (i * 1000L)}},"client_ip":"203.0.113.{{random.Next(1, 255)}}","client_port":{{random.Next(1024, 65535)}},"server_ip":"198.51.100.1","server_port":{{(tls ? 443 : 80)}},"vhost":"www.example.test","method":"{{(set.Contains("Content-Type") ? "POST" : "GET")}}","path":"/shop/item/{{random.Next(100_000)}}.html","query":"ref=home&id={{random.Next()}}","protocol":"{{(h2 ? "HTTP/2.0" : "HTTP/1.1")}}","host":"www.example.test","status":200,"bytes_sent":{{random.Next(100, 50_000)}},"duration_us":{{random.Next(50, 5000)}},"conn_id":{{random.Next(1000)}},"keepalive_index":{{random.Next(10)}}""");
            if (tls)
            {
                sb.Append(""","tls_protocol":"TLSv1.3","tls_cipher":"TLS_AES_128_GCM_SHA256","tls_sni":"www.example.test" """.TrimEnd());
            }
            sb.Append(",\"headers\":[");
            for (var j = 0; j < set.Length; j++)
            {
                var name = set[j];
                var value = name.ToLowerInvariant() switch
                {
                    "host" => "www.example.test",
                    "user-agent" => Agents[random.Next(Agents.Length)],
                    "accept" => "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                    "accept-language" => "en-US,en;q=0.5",
                    "accept-encoding" => "gzip, deflate, br",
                    "cookie" => "[redacted]",
                    "referer" => "https://www.example.test/shop/",
                    "sec-ch-ua" => "\\\"Chromium\\\";v=\\\"131\\\", \\\"Not_A Brand\\\";v=\\\"24\\\"",
                    "x-forwarded-for" => $"10.{random.Next(255)}.{random.Next(255)}.{random.Next(255)}",
                    "content-length" => random.Next(10_000).ToString(CultureInfo.InvariantCulture),
                    _ => "?1",
                };
                sb.Append(j == 0 ? "" : ",").Append("[\"").Append(name).Append("\",\"").Append(value).Append("\"]");
            }
            sb.Append("]}");
            result[i] = Encoding.UTF8.GetBytes(sb.ToString());
        }
        return result;
    }
}
