using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Detection;
using Ja4.Modules.Detection.Blocklist;
using Ja4.Modules.Detection.Simulation;
using Ja4.Tests.Host;
using Ja4.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Ja4.Tests.Detection;

public sealed class DetectionModuleTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"ja4-detection-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private Dictionary<string, string?> Settings() => new()
    {
        ["Modules:Detection:Enabled"] = "true",
        ["Modules:Detection:ModelPath"] = Path.Combine(_dir, "model", "model.bin"),
        ["Modules:Detection:KnownFingerprintsPath"] = Path.Combine(Corpus.RepositoryRoot, "data", "known-fingerprints.csv"),
        ["Modules:Detection:Dns:Server"] = "none",
        ["Modules:Detection:Blocklist:Enabled"] = "true",
        ["Modules:Detection:Blocklist:Level"] = "Medium",
        ["Modules:Detection:Blocklist:Directory"] = Path.Combine(_dir, "blocklist"),
    };

    private static ServiceProvider Provider(IDictionary<string, string?> settings, TimeProvider time)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddJa4Pipeline(configuration).AddDetectionModule(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Disabled_registers_nothing()
    {
        using var sp = Provider(new Dictionary<string, string?> { ["Modules:Detection:Enabled"] = "false" }, TimeProvider.System);
        Assert.Null(sp.GetService<DetectionWorker>());
        Assert.Null(sp.GetService<DetectionEngine>());
    }

    [Fact]
    public async Task Bad_options_are_reported_by_key_at_start()
    {
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Detection:Enabled"] = "true",
            ["Modules:Detection:Interval"] = "00:00:01",
            ["Modules:Detection:Thresholds:Low"] = "0.9",
            ["Modules:Detection:Thresholds:Medium"] = "0.5",
            ["Modules:Detection:ModelCeiling"] = "0.4",
            ["Modules:Detection:RuleWeights:no-such-rule"] = "0.5",
            ["Modules:Detection:RuleWeights:ua-family-mismatch"] = "1.5",
            ["Modules:Detection:Dns:Server"] = "resolver.example",
            ["Modules:Detection:Trees"] = "0",
        });
        Assert.Contains(problems, p => p.Contains("Modules:Detection:Interval"));
        Assert.Contains(problems, p => p.Contains("Modules:Detection:Thresholds"));
        Assert.Contains(problems, p => p.Contains("Modules:Detection:ModelCeiling"));
        Assert.Contains(problems, p => p.Contains("Modules:Detection:RuleWeights:no-such-rule is not a rule"));
        Assert.Contains(problems, p => p.Contains("Modules:Detection:RuleWeights:ua-family-mismatch must be between 0 and 1"));
        Assert.Contains(problems, p => p.Contains("Modules:Detection:Dns:Server"));
        Assert.Contains(problems, p => p.StartsWith("Modules:Detection:Trees: "));
    }

    [Fact]
    public async Task The_daemon_starts_with_detection_on_and_the_shipped_table_beside_the_binary()
    {
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "known-fingerprints.csv")));
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Detection:Enabled"] = "true",
            ["Modules:Detection:ModelPath"] = Path.Combine(_dir, "model.bin"),
            ["Modules:Detection:Dns:Server"] = "none",
        });
        Assert.Empty(problems);
    }

    [Fact]
    public async Task A_missing_fingerprint_file_stops_start_up_naming_the_key()
    {
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Detection:Enabled"] = "true",
            ["Modules:Detection:KnownFingerprintsPath"] = "/nonexistent/known.csv",
            ["Modules:Detection:ModelPath"] = Path.Combine(_dir, "model.bin"),
        });
        Assert.Contains(problems, p => p.Contains("Modules:Detection:KnownFingerprintsPath") && p.Contains("/nonexistent/known.csv"));
    }

    [Fact]
    public async Task A_run_scores_the_buffered_window_saves_the_model_and_writes_the_blocklist()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var traffic = TrafficSimulator.Generate(21, new SimulationMix(), time.GetUtcNow() - TimeSpan.FromHours(1));
        using (var sp = Provider(Settings(), time))
        {
            var worker = sp.GetRequiredService<DetectionWorker>();
            var buffer = sp.GetRequiredService<DetectionEventBuffer>();
            buffer.AddRange(traffic.Requests);
            await worker.StartAsync(CancellationToken.None);
            try
            {
                var result = await worker.RunOnceAsync(CancellationToken.None);
                Assert.True(result.Retrained);
                Assert.Same(result, worker.LastResult);
                var alerted = result.Verdicts.Where(v => v.Level >= Ja4.Modules.Core.Events.ThreatLevel.Medium).ToArray();
                Assert.NotEmpty(alerted);
                Assert.True(File.Exists(Path.Combine(_dir, "model", "model.bin")));
                var listed = File.ReadAllLines(Path.Combine(_dir, "blocklist", BlocklistExporter.PlainFile));
                Assert.Equal(alerted.Select(v => v.Entity.Address.ToString()).Distinct().Order(), listed.Order());
                var anomaly = DetectionWorker.ToAnomaly(alerted[0], result);
                Assert.Equal(alerted[0].Explanation, anomaly.Explanation);
                Assert.Equal(alerted[0].Entity.Key.ClientIp, anomaly.ClientIp);
            }
            finally
            {
                await worker.StopAsync(CancellationToken.None);
            }
        }

        // A new process reloads the saved model instead of starting without one.
        using var again = Provider(Settings(), time);
        var engine = again.GetRequiredService<DetectionEngine>();
        var second = again.GetRequiredService<DetectionWorker>();
        Assert.Null(engine.Model);
        await second.StartAsync(CancellationToken.None);
        try
        {
            Assert.NotNull(engine.Model);
            again.GetRequiredService<DetectionEventBuffer>().AddRange(traffic.Requests);
            var result = await second.RunOnceAsync(CancellationToken.None);
            Assert.False(result.Retrained);
        }
        finally
        {
            await second.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Correlated_requests_reach_the_buffer_through_the_detection_feed_and_a_full_feed_counts_drops()
    {
        var settings = Settings();
        settings["Modules:Correlation:Enabled"] = "true";
        settings["Modules:HttpIngest:Enabled"] = "true";
        settings["Pipeline:Channels:DetectionFeed:Capacity"] = "16";
        using var sp = Provider(settings, TimeProvider.System);
        var pipeline = sp.GetRequiredService<EventPipeline>();
        var outlet = pipeline.Outlet<Ja4.Modules.Core.Events.CorrelatedRequest>(ModuleNames.Correlation);
        var requests = TrafficSimulator.Generate(3, new SimulationMix { Humans = 5 }, DateTimeOffset.UtcNow).Requests.Take(40).ToArray();
        foreach (var r in requests)
        {
            outlet.TryPublish(r);
        }
        Assert.Equal(24, sp.GetRequiredService<Ja4.Modules.Core.Metrics.Ja4Metrics>().Read("ja4_channel_dropped_total", ("channel", "DetectionFeed")));

        var buffer = sp.GetRequiredService<DetectionEventBuffer>();
        var feed = sp.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<DetectionFeedWorker>().Single();
        await feed.StartAsync(CancellationToken.None);
        try
        {
            for (var i = 0; i < 600 && buffer.Count < 16; i++)
            {
                await Task.Delay(50);
            }
            Assert.Equal(requests.Take(16), buffer.Snapshot());
        }
        finally
        {
            await feed.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_timer_runs_detection_every_interval_of_the_clock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var settings = Settings();
        settings["Modules:Detection:Interval"] = "00:05:00";
        using var sp = Provider(settings, time);
        var worker = sp.GetRequiredService<DetectionWorker>();
        sp.GetRequiredService<DetectionEventBuffer>().AddRange(
            TrafficSimulator.Generate(22, new SimulationMix { Humans = 80 }, time.GetUtcNow() - TimeSpan.FromMinutes(30)).Requests);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            Assert.Null(worker.LastResult);
            time.Advance(TimeSpan.FromMinutes(5));
            for (var i = 0; i < 600 && worker.LastResult is null; i++)
            {
                await Task.Delay(50);
            }
            Assert.NotNull(worker.LastResult);
            Assert.Equal(time.GetUtcNow(), worker.LastResult!.At);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }
}
