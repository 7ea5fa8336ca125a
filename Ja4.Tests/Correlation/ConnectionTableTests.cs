using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Correlation;
using Microsoft.Extensions.Time.Testing;
using static Ja4.Tests.Correlation.CorrelationTestData;

namespace Ja4.Tests.Correlation;

/// <summary>
/// The join engine on a fake clock. Capture and Apache timestamps are set by hand; the
/// processing clock only moves when a test advances it.
/// </summary>
public sealed class ConnectionTableTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _clock = new(T0.AddSeconds(1));
    private readonly Ja4Metrics _registry = new();
    private readonly List<CorrelatedRequest> _out = [];
    private CorrelationMetrics _metrics = null!;

    private ConnectionTable NewTable(int maxConnections = 1000, int maxPending = 1000, bool capture = true,
        TimeSpan? idle = null, TimeSpan? grace = null)
    {
        _metrics = new CorrelationMetrics(_registry);
        var options = new CorrelationOptions
        {
            HandshakeWait = Wait,
            ClockSkew = Skew,
            IdleTimeout = idle ?? TimeSpan.FromMinutes(5),
            CloseGrace = grace ?? TimeSpan.FromSeconds(10),
            MaxConnections = maxConnections,
            MaxPendingRequests = maxPending,
        };
        return new ConnectionTable(options, capture, _metrics);
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    [Fact]
    public void Handshake_before_request_matches_at_once()
    {
        var table = NewTable();
        var flow = Flow();
        var hello = Hello(flow, T0);
        table.AddHandshake(hello, Now, _out);
        table.AddRequest(Request(flow, T0.Ms(20)), Now, _out);

        var c = Assert.Single(_out);
        Assert.Equal(MatchStatus.Matched, c.Status);
        Assert.Same(hello, c.Handshake);
        Assert.Equal(Now, c.CorrelatedAt);
        Assert.Equal(0, table.PendingCount);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Request_before_handshake_waits_and_matches_when_it_arrives()
    {
        var table = NewTable();
        var flow = Flow();
        table.AddRequest(Request(flow, T0.Ms(20)), Now, _out);
        Assert.Empty(_out);
        Assert.Equal(1, table.PendingCount);

        _clock.Advance(TimeSpan.FromSeconds(2));
        table.Expire(Now, _out);
        Assert.Empty(_out);

        var hello = Hello(flow, T0);
        table.AddHandshake(hello, Now, _out);
        var c = Assert.Single(_out);
        Assert.Equal(MatchStatus.Matched, c.Status);
        Assert.Same(hello, c.Handshake);
        Assert.Equal(0, table.PendingCount);

        // Its timer must not fire again later.
        _clock.Advance(TimeSpan.FromMinutes(1));
        table.Expire(Now, _out);
        Assert.Single(_out);
    }

    [Fact]
    public void Handshake_arriving_at_the_last_tick_of_the_wait_still_matches()
    {
        var table = NewTable();
        var flow = Flow();
        table.AddRequest(Request(flow, T0.Ms(20)), Now, _out);
        _clock.Advance(Wait - TimeSpan.FromTicks(1));
        table.Expire(Now, _out);
        Assert.Empty(_out);
        table.AddHandshake(Hello(flow, T0), Now, _out);
        Assert.Equal(MatchStatus.Matched, Assert.Single(_out).Status);
    }

    [Fact]
    public void Request_that_never_finds_a_handshake_goes_out_after_the_wait()
    {
        var table = NewTable();
        var flow = Flow();
        table.AddHandshake(Hello(Flow(clientPort: 1), T0), Now, _out); // another connection
        table.AddRequest(Request(flow, T0.Ms(20)), Now, _out);
        Assert.Equal(Now + Wait, table.NextDeadline());

        _clock.Advance(Wait);
        table.Expire(Now, _out);
        var c = Assert.Single(_out);
        Assert.Equal(MatchStatus.NoHandshakeSeen, c.Status);
        Assert.Null(c.Handshake);
        Assert.Equal(0, table.PendingCount);
        Assert.Equal(1, _metrics.Emitted(MatchStatus.NoHandshakeSeen));

        // A handshake after the wait is too late for that request.
        table.AddHandshake(Hello(flow, T0), Now, _out);
        Assert.Single(_out);
    }

    [Fact]
    public void Plain_http_goes_out_at_once_without_waiting()
    {
        var table = NewTable();
        var flow = Flow(serverPort: 80);
        table.AddHandshake(Hello(flow, T0), Now, _out);
        table.AddRequest(Request(flow, T0.Ms(5), tls: null), Now, _out);
        var c = Assert.Single(_out);
        Assert.Equal(MatchStatus.PlainHttp, c.Status);
        Assert.Null(c.Handshake);
        Assert.Equal(0, table.PendingCount);
    }

    [Fact]
    public void Without_capture_tls_requests_are_capture_disabled_and_plain_ones_plain_http()
    {
        var table = NewTable(capture: false);
        table.AddRequest(Request(Flow(), T0), Now, _out);
        table.AddRequest(Request(Flow(clientPort: 2), T0, tls: null), Now, _out);
        Assert.Equal([MatchStatus.CaptureDisabled, MatchStatus.PlainHttp], _out.Select(c => c.Status));
        Assert.Equal(0, table.PendingCount);
    }

    [Fact]
    public void Hundred_requests_on_one_keep_alive_connection_all_get_its_handshake()
    {
        var table = NewTable();
        var flow = Flow();
        var hello = Hello(flow, T0);
        table.AddHandshake(hello, Now, _out);
        for (var i = 0; i < 100; i++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(50));
            table.AddRequest(Request(flow, T0.Ms(10 + 50 * i), connectionId: 42, keepAlive: i, path: $"/r{i}"), Now, _out);
        }
        Assert.Equal(100, _out.Count);
        Assert.All(_out, c =>
        {
            Assert.Equal(MatchStatus.Matched, c.Status);
            Assert.Same(hello, c.Handshake);
        });
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"/r{i}"), _out.Select(c => c.Request.Path));
        Assert.Equal(1, table.Count);
        Assert.Equal(1.0, _metrics.MatchRatio);
    }

    [Fact]
    public void Http2_streams_multiplexed_on_one_connection_share_its_handshake()
    {
        var table = NewTable();
        var flow = Flow();
        var hello = Hello(flow, T0);
        // Streams finish out of order and some are logged before capture reports the hello;
        // HTTP/2 secondary connections may carry their own ids and keep-alive index 0.
        for (var s = 0; s < 5; s++)
        {
            table.AddRequest(Request(flow, T0.Ms(30 - s), connectionId: 1000 + s, keepAlive: 0, protocol: "HTTP/2.0", path: $"/s{s}"), Now, _out);
        }
        Assert.Equal(5, table.PendingCount);
        table.AddHandshake(hello, Now, _out);
        for (var s = 5; s < 20; s++)
        {
            table.AddRequest(Request(flow, T0.Ms(30 + (s % 3)), connectionId: 1000 + s, keepAlive: 0, protocol: "HTTP/2.0", path: $"/s{s}"), Now, _out);
        }
        Assert.Equal(20, _out.Count);
        Assert.All(_out, c => Assert.Same(hello, c.Handshake));
        Assert.Equal(0, table.PendingCount);
        // Pending ones come out in arrival order.
        Assert.Equal(["/s0", "/s1", "/s2", "/s3", "/s4"], _out.Take(5).Select(c => c.Request.Path));
    }

    [Fact]
    public void Port_reuse_after_close_binds_each_request_to_its_own_connection()
    {
        var table = NewTable();
        var flow = Flow();
        var first = Hello(flow, T0, ja4: "first");
        var second = Hello(flow, T0.AddSeconds(30), ja4: "second");

        table.AddHandshake(first, Now, _out);
        table.AddRequest(Request(flow, T0.Ms(10), connectionId: 7, keepAlive: 0), Now, _out);
        table.CloseConnection(Close(flow, T0.AddSeconds(5)), Now);
        _clock.Advance(TimeSpan.FromSeconds(1));

        // The new connection's first request is logged before capture reports its hello; Apache
        // gave it the same connection id (ids are reused), but it is a second "first request".
        table.AddRequest(Request(flow, T0.AddSeconds(30).Ms(10), connectionId: 7, keepAlive: 0, path: "/new"), Now, _out);
        Assert.Equal(1, table.PendingCount);
        table.AddHandshake(second, Now, _out);
        // A late record of the old connection arrives after the new handshake.
        table.AddRequest(Request(flow, T0.AddSeconds(4), connectionId: 7, keepAlive: 1, path: "/old-late"), Now, _out);
        table.AddRequest(Request(flow, T0.AddSeconds(31), connectionId: 7, keepAlive: 1, path: "/new-2"), Now, _out);

        Assert.Equal(4, _out.Count);
        Assert.All(_out, c => Assert.Equal(MatchStatus.Matched, c.Status));
        Assert.Equal("first", _out[0].Handshake!.Ja4);
        Assert.Equal(("/new", "second"), (_out[1].Request.Path, _out[1].Handshake!.Ja4));
        Assert.Equal(("/old-late", "first"), (_out[2].Request.Path, _out[2].Handshake!.Ja4));
        Assert.Equal(("/new-2", "second"), (_out[3].Request.Path, _out[3].Handshake!.Ja4));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Port_reuse_without_a_seen_close_uses_connection_ids_and_keep_alive_index()
    {
        var table = NewTable();
        var flow = Flow();
        table.AddHandshake(Hello(flow, T0, ja4: "first"), Now, _out);
        table.AddRequest(Request(flow, T0.Ms(10), connectionId: 7, keepAlive: 0), Now, _out);
        // Within the skew of the first: timestamps alone could not separate them.
        table.AddHandshake(Hello(flow, T0.Ms(500), ja4: "second"), Now, _out);
        table.AddRequest(Request(flow, T0.Ms(400), connectionId: 7, keepAlive: 1, path: "/a"), Now, _out);
        table.AddRequest(Request(flow, T0.Ms(600), connectionId: 9, keepAlive: 0, path: "/b"), Now, _out);
        table.AddRequest(Request(flow, T0.Ms(700), connectionId: 9, keepAlive: 1, path: "/c"), Now, _out);

        Assert.Equal(["first", "first", "second", "second"], _out.Select(c => c.Handshake!.Ja4));
    }

    [Fact]
    public void Request_after_the_close_plus_skew_does_not_take_the_closed_connection()
    {
        var table = NewTable();
        var flow = Flow();
        var close = T0.AddSeconds(5);
        table.AddHandshake(Hello(flow, T0), Now, _out);
        table.CloseConnection(Close(flow, close, ConnectionEndReason.Rst), Now);

        table.AddRequest(Request(flow, close + Skew, keepAlive: 1, path: "/edge"), Now, _out);
        table.AddRequest(Request(flow, close + Skew + TimeSpan.FromTicks(1), connectionId: 2, path: "/beyond"), Now, _out);
        var matched = Assert.Single(_out);
        Assert.Equal(("/edge", MatchStatus.Matched), (matched.Request.Path, matched.Status));

        _clock.Advance(Wait);
        table.Expire(Now, _out);
        Assert.Equal(("/beyond", MatchStatus.NoHandshakeSeen), (_out[1].Request.Path, _out[1].Status));
    }

    [Fact]
    public void Clock_skew_at_the_start_of_the_window()
    {
        var table = NewTable();
        var flow = Flow();
        var start = T0.AddSeconds(10);
        table.AddHandshake(Hello(flow, start), Now, _out);
        // Apache's clock behind capture's by exactly the allowed skew: still this connection.
        table.AddRequest(Request(flow, start - Skew, path: "/edge"), Now, _out);
        // One tick further: it cannot be this connection's request.
        table.AddRequest(Request(flow, start - Skew - TimeSpan.FromTicks(1), connectionId: 2, path: "/before"), Now, _out);

        Assert.Equal(("/edge", MatchStatus.Matched), (_out[0].Request.Path, _out[0].Status));
        Assert.Single(_out);
        _clock.Advance(Wait);
        table.Expire(Now, _out);
        Assert.Equal(("/before", MatchStatus.NoHandshakeSeen), (_out[1].Request.Path, _out[1].Status));
    }

    [Fact]
    public void Closed_connection_stays_for_its_grace_then_is_removed()
    {
        var table = NewTable(grace: TimeSpan.FromSeconds(10));
        var flow = Flow();
        table.AddHandshake(Hello(flow, T0), Now, _out);
        table.CloseConnection(Close(flow, T0.AddSeconds(1)), Now);
        _clock.Advance(TimeSpan.FromSeconds(9));
        table.Expire(Now, _out);
        // Apache logs after the client's FIN: the record still finds its handshake.
        table.AddRequest(Request(flow, T0.Ms(900)), Now, _out);
        Assert.Equal(MatchStatus.Matched, Assert.Single(_out).Status);
        Assert.Equal(1, table.Count);

        _clock.Advance(TimeSpan.FromSeconds(1));
        table.Expire(Now, _out);
        Assert.Equal(0, table.Count);
        Assert.Equal(1, _registry.Read("ja4_correlation_evictions_total", ("reason", "closed")));

        // A straggler of that connection now reports the eviction.
        table.AddRequest(Request(flow, T0.Ms(950), keepAlive: 1), Now, _out);
        _clock.Advance(Wait);
        table.Expire(Now, _out);
        Assert.Equal(MatchStatus.Evicted, _out[1].Status);
    }

    [Fact]
    public void Idle_connection_is_evicted_after_the_idle_timeout_and_activity_extends_it()
    {
        var table = NewTable(idle: TimeSpan.FromSeconds(60));
        var flow = Flow();
        table.AddHandshake(Hello(flow, T0), Now, _out);
        _clock.Advance(TimeSpan.FromSeconds(50));
        table.AddRequest(Request(flow, T0.AddSeconds(50)), Now, _out);
        _clock.Advance(TimeSpan.FromSeconds(50));
        table.Expire(Now, _out);
        Assert.Equal(1, table.Count);
        _clock.Advance(TimeSpan.FromSeconds(10));
        table.Expire(Now, _out);
        Assert.Equal(0, table.Count);
        Assert.Equal(1, _registry.Read("ja4_correlation_evictions_total", ("reason", "idle")));
    }

    [Fact]
    public void Eviction_at_the_cap_removes_the_least_recently_used_and_counts_it()
    {
        var table = NewTable(maxConnections: 3);
        var flows = Enumerable.Range(1, 4).Select(i => Flow(clientPort: (ushort)i)).ToArray();
        table.AddHandshake(Hello(flows[0], T0), Now, _out);
        _clock.Advance(TimeSpan.FromSeconds(1));
        table.AddHandshake(Hello(flows[1], T0), Now, _out);
        _clock.Advance(TimeSpan.FromSeconds(1));
        table.AddHandshake(Hello(flows[2], T0), Now, _out);
        _clock.Advance(TimeSpan.FromSeconds(1));
        // Using flows[0] makes flows[1] the least recently used.
        table.AddRequest(Request(flows[0], T0.Ms(10)), Now, _out);
        table.AddHandshake(Hello(flows[3], T0), Now, _out);

        Assert.Equal(3, table.Count);
        Assert.Equal(1, _registry.Read("ja4_correlation_evictions_total", ("reason", "cap")));
        table.AddRequest(Request(flows[1], T0.Ms(10)), Now, _out);
        table.AddRequest(Request(flows[2], T0.Ms(10)), Now, _out);
        table.AddRequest(Request(flows[3], T0.Ms(10)), Now, _out);
        _clock.Advance(Wait);
        table.Expire(Now, _out);

        Assert.Equal(
            [(1, MatchStatus.Matched), (3, MatchStatus.Matched), (4, MatchStatus.Matched), (2, MatchStatus.Evicted)],
            _out.Select(c => ((int)c.Request.Flow.ClientPort, c.Status)));
    }

    [Fact]
    public void Closed_connections_are_evicted_before_open_ones_at_the_cap()
    {
        var table = NewTable(maxConnections: 2);
        var a = Flow(clientPort: 1);
        var b = Flow(clientPort: 2);
        table.AddHandshake(Hello(a, T0), Now, _out);
        table.AddHandshake(Hello(b, T0), Now, _out);
        table.CloseConnection(Close(b, T0.AddSeconds(1)), Now);
        table.AddHandshake(Hello(Flow(clientPort: 3), T0), Now, _out);
        table.AddRequest(Request(a, T0.Ms(1)), Now, _out);
        Assert.Equal(MatchStatus.Matched, Assert.Single(_out).Status);
    }

    [Fact]
    public void Pending_cap_pushes_the_oldest_request_out_as_pending_overflow()
    {
        var table = NewTable(maxPending: 2);
        for (ushort p = 1; p <= 3; p++)
        {
            table.AddRequest(Request(Flow(clientPort: p), T0), Now, _out);
        }
        var c = Assert.Single(_out);
        Assert.Equal((1, MatchStatus.PendingOverflow), (c.Request.Flow.ClientPort, c.Status));
        Assert.Equal(2, table.PendingCount);
        Assert.Equal(1, _registry.Read("ja4_correlation_pending_evictions_total"));
        // The pushed-out request no longer waits: its handshake matches nothing.
        table.AddHandshake(Hello(Flow(clientPort: 1), T0), Now, _out);
        Assert.Single(_out);
    }

    [Fact]
    public void Many_requests_waiting_on_one_connection_keep_their_order_through_partial_matches()
    {
        var table = NewTable(maxPending: 5000);
        var flow = Flow();
        // Ten early ones belong to an older connection whose handshake was never seen.
        for (var i = 0; i < 10; i++)
        {
            table.AddRequest(Request(flow, T0.AddSeconds(-10), connectionId: 1, keepAlive: i, path: $"/old{i}"), Now, _out);
        }
        for (var i = 0; i < 1000; i++)
        {
            table.AddRequest(Request(flow, T0.Ms(1), connectionId: 2, keepAlive: i, path: $"/new{i}"), Now, _out);
        }
        table.AddHandshake(Hello(flow, T0), Now, _out);
        Assert.Equal(1000, _out.Count);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"/new{i}"), _out.Select(c => c.Request.Path));
        Assert.Equal(10, table.PendingCount);
        table.AddRequest(Request(flow, T0.AddSeconds(-10), connectionId: 3, path: "/old-other"), Now, _out);

        _clock.Advance(Wait);
        table.Expire(Now, _out);
        Assert.Equal([.. Enumerable.Range(0, 10).Select(i => $"/old{i}"), "/old-other"], _out.Skip(1000).Select(c => c.Request.Path));
        Assert.All(_out.Skip(1000), c => Assert.Equal(MatchStatus.NoHandshakeSeen, c.Status));
        Assert.Equal(0, table.PendingCount);
    }

    [Fact]
    public void Quic_handshakes_are_not_tracked()
    {
        var table = NewTable();
        var flow = Flow();
        table.AddHandshake(Hello(flow, T0, transport: Transport.Udp), Now, _out);
        Assert.Equal(0, table.Count);
        Assert.Equal(1, _registry.Read("ja4_correlation_handshakes_ignored_total", ("reason", "quic")));
    }

    [Fact]
    public void Flush_sends_every_waiting_request_out_unmatched()
    {
        var table = NewTable();
        table.AddRequest(Request(Flow(clientPort: 1), T0), Now, _out);
        table.AddRequest(Request(Flow(clientPort: 2), T0), Now, _out);
        table.FlushPending(Now, _out);
        Assert.Equal([MatchStatus.NoHandshakeSeen, MatchStatus.NoHandshakeSeen], _out.Select(c => c.Status));
        Assert.Equal(0, table.PendingCount);
        Assert.Null(table.NextDeadline());
    }

    [Fact]
    public void Ipv4_mapped_request_addresses_find_ipv4_handshakes()
    {
        var table = NewTable();
        var v4 = Flow("203.0.113.5");
        // Built without FlowKey.Create, so the mapping is still there when the table sees it.
        var mapped = new FlowKey(System.Net.IPAddress.Parse("::ffff:203.0.113.5"), 50_000,
            System.Net.IPAddress.Parse("::ffff:192.0.2.10"), 443);
        table.AddRequest(Request(mapped, T0.Ms(1), path: "/early"), Now, _out);
        table.AddHandshake(Hello(v4, T0), Now, _out);
        table.AddRequest(Request(mapped, T0.Ms(2), keepAlive: 1, path: "/late"), Now, _out);
        table.CloseConnection(Close(mapped, T0.AddSeconds(1)), Now);
        Assert.Equal([("/early", MatchStatus.Matched), ("/late", MatchStatus.Matched)],
            _out.Select(c => (c.Request.Path, c.Status)));
        Assert.Equal(0, _registry.Read("ja4_correlation_closes_unknown_total"));
    }

    [Fact]
    public void Metrics_report_match_rate_sizes_and_lag()
    {
        var table = NewTable();
        _metrics.Track(_registry, table);
        var flow = Flow();
        table.AddHandshake(Hello(flow, T0), Now, _out);
        // Request started at T0+10ms and lasted 500 µs; it is correlated at T0+1s.
        table.AddRequest(Request(flow, T0.Ms(10)), Now, _out);
        table.AddRequest(Request(Flow(clientPort: 9), T0.Ms(10)), Now, _out);
        table.AddRequest(Request(Flow(clientPort: 10), T0.Ms(10), tls: null), Now, _out);

        Assert.Equal(1, _registry.Read("ja4_correlation_table_size"));
        Assert.Equal(1, _registry.Read("ja4_correlation_pending_size"));
        _clock.Advance(Wait);
        table.Expire(Now, _out);
        Assert.Equal(0.5, _registry.Read("ja4_correlation_match_ratio"));
        Assert.Equal(1, _registry.Read("ja4_correlation_requests_total", ("status", "matched")));
        Assert.Equal(1, _registry.Read("ja4_correlation_requests_total", ("status", "no_handshake_seen")));
        Assert.Equal(1, _registry.Read("ja4_correlation_requests_total", ("status", "plain_http")));
        Assert.Equal(3, _registry.Read("ja4_correlation_lag_samples_total"));
        // 1 s - 10 ms - 0.5 ms = 989,500 µs for the first two; the third is correlated 3 s later.
        Assert.Equal(989_500 + 989_500 + 3_989_500, _registry.Read("ja4_correlation_lag_microseconds_total"));
    }
}
