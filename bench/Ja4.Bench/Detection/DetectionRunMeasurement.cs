using System.Diagnostics;
using System.Globalization;
using Ja4.Modules.Detection;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Rules;
using Ja4.Modules.Detection.Simulation;

namespace Ja4.Bench.Detection;

/// <summary>
/// One whole detection run (in-memory features, training, scoring, rules, campaigns, explanations)
/// over about a million simulated requests. Usage: detection-run REPO_ROOT [humans].
/// </summary>
public sealed class DetectionRunMeasurement : IMeasurement
{
    public string Name => "detection-run";
    public string Description => "a whole detection run over ~1 million simulated requests";

    /// <summary>The mix of the whole-run measurements: 17,000 humans give about 1.08 million requests in an hour.</summary>
    internal static SimulationMix Mix(int humans) => new()
    {
        Humans = humans, Scrapers = humans / 25, CredentialStuffers = humans / 40, UaSpoofers = humans / 15,
        RotatorCampaigns = 4, RotatorAddresses = humans / 100, LowAndSlow = humans / 30, GoodCrawlers = 20,
    };

    public async Task<int> RunAsync(string[] args)
    {
        var root = args.Length > 0 ? args[0] : ".";
        var humans = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 17_000;
        var traffic = TrafficSimulator.Generate(99, Mix(humans), new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero));
        var known = KnownFingerprintTable.Load(Path.Combine(root, "data", "known-fingerprints.csv"), null);
        var engine = new DetectionEngine(new DetectionSettings(), known, new ConsistencyRules(known), null);

        var total = Stopwatch.StartNew();
        var features = Stopwatch.StartNew();
        var window = FeatureExtractor.Compute(traffic.Requests, traffic.Start, traffic.End);
        features.Stop();
        var result = await engine.RunAsync(window, traffic.End, CancellationToken.None);
        total.Stop();
        Console.WriteLine($"{traffic.Requests.Count} requests, {window.Entities.Count} entities, {result.Campaigns.Count} campaigns");
        var label = $"detection run {traffic.Requests.Count / 1000}k req";
        Row.Print(label, "requests", traffic.Requests.Count);
        Row.Print(label, "entities", window.Entities.Count);
        Row.Print(label, "features ms", features.Elapsed.TotalMilliseconds);
        Row.Print(label, "whole run ms", total.Elapsed.TotalMilliseconds);
        return 0;
    }
}
