using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Ja4.Modules.Detection;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.Simulation;
using Ja4.Tests.Storage;
using Ja4.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.EndToEnd;

/// <summary>The detection REST API of the in-process daemon, with the in-memory path and with the embedded store.</summary>
[Trait("Category", "EndToEnd")]
[Collection("chdb")]
public sealed class DetectionApiTests(ChdbFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-detection-api-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Dictionary<string, string?> Settings(string dns) => new()
    {
        ["Modules:Detection:Enabled"] = "true",
        ["Modules:Detection:ModelPath"] = Path.Combine(_dir, "model.bin"),
        ["Modules:Detection:KnownFingerprintsPath"] = Path.Combine(Corpus.RepositoryRoot, "data", "known-fingerprints.csv"),
        ["Modules:Detection:Dns:Server"] = dns,
        ["Modules:Detection:Dns:Timeout"] = "00:02:00",
    };

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Status_run_model_and_a_second_run_while_one_is_in_progress()
    {
        // A DNS server that answers only when the test says so: the run waits on it verifying the crawler.
        using var dns = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await using var daemon = await DaemonInstance.StartAsync(Settings(dns.Client.LocalEndPoint!.ToString()!));
        using var http = new HttpClient { BaseAddress = new Uri(daemon.BaseUrl) };

        var status = await JsonAsync(await http.GetAsync("/api/detection/status"));
        Assert.True(status.GetProperty("enabled").GetBoolean());
        Assert.Equal("memory", status.GetProperty("featureSource").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("lastRun").ValueKind);
        Assert.Equal("rules-only", status.GetProperty("modelVersion").GetString());
        Assert.Equal(FeatureSchema.Names, status.GetProperty("featureSchema").GetProperty("features").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/detection/model")).StatusCode);

        var traffic = TrafficSimulator.Generate(8, new SimulationMix { Humans = 120, GoodCrawlers = 1, Duration = TimeSpan.FromMinutes(40) },
            DateTimeOffset.UtcNow - TimeSpan.FromMinutes(45));
        daemon.Services.GetRequiredService<DetectionEventBuffer>().AddRange(traffic.Requests);

        var first = http.PostAsync("/api/detection/run", null);
        var query = await dns.ReceiveAsync().WaitAsync(TimeSpan.FromMinutes(2));
        // The first run holds the gate until its DNS question is answered.
        var busy = await http.PostAsync("/api/detection/run", null);
        Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
        Assert.Equal("a detection run is in progress", (await JsonAsync(busy)).GetProperty("title").GetString());
        Assert.True((await JsonAsync(await http.GetAsync("/api/detection/status"))).GetProperty("running").GetBoolean());
        using var answering = new CancellationTokenSource();
        var answers = AnswerNxDomainAsync(dns, query, answering.Token);

        var response = await first.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await JsonAsync(response);
        var ips = traffic.Requests.Select(r => r.Request.Flow.ClientIp).Distinct().Count();
        Assert.InRange(run.GetProperty("entities").GetInt32(), ips, ips * 3);
        Assert.Equal(traffic.Requests.Count, run.GetProperty("requests").GetInt64());
        Assert.True(run.GetProperty("anomalies").GetInt32() > 0);
        Assert.True(run.GetProperty("retrained").GetBoolean());
        answering.Cancel();
        await answers;

        var after = await JsonAsync(await http.GetAsync("/api/detection/status"));
        Assert.False(after.GetProperty("running").GetBoolean());
        Assert.Equal(run.GetProperty("modelVersion").GetString(), after.GetProperty("lastRun").GetProperty("modelVersion").GetString());
        Assert.StartsWith("iforest-v1-f1-", after.GetProperty("modelVersion").GetString());

        var model = await JsonAsync(await http.GetAsync("/api/detection/model"));
        Assert.Equal(100, model.GetProperty("trees").GetInt32());
        Assert.Equal(256, model.GetProperty("sampleSize").GetInt32());
        // ψ is capped by the entities of the training window.
        Assert.Equal(Math.Min(256, run.GetProperty("entities").GetInt32()), model.GetProperty("effectiveSampleSize").GetInt32());
        Assert.Equal(FeatureSchema.Names, model.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("name").GetString()));

        var bad = await http.PostAsync("/api/detection/run?window=2h", null);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("takes no parameters", (await JsonAsync(bad)).GetProperty("title").GetString());
    }

    /// <summary>Answers the pending question and every later one with NXDOMAIN (RFC 1035 §4.1.1: QR, RD, RA, RCODE 3).</summary>
    private static async Task AnswerNxDomainAsync(UdpClient dns, UdpReceiveResult first, CancellationToken stop)
    {
        var query = first;
        while (true)
        {
            var reply = query.Buffer.ToArray();
            reply[2] = 0x81;
            reply[3] = 0x83;
            await dns.SendAsync(reply, query.RemoteEndPoint, stop);
            try
            {
                query = await dns.ReceiveAsync(stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [Fact]
    public async Task With_the_store_a_manual_run_reads_http_logs_and_writes_the_ml_tables()
    {
        var o = fixture.Options("chdb", "api");
        await using var store = fixture.Open("chdb");
        try
        {
            var seeded = await DemoSeeder.SeedAsync(store, o, new DemoSeedOptions
            {
                Hours = 1, Requests = 15_000, RunDetection = false, SchemaDirectory = SchemaDirectory,
                KnownFingerprintsPath = Path.Combine(Corpus.RepositoryRoot, "data", "known-fingerprints.csv"),
            }, TimeProvider.System);
            // The seeder loaded the table too: empty it, the daemon's first run must load it again.
            await store.QueryAsync($"TRUNCATE TABLE {o.Database}.known_fingerprints");
            var settings = Settings("none");
            settings["Modules:Storage:Enabled"] = "true";
            settings["Modules:Storage:DataPath"] = o.DataPath;
            settings["Modules:Storage:Database"] = o.Database;
            settings["Modules:Storage:SpillPath"] = o.SpillPath;
            settings["Modules:Storage:AdminSocketPath"] = Path.Combine(_dir, "admin.sock");
            await using var daemon = await DaemonInstance.StartAsync(settings);
            using var http = new HttpClient { BaseAddress = new Uri(daemon.BaseUrl) };
            Assert.Equal("store", (await JsonAsync(await http.GetAsync("/api/detection/status"))).GetProperty("featureSource").GetString());

            var response = await http.PostAsync("/api/detection/run", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var run = await response.Content.ReadFromJsonAsync<DetectionRunInfo>(new JsonSerializerOptions(JsonSerializerDefaults.Web));
            Assert.Equal("store", run!.Source);
            // The window is the last hour ending now; the seeded hour ends a moment before the run.
            Assert.InRange(run.Requests, seeded.HttpLogs * 9 / 10, seeded.HttpLogs);
            Assert.Equal(run.Entities, await CountAsync(store, o.Database + ".ml_all_scores"));
            Assert.Equal(run.Anomalies, await CountAsync(store, o.Database + ".ml_detected_anomalies"));
            Assert.Equal(run.Campaigns, await CountAsync(store, o.Database + ".ml_campaigns"));
            Assert.True(run.Anomalies > 0);
            // The first run loads the known-fingerprint table for the dashboard's lookups.
            // One row per line of data/known-fingerprints.csv after its header (one JA4 each).
            Assert.Equal(File.ReadLines(Path.Combine(Corpus.RepositoryRoot, "data", "known-fingerprints.csv")).Count() - 1,
                await CountAsync(store, o.Database + ".known_fingerprints FINAL"));
        }
        finally
        {
            await DropAsync(store, o);
        }
    }
}
