using System.Net;
using System.Net.Sockets;
using Ja4.Host;
using Microsoft.AspNetCore.Builder;

namespace Ja4.Tests.EndToEnd;

/// <summary>The real daemon host, started in this process on a free loopback port.</summary>
public sealed class DaemonInstance : IAsyncDisposable
{
    private readonly string _configPath;

    private DaemonInstance(WebApplication app, string baseUrl, string configPath)
    {
        App = app;
        BaseUrl = baseUrl;
        _configPath = configPath;
    }

    public WebApplication App { get; }
    public string BaseUrl { get; }
    public IServiceProvider Services => App.Services;

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Starts with every module off except those set in <paramref name="settings"/>.</summary>
    public static async Task<DaemonInstance> StartAsync(IDictionary<string, string?> settings)
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var path = Path.Combine(Path.GetTempPath(), $"ja4-e2e-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, "{}");
        var merged = new Dictionary<string, string?>(settings)
        {
            ["Logging:Console:Format"] = "none",
            ["Modules:Dashboard:Urls"] = url,
            ["Operations:Urls"] = url,
        };
        var app = DaemonHost.Build(DaemonHost.LoadConfiguration(path, merged));
        await app.StartAsync();
        return new DaemonInstance(app, url, path);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        File.Delete(_configPath);
    }
}
