using System.Globalization;
using Ja4.Modules.Capture;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.HttpIngest;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using HttpRequest = Ja4.Modules.Core.Events.HttpRequest;

namespace Ja4.Host.Commands;

/// <summary>
/// <c>ja4 replay</c>: feeds a capture file and a file of Apache module records through the same
/// correlation and storage as live traffic, on a clock that follows the recorded timestamps.
/// </summary>
public sealed class ReplayCommand : ICommand
{
    /// <summary>Requests are logged when they end, so a file is sorted by start time within this window.</summary>
    internal static readonly TimeSpan ReorderWindow = TimeSpan.FromMinutes(2);

    /// <summary>Virtual time moves in steps of at most this much between waits for the pipeline to catch up.</summary>
    private static readonly TimeSpan ClockStep = TimeSpan.FromMilliseconds(50);

    public string Name => "replay";
    public string Summary => "analyse a recorded capture and request log after the fact";
    public string Help => """
        Usage: ja4 replay --pcap FILE [--http FILE.jsonl] [--config FILE] [--stdout]

        Reads the ClientHellos of a pcap/pcapng file and the mod_reqin_log records of a
        JSON-lines file, and runs them through correlation and storage exactly as live
        traffic, with their recorded timestamps: request/handshake windows and timeouts
        follow the recorded time, not the wall clock.

        Options:
          --pcap FILE     capture file (pcap or pcapng)
          --http FILE     request records, one JSON object per line (as the module sends them)
          --config FILE   configuration (default: appsettings.json); its Storage and
                          Correlation settings apply; capture, ingest, detection and the
                          dashboard are not started
          --stdout        also print every correlated request as a JSON line on stdout

        Prints a summary on stderr. Exit code 1 when a file cannot be read (after
        replaying what was read) or the store refuses the data.

        """;

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var reader = new ArgReader(args, ["--pcap", "--http", "--config"], ["--stdout"]);
        if (reader.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{reader.Positionals[0]}'");
        }
        var pcap = reader.Value("--pcap") ?? throw new UsageException("--pcap FILE is required");
        var http = reader.Value("--http");
        if (!File.Exists(pcap))
        {
            throw new CommandFailedException($"{pcap}: no such file");
        }
        if (http is not null && !File.Exists(http))
        {
            throw new CommandFailedException($"{http}: no such file");
        }

        var overrides = new Dictionary<string, string?>
        {
            ["Modules:Capture:Enabled"] = "false",
            ["Modules:HttpIngest:Enabled"] = "false",
            ["Modules:Detection:Enabled"] = "false",
            ["Modules:Dashboard:Enabled"] = "false",
            ["Modules:Correlation:Enabled"] = "true",
        };
        if (reader.Flag("--stdout"))
        {
            overrides["Modules:Correlation:Sinks:Stdout:Enabled"] = "true";
            // Stdout carries the records; logs stay on stderr or nowhere.
            overrides["Logging:Console:Format"] = "none";
        }
        var configuration = DaemonHost.LoadConfiguration(reader.Value("--config") ?? RunCommand.DefaultConfigPath(), overrides);

        var events = Merge(ReadHellos(pcap), http is null ? [] : ReadRequests(http));
        using var enumerator = events.GetEnumerator();
        // The clock starts at the first recorded event.
        var first = enumerator.MoveNext() ? enumerator.Current : null;
        var clock = new FakeTimeProvider(first?.Timestamp ?? DateTimeOffset.UtcNow);
        using var host = DaemonHost.BuildReplay(configuration, clock);
        try
        {
            DaemonHost.ValidateOptions(host.Services);
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CommandFailedException(string.Join("; ", DaemonHost.Explain(e)));
        }

        var pipeline = host.Services.GetRequiredService<EventPipeline>();
        var hellos = pipeline.Outlet<TlsClientHello>(ModuleNames.Capture);
        var requests = pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest);
        var correlation = host.Services.GetRequiredService<IOptions<Ja4.Modules.Correlation.CorrelationOptions>>().Value;
        var summary = new ReplaySummary();
        string? failure = null;
        try
        {
            for (var item = first; item is not null; item = enumerator.MoveNext() ? enumerator.Current : null)
            {
                await AdvanceAsync(clock, pipeline, item.Timestamp, cancellationToken);
                switch (item)
                {
                    case HelloItem h:
                        summary.Hellos++;
                        await hellos.PublishAsync(h.Hello, cancellationToken);
                        break;
                    case RequestItem r:
                        summary.Requests++;
                        await requests.PublishAsync(r.Request, cancellationToken);
                        break;
                    case InvalidLineItem bad:
                        summary.InvalidLines++;
                        if (summary.InvalidLines <= 5)
                        {
                            Console.Error.WriteLine($"ja4 replay: {http}:{bad.Line.LineNumber}: {bad.Line.Error}");
                        }
                        break;
                }
            }
        }
        catch (ReplayReadException e)
        {
            failure = e.Message;
        }

        // Let the last requests time out waiting for a handshake, then drain and stop.
        await AdvanceAsync(clock, pipeline, clock.GetUtcNow() + correlation.HandshakeWait + correlation.ClockSkew + ClockStep,
            cancellationToken);
        pipeline.Complete(ModuleNames.Capture);
        pipeline.Complete(ModuleNames.HttpIngest);
        await WaitDrainedAsync(pipeline, cancellationToken);
        await host.StopAsync(CancellationToken.None);

        summary.Print(host.Services.GetRequiredService<Ja4Metrics>(), Console.Error);
        if (failure is not null)
        {
            throw new CommandFailedException(failure);
        }
        return Cli.Ok;
    }

    /// <summary>
    /// Moves virtual time to <paramref name="target"/> in small steps, each after the pipeline has
    /// taken in what was published, so that correlation sees events at their own time.
    /// </summary>
    private static async Task AdvanceAsync(FakeTimeProvider clock, EventPipeline pipeline, DateTimeOffset target,
        CancellationToken cancellationToken)
    {
        while (clock.GetUtcNow() < target)
        {
            await WaitDrainedAsync(pipeline, cancellationToken);
            var step = target - clock.GetUtcNow();
            clock.Advance(step > ClockStep ? ClockStep : step);
            if (target - clock.GetUtcNow() > TimeSpan.FromSeconds(30))
            {
                // A quiet stretch: skip it in one step once nothing is queued.
                await WaitDrainedAsync(pipeline, cancellationToken);
                clock.Advance(target - clock.GetUtcNow() - ClockStep);
            }
        }
    }

    private static async Task WaitDrainedAsync(EventPipeline pipeline, CancellationToken cancellationToken)
    {
        string[] inputs = [Edges.Handshakes.Name, Edges.HttpRequests.Name, Edges.Connections.Name];
        while (inputs.Any(e => pipeline.Depth(e) > 0))
        {
            await Task.Delay(1, cancellationToken);
        }
        // One more turn for the item a consumer has read but not yet handled.
        await Task.Yield();
    }

    private abstract record ReplayItem(DateTimeOffset Timestamp);
    private sealed record HelloItem(TlsClientHello Hello) : ReplayItem(Hello.Timestamp);
    private sealed record RequestItem(HttpRequest Request) : ReplayItem(Request.Timestamp);
    private sealed record InvalidLineItem(ReqinLine Line, DateTimeOffset At) : ReplayItem(At);

    private sealed class ReplayReadException(string message) : Exception(message);

    private static IEnumerable<ReplayItem> ReadHellos(string path)
    {
        using var file = new CaptureFileReader(path);
        using var e = file.ReadEvents().GetEnumerator();
        while (true)
        {
            try
            {
                if (!e.MoveNext())
                {
                    yield break;
                }
            }
            catch (CaptureFileException ex)
            {
                throw new ReplayReadException(ex.Message);
            }
            yield return new HelloItem(e.Current);
        }
    }

    /// <summary>Records in start-time order, sorted within <see cref="ReorderWindow"/>.</summary>
    private static IEnumerable<ReplayItem> ReadRequests(string path)
    {
        using var stream = File.OpenRead(path);
        var parser = new ReqinRecordParser();
        var pending = new PriorityQueue<ReplayItem, (DateTimeOffset, long)>();
        var newest = DateTimeOffset.MinValue;
        long seq = 0;
        foreach (var line in ReqinJsonLines.Read(stream, parser))
        {
            ReplayItem item = line.Request is { } r
                ? new RequestItem(r)
                : new InvalidLineItem(line, newest == DateTimeOffset.MinValue ? DateTimeOffset.UnixEpoch : newest);
            if (item.Timestamp > newest)
            {
                newest = item.Timestamp;
            }
            pending.Enqueue(item, (item.Timestamp, seq++));
            while (pending.TryPeek(out var oldest, out _) && newest - oldest.Timestamp > ReorderWindow)
            {
                yield return pending.Dequeue();
            }
        }
        while (pending.TryDequeue(out var rest, out _))
        {
            yield return rest;
        }
    }

    /// <summary>Two time-ordered streams into one; on equal times the handshake comes first.</summary>
    private static IEnumerable<ReplayItem> Merge(IEnumerable<ReplayItem> a, IEnumerable<ReplayItem> b)
    {
        using var ea = a.GetEnumerator();
        using var eb = b.GetEnumerator();
        bool ha = ea.MoveNext(), hb = eb.MoveNext();
        while (ha || hb)
        {
            if (ha && (!hb || ea.Current.Timestamp <= eb.Current.Timestamp))
            {
                yield return ea.Current;
                ha = ea.MoveNext();
            }
            else
            {
                yield return eb.Current;
                hb = eb.MoveNext();
            }
        }
    }

    private sealed class ReplaySummary
    {
        public long Hellos;
        public long Requests;
        public long InvalidLines;

        public void Print(Ja4Metrics metrics, TextWriter o)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"replayed {Hellos} handshakes, {Requests} requests ({InvalidLines} invalid lines)"));
            foreach (var (name, labels, value) in metrics.Snapshot())
            {
                if (name == "ja4_correlation_requests_total" && value > 0)
                {
                    o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {labels,-40} {value}"));
                }
            }
            var dropped = metrics.Snapshot().Where(m => m.Name == "ja4_channel_dropped_total").Sum(m => m.Value);
            if (dropped > 0)
            {
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  dropped in channels: {dropped}"));
            }
        }
    }
}
