using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Correlation;
using static Ja4.Tests.Correlation.CorrelationTestData;

namespace Ja4.Tests.Correlation;

/// <summary>Recorded traffic joined with its own timestamps as the clock.</summary>
public sealed class RecordedJoinTests
{
    private static ConnectionTable Table(Ja4Metrics metrics) => new(new CorrelationOptions
    {
        HandshakeWait = TimeSpan.FromSeconds(3),
        ClockSkew = TimeSpan.FromSeconds(1),
        IdleTimeout = TimeSpan.FromMinutes(5),
        CloseGrace = TimeSpan.FromSeconds(10),
    }, captureEnabled: true, new CorrelationMetrics(metrics));

    [Fact]
    public void A_recorded_hour_is_joined_as_it_was_live()
    {
        var a = Flow(clientPort: 1000);
        var b = Flow(clientPort: 2000);
        var plain = Flow(clientPort: 3000, serverPort: 80);
        var hellos = new[]
        {
            Hello(a, T0, ja4: "a1"),
            Hello(b, T0.AddSeconds(1), ja4: "b1"),
            Hello(a, T0.AddMinutes(30), ja4: "a2"), // port reuse, half an hour later
        };
        var closes = new[] { Close(a, T0.AddSeconds(20)) };
        var requests = new[]
        {
            Request(a, T0.Ms(50), connectionId: 1, path: "/a1"),
            Request(b, T0.AddSeconds(1).Ms(50), connectionId: 2, path: "/b1"),
            Request(plain, T0.AddSeconds(2), tls: null, path: "/plain"),
            // b stays silent for longer than IdleTimeout: this request finds nothing any more.
            Request(b, T0.AddMinutes(10), connectionId: 2, keepAlive: 1, path: "/b-late"),
            Request(a, T0.AddMinutes(30).Ms(50), connectionId: 1, path: "/a2"),
            // The last request waits past the end of the input: flushed unmatched.
            Request(Flow(clientPort: 4000), T0.AddMinutes(31), path: "/never"),
        };
        var metrics = new Ja4Metrics();
        var results = new RecordedJoin(Table(metrics)).Run(hellos, closes, requests).ToList();

        Assert.Equal(
        [
            ("/a1", MatchStatus.Matched, "a1"),
            ("/b1", MatchStatus.Matched, "b1"),
            ("/plain", MatchStatus.PlainHttp, null),
            ("/b-late", MatchStatus.Evicted, null),
            ("/a2", MatchStatus.Matched, "a2"),
            ("/never", MatchStatus.NoHandshakeSeen, null),
        ], results.Select(c => (c.Request.Path, c.Status, c.Handshake?.Ja4)));
        // The clock was the recording's: /a1 was correlated at its own start time.
        Assert.Equal(T0.Ms(50), results[0].CorrelatedAt);
        Assert.Equal(1, metrics.Read("ja4_correlation_evictions_total", ("reason", "idle")));
    }

    [Fact]
    public void The_ip_filter_applies_to_recorded_traffic()
    {
        var metrics = new Ja4Metrics();
        var filter = new IpFilter([], [CidrRange.Parse("10.0.0.0/8")], metrics).For("Replay");
        var kept = Flow("198.51.100.1");
        var dropped = Flow("10.0.0.1");
        var results = new RecordedJoin(Table(metrics), filter).Run(
            [Hello(kept, T0), Hello(dropped, T0)], [Close(dropped, T0.AddSeconds(1))],
            [Request(kept, T0.Ms(1)), Request(dropped, T0.Ms(1))]).ToList();
        Assert.Equal(kept, Assert.Single(results).Request.Flow);
        Assert.Equal(2, metrics.Read("ja4_ipfilter_dropped_total", ("module", "Replay")));
    }
}
