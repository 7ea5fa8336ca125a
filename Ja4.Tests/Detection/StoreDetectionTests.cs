using System.Net;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.Rules;
using Ja4.Modules.Detection.Simulation;
using Ja4.Modules.Storage.Queries;
using Ja4.Tests.Storage;
using Ja4.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;
using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.Detection;

/// <summary>The store path of detection on the real engine (chDB): features by SQL, ml_* writes, the demo seeder.</summary>
[Collection("chdb")]
public sealed class StoreDetectionTests(ChdbFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 4, 9, 0, 0, TimeSpan.Zero);
    private static string KnownCsv => Path.Combine(Corpus.RepositoryRoot, "data", "known-fingerprints.csv");

    /// <summary>A fresh database whose TTLs keep the fixed test dates (retention counts from the real clock; 10 years stays below DateTime's 2106).</summary>
    private Ja4.Modules.Storage.StorageOptions Options(string prefix)
    {
        var o = fixture.Options("chdb", prefix);
        o.Retention = new Ja4.Modules.Storage.RetentionOptions
        {
            HttpLogsDays = 3650, TlsHandshakesDays = 3650, AggregatesDays = 3650, ScoresDays = 3650, AnomaliesDays = 3650,
        };
        return o;
    }

    [Fact]
    public async Task Sql_and_in_memory_features_agree_on_the_same_simulator_traffic()
    {
        var traffic = TrafficSimulator.Generate(31, new SimulationMix { Humans = 150, RotatorAddresses = 6 }, T0);
        await using var store = fixture.Open("chdb");
        var o = Options("feat");
        try
        {
            await MigrateAsync(store, o);
            // Through the storage writer, as the daemon stores them.
            await WriteAsync(store, o, traffic.Requests);
            var (sql, sqlRequests) = await new StoreFeatureSource(store, o.Database + ".http_logs")
                .ComputeAsync(traffic.Start, traffic.End, CancellationToken.None);
            var memory = FeatureExtractor.Compute(traffic.Requests, traffic.Start, traffic.End);

            Assert.Equal(traffic.Requests.Count, sqlRequests);
            Assert.Equal(memory.Entities.Count, sql.Entities.Count);
            var byKey = Enumerable.Range(0, sql.Entities.Count).ToDictionary(i => sql.Entities[i].Key);
            for (var m = 0; m < memory.Entities.Count; m++)
            {
                var expected = memory.Entities[m];
                var s = byKey[expected.Key];
                var got = sql.Entities[s];
                for (var f = 0; f < FeatureSchema.All.Count; f++)
                {
                    var want = memory.Matrix[m, f];
                    var have = sql.Matrix[s, f];
                    Assert.True(Math.Abs(want - have) <= 1e-4 * Math.Max(1, Math.Abs(want)),
                        $"{expected.Key} {FeatureSchema.All[f].Name}: in memory {want}, SQL {have}");
                }
                Assert.Equal(expected.Requests, got.Requests);
                // The store keeps microseconds; the simulator's clock has 100 ns ticks.
                Assert.InRange((got.FirstSeen - expected.FirstSeen).Ticks, -10, 0);
                Assert.InRange((got.LastSeen - expected.LastSeen).Ticks, -10, 0);
                Assert.Equal(expected.UserAgents.OrderBy(kv => kv.Key), got.UserAgents.OrderBy(kv => kv.Key));
                Assert.Equal(expected.HintRequests, got.HintRequests);
                Assert.Equal(expected.SecChUa, got.SecChUa);
                Assert.Equal(expected.SecChUaMobile, got.SecChUaMobile);
                Assert.Equal(expected.SecChUaPlatform, got.SecChUaPlatform);
                Assert.Equal(expected.HintUserAgent, got.HintUserAgent);
                Assert.Equal(expected.HasHandshake, got.HasHandshake);
                Assert.Equal(expected.Alpn, got.Alpn);
                Assert.Equal(expected.Transport, got.Transport);
                Assert.Equal(expected.PathTemplates, got.PathTemplates);
                Assert.Equal(expected.MeanGapSeconds, got.MeanGapSeconds, 4);
                Assert.Equal(expected.Address, got.Address);
            }
        }
        finally
        {
            await DropAsync(store, o);
        }
    }

    [Fact]
    public async Task The_demo_seeder_fills_the_store_and_detection_writes_scores_anomalies_and_campaigns()
    {
        await using var store = fixture.Open("chdb");
        var o = Options("demo");
        var time = new FakeTimeProvider(T0 + TimeSpan.FromHours(2));
        var options = new DemoSeedOptions { Seed = 5, Hours = 2, Requests = 30_000, KnownFingerprintsPath = KnownCsv, SchemaDirectory = SchemaDirectory };
        try
        {
            var result = await DemoSeeder.SeedAsync(store, o, options, time);
            Assert.Equal(T0, result.Start);
            Assert.Equal(T0 + TimeSpan.FromHours(2), result.End);
            Assert.Equal(result.HttpLogs, await CountAsync(store, o.Database + ".http_logs"));
            Assert.Equal(result.TlsHandshakes, await CountAsync(store, o.Database + ".tls_handshakes"));
            Assert.InRange(result.HttpLogs, 15_000, 60_000);
            Assert.Equal(2, result.DetectionRuns);
            Assert.Equal(result.Scores, await CountAsync(store, o.Database + ".ml_all_scores"));
            Assert.Equal(result.Anomalies, await CountAsync(store, o.Database + ".ml_detected_anomalies"));
            Assert.Equal(result.Campaigns, await CountAsync(store, o.Database + ".ml_campaigns"));
            Assert.True(result.Anomalies > 0 && result.Campaigns > 0);

            // Ground truth: the seeder's traffic is the simulator's for seed + hour.
            var spoofers = Enumerable.Range(0, 2)
                .SelectMany(h => TrafficSimulator.Generate(options.Seed + h, DemoSeeder.Mix(options.Requests / 2), T0 + TimeSpan.FromHours(h)).Clients.Values)
                .Where(c => c.Kind == TrafficKind.UaSpoofer).Select(c => c.Address).ToHashSet();
            var queries = new StorageQueries(store, o);
            var anomalies = await queries.AnomaliesAsync(T0, T0 + TimeSpan.FromHours(3), limit: 100_000);
            var caught = anomalies.Where(a => spoofers.Contains(a.ClientIp) && a.RuleIds.Contains(ConsistencyRules.BrowserUaOnLibraryJa4))
                .Select(a => a.ClientIp).Distinct().Count();
            Assert.True(caught >= 0.9 * spoofers.Count, $"{caught} of {spoofers.Count} UA spoofers stored with the UA/JA4 rule");
            Assert.All(anomalies, a => Assert.True(a.Risk >= 0.7f && a.Requests > 0 && a.Explanation.Length > 0));

            var campaigns = await queries.CampaignsAsync(T0, T0 + TimeSpan.FromHours(3));
            Assert.NotEmpty(campaigns);
            var c = campaigns[0];
            Assert.True(c.Size >= 3 && c.Members.Count >= c.Size);
            Assert.Equal(c.Id, CampaignGrouperId(c.Key));
            var members = (await queries.ScoresForIpAsync(c.Members[0].ClientIp, T0, T0 + TimeSpan.FromHours(3)))
                .Where(s => s.CampaignId == c.Id).ToArray();
            Assert.NotEmpty(members);
            var history = await queries.CampaignHistoryAsync(c.Id, T0, T0 + TimeSpan.FromHours(3));
            Assert.Contains(history, h => h.Time == c.Time);
        }
        finally
        {
            await DropAsync(store, o);
        }
    }

    private static string CampaignGrouperId(string key) => Ja4.Modules.Detection.Campaigns.CampaignGrouper.IdOf(key);

    [Fact]
    public async Task Scores_with_verdict_details_round_trip_through_both_tables()
    {
        await using var store = fixture.Open("chdb");
        var o = Options("scores");
        try
        {
            await MigrateAsync(store, o);
            var queries = new StorageQueries(store, o);
            var ip = IPAddress.Parse("198.51.100.9");
            var score = new ScoreRecord(T0, T0.AddHours(-1), T0, "shop.example", ip, "t13d311100_e8f1e7e78f70_d41ae481755e", 0.71f,
                "high", "curl", true, "iforest-v1", new Dictionary<string, double> { ["static_ratio"] = 0.25 }, "because")
            {
                Risk = 0.9f,
                Requests = 42,
                RuleIds = [ConsistencyRules.BrowserUaOnLibraryJa4, ConsistencyRules.BrowserUaWithoutH2],
                CampaignId = "cmp-0123456789",
                Returning = true,
            };
            await queries.WriteScoresAsync([score, score with { ClientIp = IPAddress.Parse("2001:db8::5"), IsAnomaly = false, ThreatLevel = "none" }], store);
            var read = Assert.Single(await queries.AnomaliesAsync(T0.AddMinutes(-1), T0.AddMinutes(1)));
            Assert.Equal(0.9f, read.Risk);
            Assert.Equal(42, read.Requests);
            Assert.Equal(score.RuleIds, read.RuleIds);
            Assert.Equal("cmp-0123456789", read.CampaignId);
            Assert.True(read.Returning);
            Assert.Equal(ip, read.ClientIp);
            Assert.Equal(0.25, read.Features["static_ratio"]);
            var v6 = Assert.Single(await queries.ScoresForIpAsync(IPAddress.Parse("2001:db8::5"), T0.AddMinutes(-1), T0.AddMinutes(1)));
            Assert.False(v6.IsAnomaly);
            Assert.Equal("none", v6.ThreatLevel);
        }
        finally
        {
            await DropAsync(store, o);
        }
    }
}
