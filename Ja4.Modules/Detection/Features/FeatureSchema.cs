namespace Ja4.Modules.Detection.Features;

/// <summary>One model feature: its column name and what it measures, in words for explanations.</summary>
/// <param name="Name">Column name (model schema, <c>ml_all_scores.features</c> key).</param>
/// <param name="Words">Plain words for explanations.</param>
/// <param name="Log">True when the stored value is ln(1 + x); explanations show x.</param>
public sealed record FeatureDefinition(string Name, string Words, bool Log = false)
{
    /// <summary>The value in its natural unit (undoes the ln(1 + x) of logged features).</summary>
    public double Natural(double value) => Log ? Math.Exp(value) - 1 : value;
}

/// <summary>
/// The features computed per entity (client IP × JA4 × host) and window. The same definitions are
/// written as ClickHouse SQL in <see cref="FeatureSql"/>; docs/detection.md lists both.
/// Counts and rates with long tails are stored as ln(1 + x), because an isolation tree splits
/// uniformly between a feature's minimum and maximum.
/// </summary>
public static class FeatureSchema
{
    /// <summary>Version of the schema; a model trained on another version is retrained.</summary>
    public const int Version = 1;

    public static readonly IReadOnlyList<FeatureDefinition> All =
    [
        new("log_request_rate", "requests per minute", Log: true),
        new("log_distinct_paths", "distinct paths", Log: true),
        new("path_entropy", "path entropy (bits)"),
        new("static_ratio", "share of static assets"),
        new("status_4xx_ratio", "share of 4xx answers"),
        new("status_5xx_ratio", "share of 5xx answers"),
        new("status_401_403_ratio", "share of 401/403 answers"),
        new("non_get_ratio", "share of methods other than GET/HEAD"),
        new("log_mean_bytes", "mean response bytes", Log: true),
        new("log_interarrival_mean", "mean seconds between requests", Log: true),
        new("interarrival_cv", "variation of the time between requests (CV)"),
        new("no_referer_ratio", "share without Referer"),
        new("no_accept_language_ratio", "share without Accept-Language"),
        new("no_cookie_ratio", "share without cookies"),
        new("distinct_user_agents", "distinct User-Agents"),
        new("ja4s_per_ip", "distinct JA4s of the address"),
        new("log_ips_per_ja4", "addresses using this JA4", Log: true),
        new("tls_version", "TLS version (13 = 1.3)"),
        new("alpn_mismatch_ratio", "share where the HTTP version disagrees with the ALPN offered"),
        new("sni_mismatch_ratio", "share where SNI is missing or differs from Host"),
        new("header_signature_rarity", "rarity of the header signature (−log10 share)"),
        new("ja4_browser_share", "share of this JA4's requests that look like a browser's"),
        new("ja4_volume_rank", "request-volume rank of this JA4 (0 = most used, 1 = least)"),
        new("log_ja4_hosts", "hosts this JA4 touches", Log: true),
        new("log_ja4_paths", "paths this JA4 touches", Log: true),
    ];

    public static readonly IReadOnlyList<string> Names = All.Select(f => f.Name).ToArray();

    public static int IndexOf(string name)
    {
        for (var i = 0; i < All.Count; i++)
        {
            if (All[i].Name == name)
            {
                return i;
            }
        }
        throw new ArgumentException($"unknown feature {name}", nameof(name));
    }

    /// <summary>Path suffixes counted as static assets.</summary>
    public static readonly IReadOnlyList<string> StaticExtensions =
        [".css", ".js", ".mjs", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".avif", ".woff", ".woff2", ".ttf", ".map"];

    public static bool IsStatic(string path)
    {
        foreach (var e in StaticExtensions)
        {
            if (path.EndsWith(e, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
