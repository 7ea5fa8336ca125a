using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Correlation;
using static Ja4.Tests.Correlation.CorrelationTestData;

namespace Ja4.Tests.Correlation;

/// <summary>
/// Random interleavings on a small key space (so that port reuse, caps and timeouts all happen):
/// whatever the order, every request comes out exactly once, the caps hold, and a match never
/// crosses connections or the skew window.
/// </summary>
public sealed class ConnectionTableRandomTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Every_request_comes_out_once_and_the_invariants_hold(int seed)
    {
        var random = new Random(seed);
        var skew = TimeSpan.FromMilliseconds(random.Next(0, 2000));
        var options = new CorrelationOptions
        {
            HandshakeWait = TimeSpan.FromMilliseconds(random.Next(1, 5000)),
            IdleTimeout = TimeSpan.FromSeconds(random.Next(5, 60)),
            CloseGrace = TimeSpan.FromMilliseconds(random.Next(0, 10_000)),
            ClockSkew = skew,
            MaxConnections = random.Next(1, 40),
            MaxPendingRequests = random.Next(1, 200),
        };
        var table = new ConnectionTable(options, captureEnabled: true, new CorrelationMetrics(new Ja4Metrics()));
        var output = new List<CorrelatedRequest>();
        var now = T0;
        var sent = new HashSet<HttpRequest>(ReferenceEqualityComparer.Instance);
        for (var step = 0; step < 20_000; step++)
        {
            now = now.AddMilliseconds(random.Next(0, 50));
            var flow = Flow(clientPort: (ushort)random.Next(1, 60));
            // Event time near the processing time, in either direction.
            var t = now.AddMilliseconds(random.Next(-3000, 3000));
            switch (random.Next(10))
            {
                case 0 or 1:
                    table.AddHandshake(Hello(flow, t, transport: random.Next(20) == 0 ? Transport.Udp : Transport.Tcp), now, output);
                    break;
                case 2:
                    table.CloseConnection(Close(flow, t), now);
                    break;
                case 3:
                    table.Expire(now, output);
                    break;
                default:
                    var request = Request(flow, t, connectionId: random.Next(0, 4), keepAlive: random.Next(0, 3),
                        protocol: random.Next(3) == 0 ? "HTTP/2.0" : "HTTP/1.1", tls: random.Next(8) == 0 ? null : "TLSv1.3");
                    sent.Add(request);
                    table.AddRequest(request, now, output);
                    break;
            }
            Assert.InRange(table.Count, 0, options.MaxConnections);
            Assert.InRange(table.PendingCount, 0, options.MaxPendingRequests);
        }
        table.FlushPending(now, output);

        Assert.Equal(0, table.PendingCount);
        Assert.Equal(sent.Count, output.Count);
        Assert.Equal(sent.Count, output.Select(c => c.Request).Distinct(ReferenceEqualityComparer.Instance).Count());
        Assert.Contains(output, c => c.Status == MatchStatus.Matched);
        Assert.Contains(output, c => c.Status is MatchStatus.NoHandshakeSeen or MatchStatus.Evicted or MatchStatus.PendingOverflow);
        foreach (var c in output)
        {
            if (c.Status == MatchStatus.Matched)
            {
                Assert.NotNull(c.Handshake);
                Assert.Equal(c.Request.Flow, c.Handshake.Flow);
                Assert.Equal(Transport.Tcp, c.Handshake.Transport);
                Assert.True(c.Handshake.Timestamp - skew <= c.Request.Timestamp);
            }
            else
            {
                Assert.Null(c.Handshake);
                Assert.Equal(c.Request.TlsProtocol is null, c.Status == MatchStatus.PlainHttp);
            }
        }
    }
}
