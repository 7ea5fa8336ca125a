using System.Net.Sockets;
using System.Runtime.Versioning;
using Ja4.Host;
using Ja4.Modules.HttpIngest;
using Ja4.Tests.EndToEnd;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ja4.Tests.HttpIngest;

[SupportedOSPlatform("linux")]
public sealed class HttpIngestModuleTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ja4-ingest-host-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static IConfiguration Config(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    [Fact]
    public void Disabled_registers_nothing()
    {
        var services = new ServiceCollection();
        services.AddHttpIngestModule(Config(("Modules:HttpIngest:Enabled", "false")));
        Assert.Empty(services);
        services.AddHttpIngestModule(Config());
        Assert.Empty(services);
    }

    [Fact]
    public void Enabled_registers_the_listener()
    {
        var services = new ServiceCollection();
        services.AddHttpIngestModule(Config(("Modules:HttpIngest:Enabled", "true")));
        Assert.Contains(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(ReqinSocketListener));
    }

    [Fact]
    public void Defaults()
    {
        var o = new HttpIngestOptions();
        Assert.Equal("/run/ja4/reqin.sock", o.SocketPath);
        Assert.Equal("www-data", o.SocketGroup);
        Assert.Equal("0660", o.SocketMode);
        Assert.Equal(262_144, o.MaxRecordBytes);
        Assert.Equal((UnixFileMode)0b110_110_000, HttpIngestOptions.ParseMode(o.SocketMode));
    }

    [Theory]
    [InlineData("0660", 0b110_110_000)]
    [InlineData("660", 0b110_110_000)]
    [InlineData("0600", 0b110_000_000)]
    [InlineData("0777", 0b111_111_111)]
    [InlineData("0", 0)]
    [InlineData("0680", -1)]
    [InlineData("rw-rw----", -1)]
    [InlineData("", -1)]
    [InlineData("07777", -1)]
    public void Socket_mode_is_octal(string text, int expected) =>
        Assert.Equal(expected < 0 ? null : (UnixFileMode)expected, HttpIngestOptions.ParseMode(text));

    [Fact]
    public async Task Bad_options_stop_the_daemon_with_one_line_per_key()
    {
        var config = Path.Combine(_root, "bad.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Modules": {
                "HttpIngest": {
                  "Enabled": true,
                  "SocketPath": "/{{new string('a', 120)}}/reqin.sock",
                  "SocketMode": "0999",
                  "MaxRecordBytes": 32768,
                  "InvalidLogInterval": "-00:00:01"
                },
                "Correlation": { "Enabled": true }
              },
              "Operations": { "Urls": "http://127.0.0.1:{{ApacheFixture.FreePorts(1)[0]}}" },
              "Logging": { "Console": { "Format": "none" } }
            }
            """);
        await using var app = DaemonHost.Build(DaemonHost.LoadConfiguration(config));
        var e = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());
        var lines = DaemonHost.Explain(e);
        Assert.Contains(lines, l => l.Contains("Modules:HttpIngest:SocketPath", StringComparison.Ordinal) && l.Contains("longer than", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Modules:HttpIngest:SocketMode '0999'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("MaxRecordBytes", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Modules:HttpIngest:InvalidLogInterval", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_daemon_listens_counts_records_in_metrics_and_removes_its_socket_on_exit()
    {
        var socket = Path.Combine(_root, "run", "reqin.sock");
        var port = ApacheFixture.FreePorts(1)[0];
        var config = Path.Combine(_root, "ok.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Modules": {
                "HttpIngest": { "Enabled": true, "SocketPath": "{{socket}}" },
                "Correlation": { "Enabled": true }
              },
              "Operations": { "Urls": "http://127.0.0.1:{{port}}" },
              "Logging": { "Console": { "Format": "none" } }
            }
            """);
        var app = DaemonHost.Build(DaemonHost.LoadConfiguration(config));
        await app.StartAsync();
        try
        {
            using (var s = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified))
            {
                s.Connect(new UnixDomainSocketEndPoint(socket));
                s.Send(ReqinSocketListenerTests.ValidRecord("via-daemon"));
                s.Send("garbage"u8);
            }
            using var http = new HttpClient();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            string metrics;
            do
            {
                await Task.Delay(50);
                metrics = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            }
            while (!metrics.Contains("ja4_httpingest_records_total 1", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
            Assert.Contains("ja4_httpingest_records_total 1", metrics, StringComparison.Ordinal);
            Assert.Contains("ja4_httpingest_invalid_total{reason=\"json\"} 1", metrics, StringComparison.Ordinal);
            Assert.Contains("ja4_channel_written_total{channel=\"HttpRequests\"} 1", metrics, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        Assert.False(File.Exists(socket));
    }
}
