using System.Globalization;
using Ja4.Modules.Dashboard.Data;

namespace Ja4.Modules.Dashboard.Api;

/// <summary>Reads query parameters: bad input throws <see cref="BadParameterException"/> (HTTP 400 naming it).</summary>
internal static class ApiArgs
{
    /// <summary>The time range from <c>range</c>, or <c>from</c> and <c>to</c>.</summary>
    public static TimeRange Range(string? range, string? from, string? to, TimeProvider clock)
    {
        foreach (var (name, value) in new[] { ("range", range), ("from", from), ("to", to) })
        {
            Text.Check(name, value, 64);
        }
        if (TimeRange.TryParse(range, from, to, clock.GetUtcNow(), out var r, out var error))
        {
            return r;
        }
        // The messages start with the parameter in quotes ("'to' must be after 'from'").
        var parameter = error!.StartsWith('\'') ? error[1..error.IndexOf('\'', 1)] : "from";
        throw new BadParameterException(parameter, error);
    }

    /// <summary>An optional integer within [min, max].</summary>
    public static int Int(string name, string? value, int fallback, int min, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
        {
            throw new BadParameterException(name, $"'{name}' must be an integer from {min} to {max}");
        }
        return n;
    }

    /// <summary>One of <paramref name="allowed"/> (case-insensitive), or the first when absent.</summary>
    public static string Choice(string name, string? value, params string[] allowed)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return allowed[0];
        }
        return allowed.FirstOrDefault(a => string.Equals(a, value.Trim(), StringComparison.OrdinalIgnoreCase))
               ?? throw new BadParameterException(name, $"'{name}' must be one of {string.Join(", ", allowed)}");
    }

    /// <summary>The anomaly table's sort keys as they appear in URLs.</summary>
    public static readonly string[] SortKeys = ["last_seen", "first_seen", "level", "score", "risk", "ip", "ja4", "bot", "host", "requests"];

    public static AnomalySort Sort(string? value) => Choice("sort", value, SortKeys) switch
    {
        "first_seen" => AnomalySort.FirstSeen,
        "level" => AnomalySort.Level,
        "score" => AnomalySort.Score,
        "risk" => AnomalySort.Risk,
        "ip" => AnomalySort.Ip,
        "ja4" => AnomalySort.Ja4,
        "bot" => AnomalySort.Bot,
        "host" => AnomalySort.Host,
        "requests" => AnomalySort.Requests,
        _ => AnomalySort.LastSeen,
    };

    /// <summary>The URL key of a sort column (inverse of <see cref="Sort"/>).</summary>
    public static string SortKey(AnomalySort sort) => SortKeys[(int)sort];

    /// <summary>True for <c>desc</c> (the default), false for <c>asc</c>.</summary>
    public static bool Descending(string? order) => Choice("order", order, "desc", "asc") == "desc";
}
