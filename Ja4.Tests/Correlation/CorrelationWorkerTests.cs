using System.Threading.Channels;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Correlation;
using Ja4.Modules.Correlation.Sinks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Ja4.Tests.Correlation.CorrelationTestData;

namespace Ja4.Tests.Correlation;

/// <summary>
/// The worker on a real <see cref="EventPipeline"/> with a fake clock. Waits below only guard
/// against a hang; nothing asserts on elapsed time.
/// </summary>
public sealed class CorrelationWorkerTests : IAsyncDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _clock = new(T0.AddSeconds(1));
    private readonly Ja4Metrics _metrics = new();
    private EventPipeline _pipeline = null!;
    private CorrelationWorker? _worker;

    private CorrelationWorker Start(IEnumerable<string> modules, IpFilter? filter = null, IReadOnlyList<ICorrelationSink>? sinks = null)
    {
        _pipeline = new EventPipeline(modules.ToHashSet(), new PipelineOptions(), _metrics);
        var options = new CorrelationOptions { HandshakeWait = TimeSpan.FromSeconds(3), DrainTimeout = TimeSpan.FromSeconds(5) };
        _worker = new CorrelationWorker(_pipeline, options, _clock, _metrics, filter ?? IpFilter.AllowAll,
            NullLogger<CorrelationWorker>.Instance, sinks ?? []);
        _worker.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        return _worker;
    }

    private static readonly string[] AllModules =
        [ModuleNames.Capture, ModuleNames.HttpIngest, ModuleNames.Correlation, ModuleNames.Storage];

    private ChannelReader<CorrelatedRequest> Stored => _pipeline.Reader<CorrelatedRequest>(Edges.Correlated)!;

    private static async Task Until(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(Guard);
        while (!condition())
        {
            await Task.Delay(5, cts.Token);
        }
    }

    [Fact]
    public async Task Joins_handshakes_and_requests_from_the_channels_and_publishes_to_storage_and_live_feed()
    {
        Start([.. AllModules, ModuleNames.Dashboard]);
        var flow = Flow();
        var hello = Hello(flow, T0);
        Assert.True(_pipeline.Outlet<TlsClientHello>(ModuleNames.Capture).TryPublish(hello));
        await Until(() => _worker!.Table.Count == 1);
        Assert.True(_pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest).TryPublish(Request(flow, T0.Ms(5))));

        var stored = await Stored.ReadAsync().AsTask().WaitAsync(Guard);
        var live = await _pipeline.Reader<CorrelatedRequest>(Edges.LiveFeed)!.ReadAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(MatchStatus.Matched, stored.Status);
        Assert.Same(hello, stored.Handshake);
        Assert.Same(stored, live);
    }

    [Fact]
    public async Task Request_without_handshake_goes_out_when_the_fake_clock_passes_the_wait()
    {
        Start(AllModules);
        _pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest).TryPublish(Request(Flow(), T0));
        await Until(() => _worker!.Table.PendingCount == 1);
        Assert.False(Stored.TryRead(out _));

        // The worker may arm its timer just before or just after an advance: keep advancing the
        // fake clock until the wait is over from its point of view.
        _clock.Advance(TimeSpan.FromSeconds(3));
        CorrelatedRequest? c;
        using (var guard = new CancellationTokenSource(Guard))
        {
            while (!Stored.TryRead(out c))
            {
                await Task.Delay(10, guard.Token);
                _clock.Advance(TimeSpan.FromMilliseconds(100));
            }
        }
        Assert.Equal(MatchStatus.NoHandshakeSeen, c.Status);
        Assert.True(c.CorrelatedAt >= T0.AddSeconds(4));
    }

    [Fact]
    public async Task Without_capture_every_tls_request_is_capture_disabled()
    {
        Start([ModuleNames.HttpIngest, ModuleNames.Correlation, ModuleNames.Storage]);
        _pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest).TryPublish(Request(Flow(), T0));
        _pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest).TryPublish(Request(Flow(clientPort: 2), T0, tls: null));
        var a = await Stored.ReadAsync().AsTask().WaitAsync(Guard);
        var b = await Stored.ReadAsync().AsTask().WaitAsync(Guard);
        Assert.Equal([MatchStatus.CaptureDisabled, MatchStatus.PlainHttp], new[] { a.Status, b.Status });
    }

    [Fact]
    public async Task When_inputs_complete_waiting_requests_are_flushed_and_the_outlets_completed()
    {
        Start(AllModules);
        var flow = Flow();
        _pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest).TryPublish(Request(flow, T0.Ms(1), path: "/waiting"));
        _pipeline.Outlet<TlsClientHello>(ModuleNames.Capture).TryPublish(Hello(Flow(clientPort: 2), T0));
        _pipeline.Complete(ModuleNames.Capture);
        _pipeline.Complete(ModuleNames.HttpIngest);

        var all = new List<CorrelatedRequest>();
        await foreach (var c in Stored.ReadAllAsync().WithCancellation(new CancellationTokenSource(Guard).Token))
        {
            all.Add(c);
        }
        var only = Assert.Single(all);
        Assert.Equal(("/waiting", MatchStatus.NoHandshakeSeen), (only.Request.Path, only.Status));
        await _worker!.ExecuteTask!.WaitAsync(Guard);
    }

    [Fact]
    public async Task Stop_drains_what_is_queued_and_completes_the_outlets()
    {
        Start(AllModules);
        var flow = Flow();
        // Queued while the worker may not have read them yet: stop must still handle them.
        _pipeline.Outlet<TlsClientHello>(ModuleNames.Capture).TryPublish(Hello(flow, T0));
        _pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest).TryPublish(Request(flow, T0.Ms(1), path: "/a"));
        _pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest).TryPublish(Request(Flow(clientPort: 3), T0.Ms(1), path: "/b"));
        await _worker!.StopAsync(CancellationToken.None).WaitAsync(Guard);

        var all = new List<CorrelatedRequest>();
        while (Stored.TryRead(out var c))
        {
            all.Add(c);
        }
        await Stored.Completion.WaitAsync(Guard);
        Assert.Equal([("/a", MatchStatus.Matched), ("/b", MatchStatus.NoHandshakeSeen)],
            all.Select(c => (c.Request.Path, c.Status)).OrderBy(x => x.Path));
    }

    [Fact]
    public async Task Ip_filter_drops_denied_clients_and_counts_them_per_module()
    {
        var filter = new IpFilter([], [CidrRange.Parse("10.0.0.0/8"), CidrRange.Parse("2001:db8::/32")], _metrics);
        Start(AllModules, filter);
        var denied = Flow("10.1.2.3");
        var deniedV6 = Flow("2001:db8::1");
        var deniedMapped = FlowKey.Create(System.Net.IPAddress.Parse("::ffff:10.9.9.9"), 1, Server, 443);
        var kept = Flow("198.51.100.1");
        var hs = _pipeline.Outlet<TlsClientHello>(ModuleNames.Capture);
        var rq = _pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest);
        hs.TryPublish(Hello(denied, T0));
        hs.TryPublish(Hello(kept, T0));
        rq.TryPublish(Request(denied, T0.Ms(1)));
        rq.TryPublish(Request(deniedV6, T0.Ms(1)));
        rq.TryPublish(Request(deniedMapped, T0.Ms(1)));
        rq.TryPublish(Request(kept, T0.Ms(1)));

        var c = await Stored.ReadAsync().AsTask().WaitAsync(Guard);
        Assert.Equal((kept, MatchStatus.Matched), (c.Request.Flow, c.Status));
        await Until(() => _metrics.Read("ja4_ipfilter_dropped_total", ("module", "Correlation")) == 4);
        Assert.Equal(1, _worker!.Table.Count);
        Assert.Equal(0, _worker.Table.PendingCount);
    }

    [Fact]
    public async Task Sinks_receive_every_record()
    {
        var stream = new MemoryStream();
        var sink = new StdoutSink(new NonClosingStream(stream));
        Start(AllModules, sinks: [sink]);
        var rq = _pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest);
        rq.TryPublish(Request(Flow(), T0, tls: null, path: "/one"));
        rq.TryPublish(Request(Flow(), T0, tls: null, path: "/two"));
        _pipeline.Complete(ModuleNames.Capture);
        _pipeline.Complete(ModuleNames.HttpIngest);
        await _worker!.ExecuteTask!.WaitAsync(Guard);

        var lines = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["/one", "/two"], lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("path").GetString()));
        Assert.Equal(2, _metrics.Read("ja4_correlation_sink_written_total", ("sink", "stdout")));
    }

    public async ValueTask DisposeAsync()
    {
        if (_worker is { } w)
        {
            _worker = null;
            await w.StopAsync(CancellationToken.None).WaitAsync(Guard);
            w.Dispose();
        }
    }

    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    }
}
