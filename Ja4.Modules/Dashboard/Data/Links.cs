namespace Ja4.Modules.Dashboard.Data;

/// <summary>
/// The dashboard's addresses, in one place so that pages link to each other the same way.
/// Every value is escaped: addresses, fingerprints and ids come from the network.
/// </summary>
public static class Links
{
    public const string Overview = "/";
    public const string Anomalies = "/anomalies";
    public const string Campaigns = "/campaigns";
    public const string Search = "/search";
    public const string Live = "/live";
    public const string Status = "/status";
    public const string Login = "/login";
    public const string IpPage = "/ip";
    public const string FingerprintPage = "/fingerprint";

    /// <summary>IP investigation of one address or CIDR block.</summary>
    public static string Ip(string addressOrCidr, TimeRange? range = null) => With(IpPage, "addr", addressOrCidr, range);

    /// <summary>Fingerprint explorer of one JA4.</summary>
    public static string Ja4(string ja4, TimeRange? range = null) => With(FingerprintPage, "ja4", ja4, range);

    /// <summary>One campaign.</summary>
    public static string Campaign(string id, TimeRange? range = null) => With(Campaigns, "id", id, range);

    /// <summary>Search results for a query.</summary>
    public static string SearchFor(string query, TimeRange? range = null) => With(Search, "q", query, range);

    private static string With(string page, string name, string value, TimeRange? range) =>
        $"{page}?{name}={Uri.EscapeDataString(value)}" + (range is null ? "" : "&" + range.ToQueryString());
}
