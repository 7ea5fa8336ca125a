using System.Globalization;
using Ja4.Host;
using Ja4.Modules.Storage.Engines;
using Ja4.Tests.EndToEnd;
using Ja4.Tests.Storage;
using Microsoft.AspNetCore.Builder;

namespace Ja4.Tests.Dashboard.Api;

/// <summary>
/// The real daemon in this process with the dashboard on, optionally with storage on the test
/// process's chDB engine (the fixture's data path, a database of its own), listening where the
/// test says (a non-loopback binding included).
/// </summary>
internal sealed class DashboardTestDaemon : IAsyncDisposable
{
    private readonly string _configPath;
    private readonly string _tempDir;
    private readonly IStoreExecutor? _seed;

    private DashboardTestDaemon(WebApplication app, string baseUrl, string configPath, string tempDir, string? database, IStoreExecutor? seed)
    {
        App = app;
        BaseUrl = baseUrl;
        _configPath = configPath;
        _tempDir = tempDir;
        Database = database;
        _seed = seed;
    }

    public WebApplication App { get; }

    /// <summary>Where a client on this host reaches the dashboard (127.0.0.1 even for a 0.0.0.0 binding).</summary>
    public string BaseUrl { get; }

    public string? Database { get; }

    /// <param name="chdb">The chDB fixture, for storage; null leaves storage off.</param>
    /// <param name="host">The address to bind (e.g. 0.0.0.0).</param>
    public static async Task<DashboardTestDaemon> StartAsync(ChdbFixture? chdb, IDictionary<string, string?>? settings = null,
        string host = "127.0.0.1")
    {
        var port = DaemonInstance.FreePort();
        var tempDir = Path.Combine(Path.GetTempPath(), $"ja4-dash-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tempDir);
        var configPath = Path.Combine(tempDir, "appsettings.json");
        await File.WriteAllTextAsync(configPath, "{}");
        var merged = new Dictionary<string, string?>
        {
            ["Logging:Console:Format"] = "none",
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:Dashboard:Urls"] = $"http://{host}:{port}",
            ["Operations:Urls"] = $"http://127.0.0.1:{port}",
        };
        string? database = null;
        if (chdb is not null)
        {
            database = "dash_" + Guid.NewGuid().ToString("N")[..12];
            foreach (var (k, v) in chdb.DaemonStorage(database, tempDir))
            {
                merged[k] = v;
            }
        }
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            merged[k] = v;
        }
        var app = DaemonHost.Build(DaemonHost.LoadConfiguration(configPath, merged));
        DaemonHost.ValidateOptions(app.Services);
        await app.StartAsync();
        return new DashboardTestDaemon(app, $"http://127.0.0.1:{port}", configPath, tempDir, database, chdb?.Open("chdb"));
    }

    /// <summary>Runs a statement on the daemon's database (<c>{db}</c> stands for its name).</summary>
    public Task ExecAsync(string sql) => _seed!.QueryAsync(sql.Replace("{db}", Database, StringComparison.Ordinal));

    /// <summary>A UTC time as a ClickHouse literal.</summary>
    public static string Sql(DateTimeOffset t) => "'" + t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + "'";

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        if (_seed is not null)
        {
            try
            {
                await _seed.QueryAsync($"DROP DATABASE IF EXISTS {Database} SYNC");
            }
            catch (StoreException)
            {
            }
            await _seed.DisposeAsync();
        }
        try
        {
            Directory.Delete(_tempDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
