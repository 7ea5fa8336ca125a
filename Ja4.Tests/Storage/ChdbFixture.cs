using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;

namespace Ja4.Tests.Storage;

/// <summary>
/// The one chDB engine of the test process (the engine holds one data path per process): every
/// chDB-backed test class joins the "chdb" collection and works in a database of its own.
/// Also serves the ClickHouse HTTP interface over the same engine for the server-engine runs.
/// </summary>
public sealed class ChdbFixture : IAsyncLifetime
{
    public string DataPath { get; } = Path.Combine(Path.GetTempPath(), "ja4-tests-chdb-" + Environment.ProcessId);

    public ChdbExecutor Chdb { get; private set; } = null!;

    public ClickHouseHttpFixture Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (Directory.Exists(DataPath))
        {
            Directory.Delete(DataPath, recursive: true);
        }
        Chdb = ChdbExecutor.Open(DataPath);
        Http = new ClickHouseHttpFixture(DataPath);
        await Http.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Http.DisposeAsync();
        await Chdb.DisposeAsync();
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Engines the contract suite runs on: chDB, the HTTP fixture, and a real server when JA4_CLICKHOUSE_URL is set.</summary>
    public static IEnumerable<object[]> Engines()
    {
        yield return ["chdb"];
        yield return ["http"];
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JA4_CLICKHOUSE_URL")))
        {
            yield return ["server"];
        }
    }

    /// <summary>
    /// A daemon's storage keys for this engine: storage on, the fixture's data path, the database
    /// <paramref name="database"/>, spill queue and admin socket under <paramref name="dir"/>.
    /// </summary>
    public Dictionary<string, string?> DaemonStorage(string database, string dir) => new()
    {
        ["Modules:Storage:Enabled"] = "true",
        ["Modules:Storage:Engine"] = "Chdb",
        ["Modules:Storage:DataPath"] = DataPath,
        ["Modules:Storage:Database"] = database,
        ["Modules:Storage:SpillPath"] = Path.Combine(dir, "spill"),
        ["Modules:Storage:AdminSocketPath"] = Path.Combine(dir, "admin.sock"),
        ["Modules:Storage:AdminSocketGroup"] = "",
    };

    /// <summary>An executor for <paramref name="engine"/>; dispose it (the shared chDB one ignores disposal).</summary>
    public IStoreExecutor Open(string engine) => engine switch
    {
        "chdb" => new SharedExecutor(Chdb),
        "http" => new ClickHouseExecutor(new ClickHouseServerOptions { ConnectionString = Http.ConnectionString }),
        "server" => new ClickHouseExecutor(new ClickHouseServerOptions { ConnectionString = ServerConnectionString() }),
        _ => throw new ArgumentOutOfRangeException(nameof(engine)),
    };

    /// <summary>Options of a fresh database for one test.</summary>
    public StorageOptions Options(string engine, string prefix)
    {
        var o = new StorageOptions
        {
            Enabled = true,
            Engine = engine == "chdb" ? StorageEngineKind.Chdb : StorageEngineKind.ClickHouse,
            DataPath = DataPath,
            Database = $"{prefix}_{engine}_{Guid.NewGuid():N}"[..Math.Min(60, prefix.Length + engine.Length + 34)],
            SpillPath = Path.Combine(Path.GetTempPath(), "ja4-spill-" + Guid.NewGuid().ToString("N")),
        };
        o.ClickHouse.ConnectionString = engine switch
        {
            "http" => Http.ConnectionString,
            "server" => ServerConnectionString(),
            _ => null,
        };
        return o;
    }

    /// <summary>JA4_CLICKHOUSE_URL (http://user:password@host:port) as a ClickHouse.Driver connection string.</summary>
    public static string ServerConnectionString()
    {
        var uri = new Uri(Environment.GetEnvironmentVariable("JA4_CLICKHOUSE_URL")!);
        var user = Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]);
        var password = uri.UserInfo.Contains(':') ? Uri.UnescapeDataString(uri.UserInfo[(uri.UserInfo.IndexOf(':') + 1)..]) : "";
        return $"Host={uri.Host};Port={uri.Port};Protocol={uri.Scheme};Username={(user.Length == 0 ? "default" : user)};Password={password}";
    }

    /// <summary>The fixture's chDB connection, shared: disposing the wrapper leaves it open.</summary>
    private sealed class SharedExecutor(ChdbExecutor inner) : IStoreExecutor
    {
        public string EngineName => inner.EngineName;

        public Task<byte[]> QueryAsync(string sql, IReadOnlyDictionary<string, string>? parameters = null, string format = "TabSeparated",
            CancellationToken cancellationToken = default) => inner.QueryAsync(sql, parameters, format, cancellationToken);

        public Task<long> InsertAsync(string table, IReadOnlyList<string> columns, string format, ReadOnlyMemory<byte> data,
            IReadOnlyDictionary<string, string>? settings = null, CancellationToken cancellationToken = default) =>
            inner.InsertAsync(table, columns, format, data, settings, cancellationToken);

        public Task StreamAsync(string sql, IReadOnlyDictionary<string, string>? parameters, string format,
            Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> onChunk, CancellationToken cancellationToken = default) =>
            inner.StreamAsync(sql, parameters, format, onChunk, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

[CollectionDefinition("chdb")]
public sealed class ChdbCollection : ICollectionFixture<ChdbFixture>;
