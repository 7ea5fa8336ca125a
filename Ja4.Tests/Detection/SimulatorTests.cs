using System.Text.Json;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Rules;
using Ja4.Modules.Detection.Simulation;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.Detection;

public sealed class SimulatorTests
{
    internal static readonly DateTimeOffset Start = new(2026, 2, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Same_seed_same_traffic_other_seed_other_traffic()
    {
        var a = TrafficSimulator.Generate(5, new SimulationMix { Humans = 40 }, Start);
        var b = TrafficSimulator.Generate(5, new SimulationMix { Humans = 40 }, Start);
        var c = TrafficSimulator.Generate(6, new SimulationMix { Humans = 40 }, Start);
        static string Line(Ja4.Modules.Core.Events.CorrelatedRequest r) =>
            $"{r.Request.Timestamp:o} {r.Request.Flow} {r.Request.Method} {r.Request.Path} {r.Request.Status} {r.Handshake?.Ja4} " +
            string.Join("|", r.Request.Headers.Select(h => h.Key + "=" + h.Value));
        Assert.Equal(a.Requests.Select(Line), b.Requests.Select(Line));
        Assert.NotEqual(a.Requests.Select(Line), c.Requests.Select(Line));
    }

    [Fact]
    public void Every_kind_is_present_labelled_and_inside_the_window_in_time_order()
    {
        var t = TrafficSimulator.Generate(1, new SimulationMix(), Start);
        foreach (var kind in Enum.GetValues<TrafficKind>())
        {
            Assert.Contains(t.Requests, r => t.KindOf(r.Request.Flow.ClientIp) == kind);
        }
        Assert.All(t.Requests, r => Assert.InRange(r.Request.Timestamp, t.Start, t.End - TimeSpan.FromTicks(1)));
        Assert.Equal(t.Requests.Select(r => r.Request.Timestamp).Order(), t.Requests.Select(r => r.Request.Timestamp));
        // Every request carries the handshake of its own connection.
        Assert.All(t.Requests, r => Assert.Equal(r.Request.Flow, r.Handshake!.Flow));
    }

    [Fact]
    public void Browser_fingerprints_are_real_ones_from_the_foxio_corpus_or_the_shipped_table()
    {
        var corpus = Directory.EnumerateFiles(Corpus.FoxioExpectedDir, "*.json")
            .SelectMany(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.EnumerateArray()
                .Where(e => e.TryGetProperty("ja4", out _)).Select(e => e.GetProperty("ja4").GetString()!))
            .ToHashSet();
        Assert.Contains(ClientProfiles.Chrome.Ja4, corpus);
        Assert.Contains(ClientProfiles.Firefox.Ja4, corpus);
        var table = KnownFingerprintTable.Load(Path.Combine(Corpus.RepositoryRoot, "data", "known-fingerprints.csv"), null);
        foreach (var p in ClientProfiles.Browsers.Concat(ClientProfiles.Libraries))
        {
            Assert.True(table.TryGet(p.Ja4, out var known), $"{p.Name} {p.Ja4} missing from known-fingerprints.csv");
            Assert.Equal(p.Family, known.Family);
        }
    }

    [Fact]
    public void Humans_fetch_assets_with_referers_and_send_cookies_after_the_first_response()
    {
        var t = TrafficSimulator.Generate(2, new SimulationMix { Humans = 30 }, Start);
        var humans = t.Requests.Where(r => t.KindOf(r.Request.Flow.ClientIp) == TrafficKind.Human)
            .GroupBy(r => r.Request.Flow.ClientIp).ToArray();
        Assert.Equal(30, humans.Length);
        foreach (var h in humans)
        {
            var list = h.ToArray();
            Assert.Null(list[0].Request.HeaderValue("Cookie"));
            Assert.Contains(list.Skip(1), r => r.Request.HeaderValue("Cookie") is not null);
            Assert.Contains(list, r => r.Request.Path.StartsWith("/static/", StringComparison.Ordinal) &&
                                       r.Request.HeaderValue("Referer") is not null);
            Assert.All(list, r => Assert.True(UserAgentParser.Parse(r.Request.UserAgent).ClaimsBrowser));
        }
    }

    [Fact]
    public void Ua_spoofers_send_a_browser_user_agent_over_a_library_handshake()
    {
        var t = TrafficSimulator.Generate(3, new SimulationMix(), Start);
        var libraries = ClientProfiles.Libraries.Select(l => l.Ja4).ToHashSet();
        var spoofed = t.Requests.Where(r => t.KindOf(r.Request.Flow.ClientIp) == TrafficKind.UaSpoofer).ToArray();
        Assert.NotEmpty(spoofed);
        Assert.All(spoofed, r =>
        {
            Assert.Contains(r.Handshake!.Ja4, libraries);
            Assert.True(UserAgentParser.Parse(r.Request.UserAgent).ClaimsBrowser);
        });
    }

    [Fact]
    public void Rotators_of_one_campaign_use_many_addresses_and_user_agents()
    {
        var t = TrafficSimulator.Generate(4, new SimulationMix { RotatorCampaigns = 1, RotatorAddresses = 10 }, Start);
        var rotators = t.Requests.Where(r => t.KindOf(r.Request.Flow.ClientIp) == TrafficKind.Rotator).ToArray();
        Assert.Equal(10, rotators.Select(r => r.Request.Flow.ClientIp).Distinct().Count());
        Assert.True(rotators.Select(r => r.Request.UserAgent).Distinct().Count() >= 3);
        Assert.Single(rotators.Select(r => t.Clients[r.Request.Flow.ClientIp].Actor).Distinct());
    }
}
