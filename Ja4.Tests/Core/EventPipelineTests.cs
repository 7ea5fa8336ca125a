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
