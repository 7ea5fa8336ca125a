using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Features;

namespace Ja4.Modules.Detection.Campaigns;

/// <summary>Entities that behave as one actor across many addresses.</summary>
/// <param name="Id">Stable id: the same behaviour gets the same id in every run.</param>
/// <param name="Key">What the members share (cipher part of the JA4, path templates, timing bucket).</param>
/// <param name="Size">Distinct client addresses.</param>
/// <param name="Entities">Member entities.</param>
/// <param name="UserAgents">Distinct User-Agents across the members.</param>
/// <param name="FirstSeen">Earliest request of any member.</param>
/// <param name="LastSeen">Latest request of any member.</param>
/// <param name="Risk">1 − Π(1 − member risk): many weak signals add up.</param>
/// <param name="Level">Threat level of that risk.</param>
/// <param name="Returning">Seen in an earlier run, then quiet for the quiet period.</param>
public sealed record Campaign(
    string Id,
    string Key,
    int Size,
    IReadOnlyList<EntityKey> Entities,
    int UserAgents,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    double Risk,
    ThreatLevel Level,
    bool Returning);

/// <summary>
/// Groups suspicious entities by the cipher part of their JA4 (JA4_b: a rotated extension order or
/// User-Agent does not change it) and their behaviour: the set of the first path templates they
/// requested and the order of magnitude of the time between their requests. A group spanning at
/// least <c>minSize</c> addresses is a campaign.
/// </summary>
public static class CampaignGrouper
{
    /// <summary>A candidate: an entity, its risk, and whether it is suspicious enough to group.</summary>
    public readonly record struct Candidate(EntityProfile Entity, double Risk);

    public static IReadOnlyList<(string Id, string Key, List<Candidate> Members)> Group(IEnumerable<Candidate> candidates, int minSize)
    {
        var groups = new Dictionary<string, List<Candidate>>(StringComparer.Ordinal);
        foreach (var c in candidates)
        {
            var key = KeyOf(c.Entity);
            if (key is null)
            {
                continue;
            }
            if (!groups.TryGetValue(key, out var list))
            {
                list = [];
                groups[key] = list;
            }
            list.Add(c);
        }
        return groups
            .Where(g => g.Value.Select(c => c.Entity.Key.ClientIp).Distinct(StringComparer.Ordinal).Count() >= minSize)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (IdOf(g.Key), g.Key, g.Value))
            .ToArray();
    }

    /// <summary>Behaviour key of an entity, or null when it has too little to compare (one request, no paths).</summary>
    public static string? KeyOf(EntityProfile e)
    {
        if (e.Requests < 2 || e.PathTemplates.Count == 0)
        {
            return null;
        }
        var parts = e.Key.Ja4.Split('_');
        var cipher = parts.Length == 3 ? parts[1] : e.Key.Ja4;
        var templates = string.Join("|", e.PathTemplates.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        var timing = (int)Math.Floor(Math.Log2(1 + e.MeanGapSeconds));
        return string.Create(CultureInfo.InvariantCulture, $"{cipher} {e.Key.Host} t{timing} {templates}");
    }

    public static string IdOf(string key) =>
        "cmp-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..10];
}
