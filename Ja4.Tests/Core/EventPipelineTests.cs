using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;

namespace Ja4.Tests.Core;

public sealed class EventPipelineTests
{
    private static EventPipeline Create(IEnumerable<string> modules, int capacity = 16, EdgeFullMode? mode = null)
    {
        var options = new PipelineOptions();
        foreach (var e in Edges.All)
        {
            options.Channels[e.Name] = new ChannelOptions { Capacity = capacity, FullMode = mode };
        }
        return new EventPipeline(modules.ToHashSet(), options, Metrics);
    }

    private static readonly Ja4Metrics Metrics = new();

    [Fact]
    public void Detection_feed_exists_only_while_storage_is_off()
    {
        var memoryOnly = Create([ModuleNames.Correlation, ModuleNames.Detection]);
        Assert.True(memoryOnly.IsActive(Edges.DetectionFeed));
        Assert.True(memoryOnly.Outlet<Ja4.Modules.Core.Events.CorrelatedRequest>(ModuleNames.Correlation).HasConsumers);

        // With storage on, detection reads http_logs: correlation queues nothing for it.
        var stored = Create([ModuleNames.Correlation, ModuleNames.Detection, ModuleNames.Storage]);
        Assert.False(stored.IsActive(Edges.DetectionFeed));
        Assert.Null(stored.Reader<Ja4.Modules.Core.Events.CorrelatedRequest>(Edges.DetectionFeed));
        Assert.Equal(new[] { "Correlated" }, stored.ActiveEdges.Where(e => e is "Correlated" or "DetectionFeed"));
    }

    [Fact]
    public void Edge_exists_only_when_both_ends_are_enabled()
    {
        var p = Create([ModuleNames.Capture, ModuleNames.Storage]);
        Assert.Equal(new[] { "HandshakeRecords" }, p.ActiveEdges);
        Assert.Null(p.Reader<Ja4.Modules.Core.Events.TlsClientHello>(Edges.Handshakes));
        Assert.NotNull(p.Reader<Ja4.Modules.Core.Events.TlsClientHello>(Edges.HandshakeRecords));
        Assert.False(p.Outlet<Ja4.Modules.Core.Events.ConnectionClosed>(ModuleNames.Capture).HasConsumers);
    }

    [Fact]
    public void Full_drop_edge_never_blocks_and_counts_each_drop()
    {
        var metrics = new Ja4Metrics();
        var options = new PipelineOptions();
        options.Channels["HttpRequests"] = new ChannelOptions { Capacity = 16 };
        var p = new EventPipeline(new HashSet<string> { ModuleNames.HttpIngest, ModuleNames.Correlation }, options, metrics);
        var outlet = p.Outlet<string>(ModuleNames.HttpIngest);
        Assert.False(outlet.HasConsumers); // wrong event type: no edge carries strings

        var requests = p.Outlet<Ja4.Modules.Core.Events.HttpRequest>(ModuleNames.HttpIngest);
        var accepted = 0;
        for (var i = 0; i < 40; i++)
        {
            if (requests.TryPublish(SampleRequest(i)))
            {
                accepted++;
            }
        }
        Assert.Equal(16, accepted);
        Assert.Equal(24, metrics.Read("ja4_channel_dropped_total", ("channel", "HttpRequests")));
        Assert.Equal(16, metrics.Read("ja4_channel_depth", ("channel", "HttpRequests")));
    }

    [Fact]
    public async Task Wait_edge_applies_back_pressure_until_the_consumer_reads()
    {
        var p = Create([ModuleNames.Correlation, ModuleNames.Storage, ModuleNames.Capture], capacity: 16, mode: EdgeFullMode.Wait);
        var outlet = p.Outlet<Ja4.Modules.Core.Events.CorrelatedRequest>(ModuleNames.Correlation);
        var reader = p.Reader<Ja4.Modules.Core.Events.CorrelatedRequest>(Edges.Correlated)!;
        for (var i = 0; i < 16; i++)
        {
            await outlet.PublishAsync(Correlated(i), CancellationToken.None);
        }
        var blocked = outlet.PublishAsync(Correlated(16), CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(blocked.IsCompleted);
        Assert.True(reader.TryRead(out var first));
        Assert.Equal("/0", first.Request.Path);
        await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(16, reader.Count);
    }

    [Fact]
    public async Task Completing_a_producer_lets_consumers_drain_then_finish()
    {
        var p = Create([ModuleNames.Capture, ModuleNames.Correlation, ModuleNames.Storage]);
        var outlet = p.Outlet<Ja4.Modules.Core.Events.CorrelatedRequest>(ModuleNames.Correlation);
        await outlet.PublishAsync(Correlated(1), CancellationToken.None);
        await outlet.PublishAsync(Correlated(2), CancellationToken.None);
        p.Complete(ModuleNames.Correlation);
        var reader = p.Reader<Ja4.Modules.Core.Events.CorrelatedRequest>(Edges.Correlated)!;
        var drained = new List<string>();
        await foreach (var item in reader.ReadAllAsync())
        {
            drained.Add(item.Request.Path);
        }
        Assert.Equal(new[] { "/1", "/2" }, drained);
        // Capture's edges are untouched by correlation completing.
        Assert.False(p.Reader<Ja4.Modules.Core.Events.TlsClientHello>(Edges.Handshakes)!.Completion.IsCompleted);
    }

    [Fact]
    public void Fan_out_delivers_a_handshake_to_correlation_and_storage()
    {
        var p = Create([ModuleNames.Capture, ModuleNames.Correlation, ModuleNames.Storage]);
        var hello = new Ja4.Modules.Core.Events.TlsClientHello(DateTimeOffset.UnixEpoch,
            Ja4.Modules.Core.Events.FlowKey.Create(System.Net.IPAddress.Loopback, 1, System.Net.IPAddress.Loopback, 443),
            Ja4.Modules.Core.Events.Transport.Tcp, null, [], "1.3", 0x0303, "a", "b", "c", "d", "e", "f");
        Assert.True(p.Outlet<Ja4.Modules.Core.Events.TlsClientHello>(ModuleNames.Capture).TryPublish(hello));
        Assert.True(p.Reader<Ja4.Modules.Core.Events.TlsClientHello>(Edges.Handshakes)!.TryRead(out var a));
        Assert.True(p.Reader<Ja4.Modules.Core.Events.TlsClientHello>(Edges.HandshakeRecords)!.TryRead(out var b));
        Assert.Same(hello, a);
        Assert.Same(hello, b);
    }

    /// <summary>A request carrying one header whose value is <paramref name="chars"/> characters long.</summary>
    private static Ja4.Modules.Core.Events.HttpRequest HugeRequest(int i, int chars) =>
        SampleRequest(i) with { Headers = [new("X-Padding", new string('a', chars))] };

    private static EventPipeline BudgetPipeline(Ja4Metrics metrics, string edge, int maxMb, int capacity = 1024,
        EdgeFullMode? mode = null, params string[] modules)
    {
        var options = new PipelineOptions();
        options.Channels[edge] = new ChannelOptions { Capacity = capacity, MaxMb = maxMb, FullMode = mode };
        return new EventPipeline(modules.ToHashSet(), options, metrics);
    }

    /// <summary>HttpIngest → Correlation with room for 1,024 requests or 1 MiB of them.</summary>
    private static (EventOutlet<Ja4.Modules.Core.Events.HttpRequest> Outlet,
        System.Threading.Channels.ChannelReader<Ja4.Modules.Core.Events.HttpRequest> Reader) RequestsWithOneMiB(Ja4Metrics metrics)
    {
        var p = BudgetPipeline(metrics, "HttpRequests", maxMb: 1, capacity: 1024, mode: null,
            ModuleNames.HttpIngest, ModuleNames.Correlation);
        return (p.Outlet<Ja4.Modules.Core.Events.HttpRequest>(ModuleNames.HttpIngest),
            p.Reader<Ja4.Modules.Core.Events.HttpRequest>(Edges.HttpRequests)!);
    }

    [Fact]
    public void Estimated_size_grows_with_what_the_client_sent()
    {
        // A string of n characters is at least 2n bytes in memory (UTF-16); the estimate counts each string once.
        var small = SampleRequest(1).ApproximateBytes;
        Assert.InRange(small, 200, 2_000);
        var huge = HugeRequest(1, 100_000).ApproximateBytes;
        Assert.InRange(huge - small, 200_000, 200_000 + 200);
        var hello = new Ja4.Modules.Core.Events.TlsClientHello(DateTimeOffset.UnixEpoch,
            Ja4.Modules.Core.Events.FlowKey.Create(System.Net.IPAddress.Loopback, 1, System.Net.IPAddress.Loopback, 443),
            Ja4.Modules.Core.Events.Transport.Tcp, new string('s', 50_000), ["h2"], "1.3", 0x0303, "a", "b", "c", "d", "e", "f");
        Assert.InRange(hello.ApproximateBytes, 100_000, 102_000);
        var joined = new Ja4.Modules.Core.Events.CorrelatedRequest(HugeRequest(1, 100_000), hello,
            Ja4.Modules.Core.Events.MatchStatus.Matched, DateTimeOffset.UnixEpoch);
        Assert.InRange(joined.ApproximateBytes, huge + hello.ApproximateBytes, huge + hello.ApproximateBytes + 100);
    }

    [Fact]
    public void Byte_budget_drops_huge_requests_long_before_the_event_count_is_reached()
    {
        var metrics = new Ja4Metrics();
        var (outlet, reader) = RequestsWithOneMiB(metrics);
        // Each request holds ~400 KB (200,000 UTF-16 characters): two fit in 1 MiB, the third does not.
        var accepted = Enumerable.Range(0, 10).Count(i => outlet.TryPublish(HugeRequest(i, 200_000)));
        Assert.Equal(2, accepted);
        Assert.Equal(8, metrics.Read("ja4_channel_dropped_total", ("channel", "HttpRequests")));
        Assert.InRange(metrics.Read("ja4_channel_bytes", ("channel", "HttpRequests"))!.Value, 800_000, 1 << 20);
        Assert.Equal(1 << 20, metrics.Read("ja4_channel_max_bytes", ("channel", "HttpRequests")));

        // Reading one gives its bytes back: one more fits.
        Assert.True(reader.TryRead(out var first));
        Assert.Equal("/0", first.Path);
        Assert.True(outlet.TryPublish(HugeRequest(10, 200_000)));
        Assert.False(outlet.TryPublish(HugeRequest(11, 200_000)));
        var drained = 0;
        while (reader.TryRead(out _))
        {
            drained++;
        }
        Assert.Equal(2, drained);
        Assert.Equal(0, metrics.Read("ja4_channel_bytes", ("channel", "HttpRequests")));
        // Small requests are bounded by the count again.
        Assert.Equal(1024, Enumerable.Range(0, 2000).Count(i => outlet.TryPublish(SampleRequest(i))));
    }

    [Fact]
    public void An_event_larger_than_the_whole_budget_passes_alone()
    {
        var metrics = new Ja4Metrics();
        var (outlet, reader) = RequestsWithOneMiB(metrics);
        Assert.True(outlet.TryPublish(HugeRequest(0, 1_000_000))); // ~2 MB into an empty channel
        Assert.False(outlet.TryPublish(SampleRequest(1)));         // nothing else until it is read
        Assert.True(reader.TryRead(out _));
        Assert.True(outlet.TryPublish(SampleRequest(2)));
    }

    [Fact]
    public async Task Byte_budget_of_a_wait_edge_holds_the_producer_until_the_consumer_reads()
    {
        var metrics = new Ja4Metrics();
        var p = BudgetPipeline(metrics, "Correlated", maxMb: 1, capacity: 1024, mode: EdgeFullMode.Wait,
            ModuleNames.Correlation, ModuleNames.Storage, ModuleNames.HttpIngest);
        var outlet = p.Outlet<Ja4.Modules.Core.Events.CorrelatedRequest>(ModuleNames.Correlation);
        var reader = p.Reader<Ja4.Modules.Core.Events.CorrelatedRequest>(Edges.Correlated)!;
        Ja4.Modules.Core.Events.CorrelatedRequest Huge(int i) =>
            new(HugeRequest(i, 200_000), null, Ja4.Modules.Core.Events.MatchStatus.PlainHttp, DateTimeOffset.UnixEpoch);
        await outlet.PublishAsync(Huge(0), CancellationToken.None);
        await outlet.PublishAsync(Huge(1), CancellationToken.None);
        var blocked = outlet.PublishAsync(Huge(2), CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(blocked.IsCompleted);
        Assert.Equal(2, reader.Count);

        Assert.True(reader.TryRead(out var first));
        Assert.Equal("/0", first.Request.Path);
        await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new[] { "/1", "/2" }, new[] { Next(reader), Next(reader) });

        // A producer waiting for bytes when the channel is completed gives up: the event is counted as dropped.
        await outlet.PublishAsync(Huge(3), CancellationToken.None);
        await outlet.PublishAsync(Huge(4), CancellationToken.None);
        var waiting = outlet.PublishAsync(Huge(5), CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        p.Complete(ModuleNames.Correlation);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, metrics.Read("ja4_channel_dropped_total", ("channel", "Correlated")));
        Assert.Equal(5, metrics.Read("ja4_channel_written_total", ("channel", "Correlated")));

        static string Next(System.Threading.Channels.ChannelReader<Ja4.Modules.Core.Events.CorrelatedRequest> r) =>
            r.TryRead(out var c) ? c.Request.Path : "none";
    }

    [Fact]
    public void Events_that_do_not_know_their_size_are_bounded_by_count_only()
    {
        var metrics = new Ja4Metrics();
        var p = BudgetPipeline(metrics, "Connections", maxMb: 1, capacity: 16, mode: null,
            ModuleNames.Capture, ModuleNames.Correlation);
        var outlet = p.Outlet<Ja4.Modules.Core.Events.ConnectionClosed>(ModuleNames.Capture);
        var flow = Ja4.Modules.Core.Events.FlowKey.Create(System.Net.IPAddress.Loopback, 1, System.Net.IPAddress.Loopback, 443);
        Assert.Equal(16, Enumerable.Range(0, 40).Count(_ => outlet.TryPublish(
            new Ja4.Modules.Core.Events.ConnectionClosed(DateTimeOffset.UnixEpoch, flow, Ja4.Modules.Core.Events.ConnectionEndReason.Fin))));
        Assert.Null(metrics.Read("ja4_channel_bytes", ("channel", "Connections")));
    }

    internal static Ja4.Modules.Core.Events.HttpRequest SampleRequest(int i) => new()
    {
        Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(i),
        Flow = Ja4.Modules.Core.Events.FlowKey.Create(System.Net.IPAddress.Loopback, (ushort)(40000 + i), System.Net.IPAddress.Loopback, 443),
        Method = "GET",
        Path = "/" + i,
        Protocol = "HTTP/1.1",
        Headers = [],
        Status = 200,
    };

    private static Ja4.Modules.Core.Events.CorrelatedRequest Correlated(int i) =>
        new(SampleRequest(i), null, Ja4.Modules.Core.Events.MatchStatus.PlainHttp, DateTimeOffset.UnixEpoch);
}
