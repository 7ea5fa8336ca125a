using System.Net.Sockets;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Dashboard;
using Ja4.Tests.Dashboard;
using Microsoft.Extensions.DependencyInjection;

namespace Ja4.Tests.EndToEnd;

/// <summary>The shared IpFilter applied at ingest: a denied client never enters the pipeline.</summary>
[Trait("Category", "EndToEnd")]
public sealed class IpFilterPipelineTests
{
    [Fact]
    public async Task Denied_clients_are_dropped_at_ingest_and_counted()
    {
        var socketPath = Path.Combine(Path.GetTempPath(), $"ja4-ipf-{Guid.NewGuid():N}.sock");
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:HttpIngest:Enabled"] = "true",
            ["Modules:HttpIngest:SocketPath"] = socketPath,
            ["Modules:HttpIngest:SocketGroup"] = "",
            ["Modules:Correlation:Enabled"] = "true",
            ["IpFilter:Deny:0"] = "203.0.113.0/24",
        });
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified))
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            await socket.SendAsync(LivePageTests.Record("/health", "probe/1.0", 40001, "203.0.113.9"));
            await socket.SendAsync(LivePageTests.Record("/page", "Mozilla/5.0", 40002, "198.51.100.20"));
        }
        var feed = daemon.Services.GetRequiredService<LiveFeed>();
        var metrics = daemon.Services.GetRequiredService<Ja4Metrics>();
        for (var i = 0; i < 200 && (feed.Total < 1 || metrics.Read("ja4_ipfilter_dropped_total", ("module", "HttpIngest")) is not 1); i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1, metrics.Read("ja4_ipfilter_dropped_total", ("module", "HttpIngest")));
        await Task.Delay(300);
        Assert.Equal(1, feed.Total);
        Assert.Equal("/page", feed.Latest(10).Single().Request.Path);
    }
}
