using System.Text;
using Ja4.Host;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Admin;
using Microsoft.Extensions.Logging.Abstractions;
using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.Storage;

/// <summary><c>ja4 migrate</c> and <c>ja4 sql</c>, run in process against the shared chDB store.</summary>
[Collection("chdb")]
public sealed class StorageCommandTests(ChdbFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-cmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Config(StorageOptions o, string socket)
    {
        var path = Path.Combine(_dir, "appsettings.json");
        File.WriteAllText(path, $$"""
            { "Modules": { "Storage": { "Enabled": true, "Engine": "Chdb", "DataPath": "{{o.DataPath}}", "Database": "{{o.Database}}",
              "SpillPath": "{{o.SpillPath}}", "AdminSocketPath": "{{socket}}" } } }
            """);
        return path;
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new MemoryStream();
        var err = new StringWriter();
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        var writer = new StreamWriter(stdout) { AutoFlush = true };
        Console.SetOut(writer);
        try
        {
            var code = await Cli.RunAsync(args, writer, err);
            return (code, Encoding.UTF8.GetString(stdout.ToArray()), err.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public async Task Migrate_applies_then_reports_everything_applied()
    {
        var o = fixture.Options("chdb", "cmd_mig");
        var config = Config(o, Path.Combine(_dir, "none.sock"));
        await using var store = fixture.Open("chdb");
        try
        {
            var status = await RunAsync("migrate", "--status", "--config", config);
            Assert.Equal(0, status.Code);
            Assert.Matches(@"3\s+pending\s+-\s+03_http_logs\.sql", status.Out);

            var run = await RunAsync("migrate", "--config", config);
            Assert.Equal(0, run.Code);
            Assert.Contains("applied 04_agg_host_ip_ja4_1h.sql", run.Out);
            // 1-7, 9, 11, 13, 15, 16 and the embedded-only 18, 19 and 20; the cluster-only ones do not apply.
            Assert.Contains("15 migration(s) applied", run.Out);
            Assert.Contains("applied 18_prompt_outdated_part_cleanup.sql", run.Out);
            Assert.Contains("applied 19_merge_write_buffers.sql", run.Out);
            Assert.Contains("applied 20_merge_fan_in.sql", run.Out);

            var after = await RunAsync("migrate", "--status", "--config", config);
            Assert.Matches(@"6\s+applied\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+06_known_fingerprints\.sql", after.Out);
            Assert.Matches(@"8\s+not applicable\s+-\s+08_cluster_distributed\.sql", after.Out);
            Assert.Matches(@"18\s+applied\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+18_prompt_outdated_part_cleanup\.sql", after.Out);
            Assert.Matches(@"9\s+applied\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+09_detection_details\.sql", after.Out);
            Assert.Contains("is up to date", (await RunAsync("migrate", "--config", config)).Out);
        }
        finally
        {
            await DropAsync(store, o);
        }
    }

    public static IEnumerable<object[]> Paths() => [["direct"], ["admin-socket"]];

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Sql_prints_tsv_jsonl_and_tables_and_refuses_writes(string path)
    {
        var o = fixture.Options("chdb", "cmd_sql");
        var socket = Path.Combine(_dir, "admin.sock");
        var config = Config(o, socket);
        await using var store = fixture.Open("chdb");
        await MigrateAsync(store, o);
        await WriteAsync(store, o, [StorageEvents.Request(1, StorageEvents.T0, path: "/a"), StorageEvents.Request(2, StorageEvents.T0, path: "/b")]);
        StorageStore? daemonStore = null;
        AdminSocketServer? server = null;
        if (path == "admin-socket")
        {
            o.AdminSocketPath = socket;
            daemonStore = new StorageStore(o);
            server = new AdminSocketServer(daemonStore, o, NullLogger.Instance);
            await server.StartAsync(CancellationToken.None);
            for (var i = 0; i < 500 && !File.Exists(socket); i++)
            {
                await Task.Delay(10);
            }
            Assert.True(File.Exists(socket));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
                    File.GetUnixFileMode(socket));
            }
        }
        try
        {
            var q = $"SELECT path, status FROM {o.Database}.http_logs ORDER BY path";
            var tsv = await RunAsync("sql", q, "--format", "tsv", "--config", config);
            Assert.Equal((0, "path\tstatus\n/a\t200\n/b\t200\n"), (tsv.Code, tsv.Out));
            var jsonl = await RunAsync("sql", q, "--format", "jsonl", "--config", config);
            Assert.Equal("{\"path\":\"/a\",\"status\":200}\n{\"path\":\"/b\",\"status\":200}\n", jsonl.Out);
            var table = await RunAsync("sql", q, "--config", config);
            Assert.Contains("│ /a   │    200 │", table.Out);

            var insert = await RunAsync("sql", $"INSERT INTO {o.Database}.http_logs (path) VALUES ('/x')", "--config", config);
            Assert.True(insert.Code == 1, $"out: {insert.Out} err: {insert.Err}");
            Assert.Contains("refused: only one read-only statement is allowed", insert.Err);
            var drop = await RunAsync("sql", $"SELECT 1; DROP TABLE {o.Database}.http_logs", "--config", config);
            Assert.Equal(1, drop.Code);
            Assert.Contains("refused", drop.Err);
            var bad = await RunAsync("sql", $"SELECT nope FROM {o.Database}.http_logs", "--config", config);
            Assert.Equal(1, bad.Code);
            Assert.Contains("UNKNOWN_IDENTIFIER", bad.Err);
            Assert.Equal("2", await TextAsync(store, $"SELECT count() FROM {o.Database}.http_logs"));
        }
        finally
        {
            if (server is not null)
            {
                await server.StopAsync(CancellationToken.None);
                server.Dispose();
            }
            if (daemonStore is not null)
            {
                await daemonStore.DisposeAsync();
            }
            await DropAsync(store, o);
        }
    }
}
