using System.Net;
using Ja4.Modules.Core.Events;

namespace Ja4.Tests.Correlation;

/// <summary>Builders for the events the correlation module consumes.</summary>
internal static class CorrelationTestData
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    public static readonly IPAddress Server = IPAddress.Parse("192.0.2.10");

    public static FlowKey Flow(string client = "198.51.100.7", ushort clientPort = 50_000, ushort serverPort = 443) =>
        FlowKey.Create(IPAddress.Parse(client), clientPort, Server, serverPort);

    public static TlsClientHello Hello(FlowKey flow, DateTimeOffset at, string ja4 = "t13d1516h2_8daaf6152771_d8a2da3f94cd",
        Transport transport = Transport.Tcp) =>
        new(at, flow, transport, "example.test", ["h2", "http/1.1"], "1.3", 0x0303, ja4,
            ja4 + "_r", ja4 + "_o", ja4 + "_ro", "e7d705a3286e19ea42f587b344ee6865", "771,4865-4866,0-23,29-23,0");

    public static HttpRequest Request(FlowKey flow, DateTimeOffset at, long connectionId = 1, int keepAlive = 0,
        string protocol = "HTTP/1.1", string? tls = "TLSv1.3", string path = "/index.html") =>
        new()
        {
            Timestamp = at,
            Flow = flow,
            Method = "GET",
            Path = path,
            Protocol = protocol,
            Host = "example.test",
            Headers = [new("Host", "example.test"), new("User-Agent", "curl/8.0")],
            Status = 200,
            ConnectionId = connectionId,
            KeepAliveIndex = keepAlive,
            TlsProtocol = tls,
            TlsCipher = tls is null ? null : "TLS_AES_128_GCM_SHA256",
            DurationMicros = 500,
        };

    public static ConnectionClosed Close(FlowKey flow, DateTimeOffset at, ConnectionEndReason reason = ConnectionEndReason.Fin) =>
        new(at, flow, reason);

    public static DateTimeOffset Ms(this DateTimeOffset t, double ms) => t.AddTicks((long)(ms * TimeSpan.TicksPerMillisecond));
}
