using System.Net.Sockets;
using System.Text;
using Ja4.Modules.Core.Metrics;
using Ja4.Tests.Dashboard;
using Ja4.Tests.EndToEnd;
using Ja4.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Ja4.Tests.Host;

/// <summary>
/// A stop of the whole daemon (what SIGTERM does) while data is in flight and an analyst has the
/// dashboard open: every request the socket accepted reaches the store, the stop does not wait for
/// the browser, and nothing new is served once the stop began.
/// </summary>
[Collection("chdb")]
[Trait("Category", "EndToEnd")]
public sealed class ShutdownTests(ChdbFixture chdb) : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-shutdown-").FullName;
    private readonly string _database = "shutdown_" + Guid.NewGuid().ToString("N")[..12];

    public Task InitializeAsync() => _browser.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        await using var store = chdb.Open("chdb");
        await store.QueryAsync($"DROP DATABASE IF EXISTS {_database} SYNC");
        Directory.Delete(_dir, recursive: true);
    }

    private static byte[] TlsRecord(string path, int clientPort) => Encoding.UTF8.GetBytes(
        $$"""{"v":1,"time_us":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000}},"client_ip":"198.51.100.20","client_port":{{clientPort}},"server_ip":"192.0.2.1","server_port":443,"method":"GET","path":"{{path}}","protocol":"HTTP/1.1","host":"shop.example","status":200,"bytes_sent":10,"duration_us":50,"conn_id":7,"keepalive_index":0,"tls_protocol":"TLSv1.3","tls_cipher":"TLS_AES_128_GCM_SHA256","tls_sni":"shop.example","headers":[["Host","shop.example"],["User-Agent","shutdown-test"]]}""");

    [Fact]
    public async Task Stopping_with_a_dashboard_open_drains_every_accepted_request_into_the_store()
    {
        var socketPath = Path.Combine(_dir, "reqin.sock");
        var settings = chdb.DaemonStorage(_database, _dir);
        foreach (var (k, v) in new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:HttpIngest:Enabled"] = "true",
            ["Modules:HttpIngest:SocketPath"] = socketPath,
            ["Modules:HttpIngest:SocketGroup"] = "",
            // Capture on, on a port nothing uses: a TLS request waits for its handshake.
            ["Modules:Capture:Enabled"] = "true",
            ["Modules:Capture:Interface"] = "lo",
            ["Modules:Capture:Filter"] = "tcp port 9",
            ["Modules:Correlation:Enabled"] = "true",
            ["Modules:Correlation:HandshakeWait"] = "00:05:00",
            ["Modules:Correlation:IdleTimeout"] = "00:10:00",
        })
        {
            settings[k] = v;
        }
        await using var daemon = await DaemonInstance.StartAsync(settings);
        var errors = new List<string>();
        var page = await _browser.NewPageAsync(errors);
        await page.GotoAsync(daemon.BaseUrl + "/live");
        await page.WaitForSelectorAsync("#ja4-main[data-interactive=true]", new PageWaitForSelectorOptions { Timeout = 30_000 });

        using (var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified))
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            await socket.SendAsync(TlsRecord("/waiting-1", 41001));
            await socket.SendAsync(TlsRecord("/waiting-2", 41002));
            await socket.SendAsync(LivePageTests.Record("/plain", "plain-client", 41003, "198.51.100.21"));
        }
        var metrics = daemon.Services.GetRequiredService<Ja4Metrics>();
        for (var i = 0; i < 300 && metrics.Read("ja4_correlation_pending_size") < 2; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(2, metrics.Read("ja4_correlation_pending_size"));

        // The stop with the Live page's circuit connected: the browser reconnects at once when
        // its circuit is closed; the daemon must neither serve that nor wait for it, and the
        // data path must still get its whole drain.
        await daemon.App.StopAsync();

        await using var store = chdb.Open("chdb");
        var rows = Encoding.UTF8.GetString(await store.QueryAsync(
            $"SELECT path, toString(match_status) FROM {_database}.http_logs ORDER BY path FORMAT TSV"));
        Assert.Equal("/plain\tplain_http\n/waiting-1\tno_handshake_seen\n/waiting-2\tno_handshake_seen\n", rows);
    }

    [Fact]
    public async Task Once_the_stop_began_the_dashboard_circuit_is_closed_and_nothing_new_is_served()
    {
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
        });
        var page = await _browser.NewPageAsync([]);
        var circuitClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        page.WebSocket += (_, ws) => ws.Close += (_, _) => circuitClosed.TrySetResult();
        var refused = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopping = false;
        page.Response += (_, r) =>
        {
            if (Volatile.Read(ref stopping) && r.Url.Contains("/_blazor", StringComparison.Ordinal))
            {
                refused.TrySetResult(r.Status);
            }
        };
        await page.GotoAsync(daemon.BaseUrl + "/live");
        await page.WaitForSelectorAsync("#ja4-main[data-interactive=true]", new PageWaitForSelectorOptions { Timeout = 30_000 });

        // What SIGTERM does first: the application's stopping signal (the host has not stopped
        // any service yet).
        Volatile.Write(ref stopping, true);
        daemon.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();

        await circuitClosed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The browser tries to reconnect at once and is refused.
        Assert.Equal(503, await refused.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        using var http = new HttpClient();
        using var response = await http.GetAsync(daemon.BaseUrl + "/healthz");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.ConnectionClose);
        Assert.Equal("ja4 is stopping\n", await response.Content.ReadAsStringAsync());
        await page.Context.CloseAsync();
    }
}
