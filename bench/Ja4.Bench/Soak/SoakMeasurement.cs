using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Ja4.Bench.Capture;

namespace Ja4.Bench.Soak;

/// <summary>
/// <c>ja4-bench soak</c>: steady load on a running daemon for a fixed time, sampling its
/// <c>/metrics</c> every interval. Each simulated request is a TCP connection on the loopback
/// interface (SYN, then a ClientHello segment, then FIN, injected as Ethernet frames through a
/// packet socket, so the daemon's live capture sees them) and the matching mod_reqin_log record
/// on the ingest socket (same client address and port). Prints one line per sample (RSS, heap,
/// GC collections per generation, drops, rows stored) and a verdict on growth after the
/// warm-up: the least-squares slope of RSS over time.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SoakMeasurement : IMeasurement
{
    /// <summary>The target: resident memory below this at 5,000 requests/s.</summary>
    public const double RssTargetMb = 400;

    /// <summary>RSS may grow by at most this share of its mean over the measured window (the fitted line).</summary>
    public const double AllowedGrowth = 0.05;

    public string Name => "soak";
    public string Description => "steady load on a running daemon, sampling /metrics: soak --url U --socket S --port P [--rate R] [--seconds N] [--records realistic|minimal]";

    public async Task<int> RunAsync(string[] args)
    {
        var url = Arg(args, "--url") ?? throw new ArgumentException("--url is required (the daemon's operations URL)");
        var socketPath = Arg(args, "--socket") ?? throw new ArgumentException("--socket is required (Modules:HttpIngest:SocketPath)");
        var port = int.Parse(Arg(args, "--port") ?? throw new ArgumentException("--port is required (the captured server port)"), CultureInfo.InvariantCulture);
        var iface = Arg(args, "--iface") ?? "lo";
        var rate = double.Parse(Arg(args, "--rate") ?? "5000", CultureInfo.InvariantCulture);
        var seconds = double.Parse(Arg(args, "--seconds") ?? "600", CultureInfo.InvariantCulture);
        var interval = double.Parse(Arg(args, "--interval") ?? "10", CultureInfo.InvariantCulture);
        var warmup = double.Parse(Arg(args, "--warmup") ?? Math.Min(120, seconds / 3).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        // With the daemon's process id, the kernel's high-water mark of its resident memory is reset at the end of the
        // warm-up and read at the end of the load: the peak between samples too (merges last under a second).
        var pid = Arg(args, "--pid") is { } p ? int.Parse(p, CultureInfo.InvariantCulture) : (int?)null;
        var peakReset = false;

        // realistic (default): browsers, scripts and crawlers with varied paths and headers (SoakRequests); minimal: the
        // three-header records of one path pattern the soaks before 2026-12-07 evening sent (to compare with their figures).
        var records = Arg(args, "--records") ?? "realistic";
        if (records is not ("realistic" or "minimal"))
        {
            throw new ArgumentException($"--records is realistic or minimal, not {records}");
        }
        using var load = new SoakLoad(iface, socketPath, (ushort)port, records == "realistic");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var stop = new CancellationTokenSource();
        var generator = Task.Factory.StartNew(() => load.Run(rate, TimeSpan.FromSeconds(seconds), stop.Token), TaskCreationOptions.LongRunning);

        var samples = new List<SoakSample>();
        Console.WriteLine($"soak: {rate:0} requests/s ({records} records) for {seconds:0} s on {iface} port {port} and {socketPath}; warm-up {warmup:0} s; sample every {interval:0} s");
        Console.WriteLine(SoakSample.Header);
        var clock = Stopwatch.StartNew();
        var next = 0.0;
        while (true)
        {
            var wait = next - clock.Elapsed.TotalSeconds;
            if (wait > 0)
            {
                await Task.WhenAny(generator, Task.Delay(TimeSpan.FromSeconds(wait)));
            }
            var sample = SoakSample.From(clock.Elapsed.TotalSeconds, load.Sent,
                PrometheusText.Parse(await http.GetStringAsync(url.TrimEnd('/') + "/metrics")));
            samples.Add(sample);
            Console.WriteLine(sample.Line());
            if (pid is { } id && !peakReset && sample.Seconds >= warmup)
            {
                peakReset = PeakRss.Reset(id);
            }
            if (generator.IsCompleted)
            {
                break;
            }
            next += interval;
        }
        await generator;
        var peak = pid is { } daemon && peakReset ? PeakRss.ReadMb(daemon) : null;

        // Let the pipeline drain, then take the last counts for the totals.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var final = SoakSample.From(clock.Elapsed.TotalSeconds, load.Sent, PrometheusText.Parse(await http.GetStringAsync(url.TrimEnd('/') + "/metrics")));
        Console.WriteLine(final.Line() + "   (after drain)");
        return Verdict(samples, final, seconds, warmup, rate, load.Skipped, peak);
    }

    private static int Verdict(List<SoakSample> samples, SoakSample final, double seconds, double warmup, double rate, long skipped,
        double? peakAfterWarmup)
    {
        var steady = samples.Where(s => s.Seconds >= warmup).ToList();
        var achieved = final.Sent / seconds;
        var maxRss = samples.Max(s => s.RssMb);
        var maxAnon = samples.Max(s => s.AnonMb);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sent {final.Sent} requests ({achieved:0}/s; {skipped} skipped while the generator was starved of CPU), ingested {final.Records}, handshakes {final.Hellos}, stored {final.StoredRows} rows, " +
            $"match ratio {final.MatchRatio:0.000}, dropped {final.Dropped}, lost {final.Lost}, max RSS {maxRss:0.0} MB (anonymous {maxAnon:0.0} MB)"));
        Row.Print("soak", "requests/s offered", achieved, "target", rate);
        Row.Print("soak", "max RSS MB", maxRss, "target", RssTargetMb);
        Row.Print("soak", "max anonymous RSS MB", maxAnon, "target", RssTargetMb);
        if (peakAfterWarmup is { } hwm)
        {
            Row.Print("soak", "peak RSS MB after warm-up (kernel high-water mark)", hwm, "target", RssTargetMb);
        }
        Row.Print("soak", "channel drops", final.Dropped);
        Row.Print("soak", "rows lost", final.Lost);
        Row.Print("soak", "match ratio", final.MatchRatio);
        if (steady.Count < 3)
        {
            Console.WriteLine($"verdict: not enough samples after the warm-up ({steady.Count}); run longer");
            return 1;
        }
        var (rssSlope, _) = Fit(steady.Select(s => (s.Seconds, s.RssMb)).ToList());
        var (heapSlope, _) = Fit(steady.Select(s => (s.Seconds, s.HeapMb)).ToList());
        // Descriptors: the median of pairwise slopes (Theil-Sen), not a least-squares line: a merge holds its parts' files open
        // for a moment, and two such samples at the end of a flat series (322 → 377) made a line of +1.5/min. A leak raises
        // the level itself, and moves the median with it.
        var fdSlope = MedianSlope(steady.Select(s => (s.Seconds, (double)s.OpenFds)).ToList());
        var window = steady[^1].Seconds - steady[0].Seconds;
        var meanRss = steady.Average(s => s.RssMb);
        var growth = rssSlope * window;
        // The daemon's CPU (its own ja4_process_cpu_seconds) over the same window.
        Row.Print("soak", "daemon CPU cores after warm-up", (steady[^1].CpuSeconds - steady[0].CpuSeconds) / window);
        Row.Print("soak", "RSS slope MB/h after warm-up", rssSlope * 3600);
        Row.Print("soak", "heap slope MB/h after warm-up", heapSlope * 3600);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"after warm-up ({steady.Count} samples over {window:0} s): RSS {rssSlope * 60:+0.00;-0.00} MB/min (fitted growth {growth:+0.0;-0.0} MB, " +
            $"{growth / meanRss:+0.0%;-0.0%} of the mean {meanRss:0.0} MB), heap {heapSlope * 60:+0.00;-0.00} MB/min, fds {fdSlope * 60:+0.00;-0.00}/min"));
        var problems = new List<string>();
        if (maxRss >= RssTargetMb)
        {
            problems.Add($"RSS reached {maxRss:0} MB (target < {RssTargetMb:0} MB)");
        }
        if (peakAfterWarmup >= RssTargetMb && maxRss < RssTargetMb)
        {
            problems.Add($"RSS peaked at {peakAfterWarmup:0} MB between samples (target < {RssTargetMb:0} MB)");
        }
        if (growth > AllowedGrowth * meanRss)
        {
            problems.Add($"RSS grows after the warm-up ({growth:0.0} MB over {window:0} s, more than {AllowedGrowth:0%} of its mean)");
        }
        if (fdSlope * window > 10)
        {
            problems.Add($"open file descriptors grow ({fdSlope * 60:0.0}/min)");
        }
        // Every request the generator sent is a record on the socket and a handshake on the wire: at a steady rate the
        // daemon must take all of them (drops count channel overflows, invalid records and the kernel's capture drops).
        if (final.Dropped > 0)
        {
            problems.Add($"{final.Dropped} events dropped (channels, invalid records, capture)");
        }
        if (final.Records < final.Sent || final.Hellos < final.Sent)
        {
            problems.Add($"the daemon took {final.Records} records and {final.Hellos} handshakes of {final.Sent} requests sent");
        }
        if (final.Lost > 0)
        {
            problems.Add($"{final.Lost} rows lost by the store");
        }
        Console.WriteLine(problems.Count == 0
            ? $"verdict: PASS — no growth trend after the warm-up, RSS below {RssTargetMb:0} MB"
            : "verdict: FAIL — " + string.Join("; ", problems));
        return problems.Count == 0 ? 0 : 1;
    }

    /// <summary>The median of the slopes between every two points (Theil-Sen): a trend that brief outliers do not move.</summary>
    internal static double MedianSlope(IReadOnlyList<(double X, double Y)> points)
    {
        var slopes = new List<double>(points.Count * (points.Count - 1) / 2);
        for (var i = 0; i < points.Count; i++)
        {
            for (var j = i + 1; j < points.Count; j++)
            {
                if (points[j].X != points[i].X)
                {
                    slopes.Add((points[j].Y - points[i].Y) / (points[j].X - points[i].X));
                }
            }
        }
        if (slopes.Count == 0)
        {
            return 0;
        }
        slopes.Sort();
        var middle = slopes.Count / 2;
        return slopes.Count % 2 == 1 ? slopes[middle] : (slopes[middle - 1] + slopes[middle]) / 2;
    }

    /// <summary>Least-squares line y = a·x + b.</summary>
    internal static (double Slope, double Intercept) Fit(IReadOnlyList<(double X, double Y)> points)
    {
        var n = points.Count;
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        var sxy = points.Sum(p => (p.X - mx) * (p.Y - my));
        var slope = n < 2 || sxx == 0 ? 0 : sxy / sxx;
        return (slope, my - (slope * mx));
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>
/// The kernel's high-water mark of a process's resident memory (<c>VmHWM</c> in <c>/proc/PID/status</c>), which
/// writing 5 to <c>/proc/PID/clear_refs</c> resets to the current resident size (root, or the process's owner).
/// </summary>
internal static class PeakRss
{
    public static bool Reset(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine($"soak: cannot reset the peak resident size of process {pid}: {e.Message}");
            return false;
        }
    }

    /// <summary>VmHWM in MB, or null when the process is gone.</summary>
    public static double? ReadMb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>One reading of the daemon's metrics during a soak.</summary>
internal sealed record SoakSample(double Seconds, long Sent, double RssMb, double AnonMb, double HeapMb, double CommittedMb, long Gen0, long Gen1,
    long Gen2, long Records, long Hellos, long StoredRows, long Dropped, long Lost, long OpenFds, double SpillBytes, double MatchRatio, long Queued,
    double CpuSeconds)
{
    public const string Header =
        "     t      sent    RSS MB   anon MB   heap MB  commit MB   gen0   gen1  gen2   ingested  handshakes     stored   queued   dropped  lost   fds  spill B";

    public static SoakSample From(double seconds, long sent, Dictionary<string, double> m)
    {
        double Sum(string prefix) => m.Where(kv => kv.Key == prefix || kv.Key.StartsWith(prefix + "{", StringComparison.Ordinal)).Sum(kv => kv.Value);
        double Get(string key) => m.TryGetValue(key, out var v) ? v : 0;
        return new SoakSample(seconds, sent,
            Get("ja4_process_resident_memory_bytes") / 1048576, Get("ja4_process_resident_anonymous_bytes") / 1048576,
            Get("ja4_dotnet_gc_heap_bytes") / 1048576,
            Get("ja4_dotnet_gc_committed_bytes") / 1048576,
            (long)Get("ja4_dotnet_gc_collections{generation=\"0\"}"), (long)Get("ja4_dotnet_gc_collections{generation=\"1\"}"),
            (long)Get("ja4_dotnet_gc_collections{generation=\"2\"}"),
            (long)Get("ja4_httpingest_records_total"), (long)Sum("ja4_capture_hellos_total"), (long)Sum("ja4_storage_rows_written_total"),
            (long)(Sum("ja4_channel_dropped_total") + Sum("ja4_httpingest_invalid_total") + Sum("ja4_capture_pcap_kernel_dropped")),
            (long)Sum("ja4_storage_rows_lost_total"), (long)Get("ja4_process_open_fds"), Get("ja4_storage_spill_bytes"),
            Get("ja4_correlation_match_ratio"), (long)Sum("ja4_channel_depth"), Get("ja4_process_cpu_seconds"));
    }

    public string Line() => string.Create(CultureInfo.InvariantCulture,
        $"{Seconds,6:0} {Sent,9} {RssMb,9:0.0} {AnonMb,9:0.0} {HeapMb,9:0.0} {CommittedMb,10:0.0} {Gen0,6} {Gen1,6} {Gen2,5} {Records,10} {Hellos,11} {StoredRows,10} {Queued,8} {Dropped,9} {Lost,5} {OpenFds,5} {SpillBytes,8:0}");
}

/// <summary>Prometheus text ("name{labels} value" lines) into a map keyed by "name{labels}".</summary>
internal static class PrometheusText
{
    public static Dictionary<string, double> Parse(string text)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var space = line.LastIndexOf(' ');
            if (line.Length > 0 && line[0] != '#' && space > 0
                && double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                result[line[..space]] = v;
            }
        }
        return result;
    }
}

/// <summary>
/// The load: TCP connections to <c>127.0.0.1:port</c> injected on an interface through an
/// <c>AF_PACKET</c> socket (needs CAP_NET_RAW), and one mod_reqin_log record per connection on
/// the ingest socket. Frames carry a destination MAC that is not the interface's, so the
/// kernel's own TCP stack ignores them while packet capture sees them.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class SoakLoad : IDisposable
{
    private const int AfPacket = 17;
    private const int SockRaw = 3;
    private const ushort EthPAll = 0x0003;
    private const byte Fin = 0x01, Syn = 0x02, Psh = 0x08, Ack = 0x10;
    private const int Hellos = 64;

    private readonly int _fd;
    private readonly Socket _ingest;
    private readonly ushort _serverPort;
    private readonly byte[][] _hellos;
    private readonly string[] _snis;
    private readonly byte[] _frame = new byte[14 + 20 + 20 + 65536];
    private readonly SoakRequests? _requests;
    private readonly StringBuilder _record = new(2048);
    private long _sent;
    private long _skipped;

    public SoakLoad(string iface, string socketPath, ushort serverPort, bool realistic)
    {
        _serverPort = serverPort;
        _requests = realistic ? new SoakRequests(11) : null;
        var random = new Random(7);
        _snis = Enumerable.Range(0, Hellos).Select(i => $"soak{i}.example.test").ToArray();
        _hellos = Enumerable.Range(0, Hellos).Select(i =>
        {
            var hello = HelloShapes.Build(i % HelloShapes.Count, random, _snis[i]);
            return HelloShapes.Concat([22, 3, 1], HelloShapes.U16(hello.Length), hello);
        }).ToArray();
        _fd = Socket(AfPacket, SockRaw, BinaryPrimitives.ReverseEndianness(EthPAll));
        if (_fd < 0)
        {
            throw new InvalidOperationException($"packet socket: errno {Marshal.GetLastPInvokeError()} (needs root or CAP_NET_RAW)");
        }
        var index = IfNameToIndex(iface);
        if (index == 0)
        {
            throw new InvalidOperationException($"no interface named {iface}");
        }
        // struct sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8].
        Span<byte> address = stackalloc byte[20];
        BinaryPrimitives.WriteUInt16LittleEndian(address, AfPacket);
        BinaryPrimitives.WriteUInt16BigEndian(address[2..], EthPAll);
        BinaryPrimitives.WriteInt32LittleEndian(address[4..], (int)index);
        if (Bind(_fd, ref MemoryMarshal.GetReference(address), address.Length) != 0)
        {
            throw new InvalidOperationException($"bind to {iface}: errno {Marshal.GetLastPInvokeError()}");
        }
        _ingest = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        _ingest.Connect(new UnixDomainSocketEndPoint(socketPath));
    }

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Requests not sent because the generator fell more than a second behind (CPU starved).</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>
    /// Sends at <paramref name="rate"/> requests per second for <paramref name="duration"/>, in 5 ms
    /// steps. When the generator itself is starved of CPU it does not catch up in a burst (that
    /// would measure bursts, not a steady rate): what is more than a second late is skipped and counted.
    /// </summary>
    public void Run(double rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        long n = 0;
        long slot = 0;
        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * rate);
            if (due - slot > rate)
            {
                Interlocked.Add(ref _skipped, due - slot - (long)rate);
                slot = due - (long)rate;
            }
            for (; slot < due; slot++, n++)
            {
                SendOne(n);
                Interlocked.Increment(ref _sent);
            }
            Thread.Sleep(5);
        }
    }

    private const int Clients = 4096;

    private void SendOne(long n)
    {
        // 4,096 clients in 127.1.0.0/20, taking turns (a busy site's spread: about 12 connections per client in
        // a 10 s window at 5,000/s), each on ports 1024-65535 in order: 4,096 × 64,512 connections before a flow
        // repeats.
        var clientIp = 0x7F010000u | (uint)(n % Clients);
        var clientPort = (ushort)(1024 + (n / Clients % 64512));
        var isn = (uint)(n * 7919);
        var hello = _hellos[n % Hellos];
        Inject(clientIp, clientPort, isn, 0, Syn, []);
        Inject(clientIp, clientPort, isn + 1, 1, Psh | Ack, hello);
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        var sni = _snis[n % Hellos];
        // The connection's fields, then the request's: the web shop's (SoakRequests) or the three-header minimal one.
        _record.Clear().Append(CultureInfo.InvariantCulture,
            $$"""{"v":1,"time_us":{{now}},"client_ip":"127.1.{{(clientIp >> 8) & 255}}.{{clientIp & 255}}","client_port":{{clientPort}},"server_ip":"127.0.0.1","server_port":{{_serverPort}},"vhost":"{{sni}}","host":"{{sni}}","conn_id":{{n}},"tls_protocol":"TLSv1.3","tls_cipher":"TLS_AES_128_GCM_SHA256","tls_sni":"{{sni}}""").Append('"');
        if (_requests is null)
        {
            _record.Append(CultureInfo.InvariantCulture,
                $$""","method":"GET","path":"/soak/{{n % 1000}}.html","query":"","protocol":"HTTP/1.1","status":200,"bytes_sent":{{1000 + (n % 5000)}},"duration_us":{{200 + (n % 3000)}},"keepalive_index":0,"headers":[["Host","{{sni}}"],["User-Agent","soak/1.0"],["Accept","*/*"]]""");
        }
        else
        {
            _requests.Append(_record, n % Clients, sni, 0);
        }
        var record = _record.Append('}').ToString();
        _ingest.Send(Encoding.UTF8.GetBytes(record));
        Inject(clientIp, clientPort, isn + 1 + (uint)hello.Length, 1, Fin | Ack, []);
    }

    private void Inject(uint clientIp, ushort clientPort, uint seq, uint ack, byte flags, byte[] payload)
    {
        var length = 14 + 20 + 20 + payload.Length;
        var f = _frame.AsSpan(0, length);
        f[..12].Clear();
        f[0] = 0x02; f[5] = 0x01;     // destination 02:00:00:00:00:01: not lo's, so not delivered to its stack
        f[6] = 0x02; f[11] = 0x02;
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], 0x0800);
        var ip = f[14..];
        ip[0] = 0x45; ip[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(40 + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000);
        ip[8] = 64; ip[9] = 6;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], clientIp);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], 0x7F000001);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum(ip[..20]));
        var tcp = ip[20..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, clientPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], _serverPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack);
        tcp[12] = 0x50; tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65535);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[16..], 0);
        payload.CopyTo(tcp[20..]);
        if (Send(_fd, ref MemoryMarshal.GetReference(f), (nuint)length, 0) < 0)
        {
            throw new InvalidOperationException($"packet send: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static ushort Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        }
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    public void Dispose()
    {
        _ingest.Dispose();
        _ = Close(_fd);
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, ref byte address, int length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint Send(int fd, ref byte buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint IfNameToIndex(string name);
}
