using System.Globalization;

namespace Ja4.Modules.Dashboard.Data;

/// <summary>
/// The time range every page and API call works on, as it travels in URLs: either a preset
/// (<c>range=24h</c>, relative to now, so a shared link stays "the last 24 hours") or absolute
/// bounds (<c>from=2026-11-25T10:00:00Z&amp;to=2026-11-25T12:00:00Z</c>, ISO 8601).
/// </summary>
public sealed record TimeRange(DateTimeOffset From, DateTimeOffset To, string? Preset)
{
    /// <summary>The longest range a query may cover.</summary>
    public static readonly TimeSpan MaxSpan = TimeSpan.FromDays(400);

    /// <summary>Preset used when a URL names none.</summary>
    public const string DefaultPreset = "24h";

    /// <summary>Presets offered by the picker, in order.</summary>
    public static readonly IReadOnlyList<(string Key, string Label, TimeSpan Span)> Presets =
    [
        ("15m", "Last 15 minutes", TimeSpan.FromMinutes(15)),
        ("1h", "Last hour", TimeSpan.FromHours(1)),
        ("6h", "Last 6 hours", TimeSpan.FromHours(6)),
        ("24h", "Last 24 hours", TimeSpan.FromHours(24)),
        ("7d", "Last 7 days", TimeSpan.FromDays(7)),
        ("30d", "Last 30 days", TimeSpan.FromDays(30)),
    ];

    /// <summary>Length of the range.</summary>
    public TimeSpan Span => To - From;

    /// <summary>The last <paramref name="preset"/> before <paramref name="now"/>.</summary>
    public static TimeRange FromPreset(string preset, DateTimeOffset now)
    {
        foreach (var p in Presets)
        {
            if (p.Key == preset)
            {
                return new TimeRange(now - p.Span, now, p.Key);
            }
        }
        throw new ArgumentException($"unknown range '{preset}'", nameof(preset));
    }

    /// <summary>
    /// Reads the URL's <c>range</c>, <c>from</c> and <c>to</c>: absolute bounds win over a preset;
    /// nothing at all means the default preset. On failure <paramref name="error"/> says which
    /// parameter is wrong and how, in words fit for an HTTP 400.
    /// </summary>
    public static bool TryParse(string? range, string? from, string? to, DateTimeOffset now,
        out TimeRange result, out string? error)
    {
        result = FromPreset(DefaultPreset, now);
        error = null;
        if (!string.IsNullOrEmpty(from) || !string.IsNullOrEmpty(to))
        {
            if (string.IsNullOrEmpty(from) || string.IsNullOrEmpty(to))
            {
                error = "'from' and 'to' must be given together";
                return false;
            }
            if (!TryInstant(from, out var f))
            {
                error = "'from' must be an ISO 8601 time such as 2026-11-25T10:00:00Z";
                return false;
            }
            if (!TryInstant(to, out var t))
            {
                error = "'to' must be an ISO 8601 time such as 2026-11-25T12:00:00Z";
                return false;
            }
            if (t <= f)
            {
                error = "'to' must be after 'from'";
                return false;
            }
            if (t - f > MaxSpan)
            {
                error = $"the range may cover at most {MaxSpan.TotalDays:0} days";
                return false;
            }
            result = new TimeRange(f, t, null);
            return true;
        }
        if (string.IsNullOrEmpty(range))
        {
            return true;
        }
        if (!Presets.Any(p => p.Key == range))
        {
            error = $"'range' must be one of {string.Join(", ", Presets.Select(p => p.Key))}";
            return false;
        }
        result = FromPreset(range, now);
        return true;
    }

    /// <summary>Like <see cref="TryParse"/>, falling back to the default preset on bad input (pages).</summary>
    public static TimeRange Resolve(string? range, string? from, string? to, DateTimeOffset now) =>
        TryParse(range, from, to, now, out var r, out _) ? r : FromPreset(DefaultPreset, now);

    /// <summary>The URL parameters that reproduce this range (null values remove a parameter).</summary>
    public IReadOnlyDictionary<string, object?> QueryParameters => Preset is not null
        ? new Dictionary<string, object?> { ["range"] = Preset, ["from"] = null, ["to"] = null }
        : new Dictionary<string, object?> { ["range"] = null, ["from"] = Format(From), ["to"] = Format(To) };

    /// <summary>The parameters this range sets (none of the removals), as a GET form's hidden fields carry them.</summary>
    public IEnumerable<(string Name, string Value)> FormFields =>
        QueryParameters.Where(p => p.Value is string).Select(p => (p.Key, (string)p.Value!));

    /// <summary>The same parameters as a query string without the leading '?'.</summary>
    public string ToQueryString() => Preset is not null
        ? "range=" + Preset
        : "from=" + Uri.EscapeDataString(Format(From)) + "&to=" + Uri.EscapeDataString(Format(To));

    /// <summary>A short human label: the preset's name or the two bounds in UTC.</summary>
    public string Label => Preset is not null
        ? Presets.First(p => p.Key == Preset).Label
        : $"{From.UtcDateTime:yyyy-MM-dd HH:mm} – {To.UtcDateTime:yyyy-MM-dd HH:mm} UTC";

    /// <summary>
    /// A bucket width that gives a readable chart (about 30–120 points) for this range:
    /// 1 minute up to 2 hours, 5 minutes up to 12 hours, 15 minutes up to 2 days, 1 hour up to 7 days, else 1 day.
    /// </summary>
    public TimeSpan Bucket => Span switch
    {
        var s when s <= TimeSpan.FromHours(2) => TimeSpan.FromMinutes(1),
        var s when s <= TimeSpan.FromHours(12) => TimeSpan.FromMinutes(5),
        var s when s <= TimeSpan.FromDays(2) => TimeSpan.FromMinutes(15),
        var s when s <= TimeSpan.FromDays(7) => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    private static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static bool TryInstant(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
}
