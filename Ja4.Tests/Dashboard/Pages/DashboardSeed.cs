using System.Globalization;
using System.Text;
using System.Text.Json;
using Ja4.Modules.Storage.Engines;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.Dashboard.Pages;

/// <summary>
/// A small hand-made store for the dashboard's tests: five requests from three addresses over
/// two hours after <see cref="Base"/>, scores, anomalies, campaigns, one stored handshake and one
/// known fingerprint. Every expectation in the tests is counted by hand from these rows.
/// </summary>
internal sealed class DashboardSeed(DateTimeOffset @base)
{
    /// <summary>Chrome's JA4 in FoxIO's latest.pcapng (its first handshake).</summary>
    public const string Ja4Chrome = "t13d1516h2_8daaf6152771_e5627efa2ab1";

    /// <summary>The second handshake of latest.pcapng, used here as the "curl" client.</summary>
    public const string Ja4Curl = "t12d190800_d83cc789557e_7af1ed941c26";

    public const string Hostile = "<script>alert(1)</script>";
    public const string ChromeUa = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    public const string ModelA = "if-2026.11.20-a";
    public const string ModelB = "if-2026.11.20-b";

    /// <summary>An hour start; every row lies in [Base, Base + 2 h).</summary>
    public DateTimeOffset Base { get; } = @base;

    public static JsonElement Corpus(int index) => TestSupport.Corpus.Expected("latest.pcapng")[index];

    public async Task WriteAsync(IStoreExecutor store, string database)
    {
        var chrome = Corpus(0);
        var curl = Corpus(1);
        Assert.Equal(Ja4Chrome, chrome.GetProperty("ja4").GetString());
        Assert.Equal(Ja4Curl, curl.GetProperty("ja4").GetString());

        await InsertAsync(store, $"{database}.http_logs", [
            Request(5, "203.0.113.7", 40001, "shop.example", "/login", 200, ChromeUa, "matched", Ja4Chrome, "1.3", ["h2", "http/1.1"], "shop.example", null),
            Request(20, "203.0.113.7", 40002, "shop.example", "/cart", 404, "curl/8.5.0", "matched", Ja4Curl, "1.2", ["http/1.1"], "shop.example", curl),
            Request(70, "203.0.113.7", 40003, "api.example", "/" + Hostile, 200, Hostile, "matched", Ja4Curl, "1.2", [], Hostile, curl),
            Request(30, "203.0.113.9", 40004, "shop.example", "/login", 500, ChromeUa, "matched", Ja4Chrome, "1.3", ["h2"], "shop.example", null),
            Request(100, "198.51.100.4", 50000, "shop.example", "/", 200, "python-requests/2.31", "plain_http", "", "", [], "", null),
        ]);
        await InsertAsync(store, $"{database}.tls_handshakes", [
            new Dictionary<string, object?>
            {
                ["time"] = Time(4), ["client_ip"] = V6("203.0.113.7"), ["client_port"] = 40001, ["server_ip"] = V6("192.0.2.1"), ["server_port"] = 443,
                ["sni"] = "shop.example", ["alpn"] = new[] { "h2", "http/1.1" }, ["tls_version"] = "1.3", ["legacy_version"] = 771,
                ["ja4"] = Ja4Chrome, ["ja4_r"] = Str(chrome, "ja4_r"), ["ja4_o"] = Str(chrome, "ja4_o"), ["ja4_ro"] = Str(chrome, "ja4_ro"),
                ["ja3"] = Str(chrome, "ja3"), ["ja3_full"] = Str(chrome, "ja3_full"),
            },
        ]);
        var scoreRows = new[]
        {
            Score(50, "203.0.113.7", "shop.example", Ja4Curl, 0.71, 0.82, "high", true, ModelA, "Rotates JA4 and User-Agent between requests", ["ua_tls_mismatch"], "c-1"),
            Score(50, "203.0.113.9", "shop.example", Ja4Chrome, 0.40, 0.20, "none", false, ModelA, "", [], ""),
            Score(80, "203.0.113.9", "shop.example", Ja4Chrome, 0.60, 0.55, "medium", true, ModelA, "Many server errors", [], ""),
            Score(90, "198.51.100.4", "shop.example", "", 0.80, 0.90, "high", true, ModelB, "Plain HTTP script", ["no_tls"], ""),
            Score(90, "203.0.113.7", "api.example", Ja4Curl, 0.35, 0.30, "low", false, ModelB, "", [], ""),
        };
        await InsertAsync(store, $"{database}.ml_all_scores", scoreRows);
        await InsertAsync(store, $"{database}.ml_detected_anomalies", scoreRows.Where(r => (bool)r["is_anomaly"]!)
            .Select(r => r.Where(kv => kv.Key != "is_anomaly").ToDictionary(kv => kv.Key, kv => kv.Value)).ToArray());
        await InsertAsync(store, $"{database}.ml_campaigns", [
            Campaign(50, "c-1", 1, ["203.0.113.7"]),
            Campaign(90, "c-1", 2, ["203.0.113.7", "192.0.2.55"]),
            Campaign(90, "c-2", 1, ["198.51.100.4"]),
        ]);
        await InsertAsync(store, $"{database}.known_fingerprints", [
            new Dictionary<string, object?>
            {
                ["ja4"] = Ja4Chrome, ["application"] = "Chrome", ["library"] = "BoringSSL", ["device"] = "", ["os"] = "Linux",
                ["category"] = "browser", ["source"] = "test", ["notes"] = "", ["updated_at"] = "2026-11-20 00:00:00",
            },
        ]);
        await store.QueryAsync($"SYSTEM RELOAD DICTIONARY {database}.known_fingerprints_dict");
    }

    private Dictionary<string, object?> Request(int minute, string ip, int port, string host, string path, int status, string ua, string match,
        string ja4, string tls, string[] alpn, string sni, JsonElement? raw) => new()
    {
        ["time"] = Time(minute), ["client_ip"] = V6(ip), ["client_port"] = port, ["server_ip"] = V6("192.0.2.1"), ["server_port"] = 443,
        ["method"] = "GET", ["host"] = host, ["path"] = path, ["protocol"] = "HTTP/1.1", ["status"] = status, ["bytes_sent"] = 100,
        ["user_agent"] = ua, ["match_status"] = match, ["sni"] = sni, ["alpn"] = alpn, ["tls_version"] = tls, ["ja4"] = ja4,
        ["ja4_r"] = raw is { } r ? Str(r, "ja4_r") : "", ["ja4_ro"] = raw is { } o ? Str(o, "ja4_ro") : "",
        ["ja3_full"] = raw is { } f ? Str(f, "ja3_full") : "", ["ja3"] = raw is { } j ? Str(j, "ja3") : "",
    };

    private Dictionary<string, object?> Score(int minute, string ip, string host, string ja4, double score, double risk, string level, bool anomaly,
        string model, string explanation, string[] rules, string campaign) => new()
    {
        ["time"] = Time(minute), ["window_start"] = Time(minute - 10)[..19], ["window_end"] = Time(minute)[..19], ["host"] = host,
        ["client_ip"] = V6(ip), ["ja4"] = ja4, ["score"] = score, ["risk"] = risk, ["requests"] = 1, ["threat_level"] = level,
        ["bot_name"] = "", ["is_anomaly"] = anomaly, ["model_version"] = model, ["features"] = new Dictionary<string, double>(),
        ["explanation"] = explanation, ["rule_ids"] = rules, ["campaign_id"] = campaign, ["returning"] = false,
    };

    private Dictionary<string, object?> Campaign(int minute, string id, int size, string[] ips) => new()
    {
        ["time"] = Time(minute), ["id"] = id, ["key"] = "ja4=" + Ja4Curl, ["size"] = size, ["user_agents"] = 2,
        ["first_seen"] = Time(5), ["last_seen"] = Time(minute), ["risk"] = 0.8, ["threat_level"] = "high", ["returning"] = false,
        ["model_version"] = ModelA,
        ["members"] = ips.Select(ip => new Dictionary<string, string> { ["client_ip"] = V6(ip), ["ja4"] = Ja4Curl, ["host"] = "shop.example" }).ToArray(),
    };

    public DateTimeOffset At(int minute) => Base.AddMinutes(minute);

    private string Time(int minute) => At(minute).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);

    private static string V6(string ip) => "::ffff:" + ip;

    private static string Str(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    private static async Task InsertAsync(IStoreExecutor store, string table, IReadOnlyList<Dictionary<string, object?>> rows)
    {
        var columns = rows[0].Keys.ToList();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.Append(JsonSerializer.Serialize(row)).Append('\n');
        }
        await store.InsertAsync(table, columns, "JSONEachRow", Encoding.UTF8.GetBytes(text.ToString()));
    }
}
