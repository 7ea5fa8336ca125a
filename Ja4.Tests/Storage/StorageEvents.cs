using System.Net;
using Ja4.Modules.Core.Events;

namespace Ja4.Tests.Storage;

/// <summary>Events with every field set, for round trips through the store.</summary>
internal static class StorageEvents
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 20, 10, 15, 30, TimeSpan.Zero);

    public static TlsClientHello Hello(DateTimeOffset time, string clientIp = "192.0.2.10", ushort clientPort = 50123) => new(
        time.AddTicks(12_345_670),
        FlowKey.Create(IPAddress.Parse(clientIp), clientPort, IPAddress.Parse("198.51.100.7"), 443),
        Transport.Tcp,
        "shop.example",
        ["h2", "http/1.1"],
        "1.3",
        0x0303,
        "t13d1516h2_8daaf6152771_02713d6af862",
        "t13d1516h2_002f,0035,009c_0005,000a,000b",
        "t13d1516h2_acb858a92679_18f69afefd3d",
        "t13d1516h2_1301,1302_0000,0017",
        "cd08e31494f9531f560d64c695473da9",
        "771,4865-4866,0-23,29-23,0");

    public static CorrelatedRequest Request(long seq, DateTimeOffset time, string clientIp = "192.0.2.10", string host = "shop.example",
        string path = "/cart", int status = 200, string method = "GET", string userAgent = "Mozilla/5.0 (X11; Linux x86_64)",
        TlsClientHello? hello = null, MatchStatus match = MatchStatus.Matched) => new(
        new HttpRequest
        {
            Timestamp = time,
            Flow = FlowKey.Create(IPAddress.Parse(clientIp), 50123, IPAddress.Parse("198.51.100.7"), 443),
            Method = method,
            Path = path,
            Query = "q=1&x=%20",
            Protocol = "HTTP/2.0",
            Host = host,
            VirtualHost = "shop_vhost",
            Headers = [new("Host", host), new("User-Agent", userAgent), new("Accept", "*/*")],
            Status = status,
            BytesSent = 1234,
            DurationMicros = 5678,
            ConnectionId = seq,
            KeepAliveIndex = 2,
            TlsProtocol = "TLSv1.3",
            TlsCipher = "TLS_AES_128_GCM_SHA256",
            TlsSni = host,
            Truncated = false,
            HeaderSignature = "a1b2c3d4e5f6",
            HeaderSignatureRaw = "host,user-agent,accept",
        },
        match == MatchStatus.Matched ? hello ?? Hello(time) : null,
        match,
        time.AddMilliseconds(3));
}
