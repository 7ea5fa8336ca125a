namespace Ja4.Tests.Dashboard.Api;

/// <summary>
/// Hand-made rows for the dashboard tests, relative to the start of an hour three hours ago
/// (<see cref="Base"/>), so that "last 24 hours" and the store's retention both cover them.
/// Every expectation in the tests is counted from these rows by hand:
/// <list type="bullet">
/// <item>7 requests: 198.51.100.10 ×3 (/login, /cart, /checkout at +10, +11, +12 min), 198.51.100.11 ×2
/// (/login, /cart at +20, +21 min), both JA4 <see cref="Ja4A"/> on shop.example with "python-requests/2.31";
/// 203.0.113.5 ×1 (/api/items, +30 min, User-Agent &lt;script&gt;alert(1)&lt;/script&gt;) and 2001:db8::7 ×1
/// (/=cmd, +40 min), both JA4 <see cref="Ja4B"/> on api.example.</item>
/// <item>4 anomaly rows in 3 groups: .10 high 0.81 (run +1h) then medium 0.70 (run +2h); .11 critical 0.95;
/// 2001:db8::7 low 0.55. Explanations "=SUM(A1)" and "-1 odd" test CSV neutralisation.</item>
/// <item>Campaign c-1: an older row (1 member, high) and the latest (2 members, critical, risk 0.93).</item>
/// </list>
/// </summary>
internal static class DashboardSeed
{
    public const string Ja4A = "t13d1516h2_8daaf6152771_e5627efa2ab1";
    public const string Ja4B = "t13d1715h2_5b57614c22b0_3d5424432f57";
    public const string Ja3A = "e7d705a3286e19ea42f587b344ee6865";
    public const string Ja3B = "0123456789abcdef0123456789abcdef";
    public const string ScriptUa = "<script>alert(1)</script>";

    public static readonly DateTimeOffset Base = new DateTimeOffset(DateTimeOffset.UtcNow.Year, DateTimeOffset.UtcNow.Month,
        DateTimeOffset.UtcNow.Day, DateTimeOffset.UtcNow.Hour, 0, 0, TimeSpan.Zero).AddHours(-3);

    /// <summary>A range from an hour before <see cref="Base"/> to three hours after (4 h: 5-minute buckets).</summary>
    public static string Window => $"from={Iso(Base.AddHours(-1))}&to={Iso(Base.AddHours(3))}";

    public static string Iso(DateTimeOffset t) => Uri.EscapeDataString(t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));

    private static string At(int minutes) => DashboardTestDaemon.Sql(Base.AddMinutes(minutes));

    public static async Task SeedAsync(DashboardTestDaemon daemon)
    {
        static string Request(int minute, string ip, int port, string host, string path, string ua, string ja4, string ja3) =>
            $"({At(minute)}, toIPv6('{ip}'), {port}, toIPv6('192.0.2.1'), 443, 'GET', '{host}', '{path}', 'HTTP/1.1', 200, 100, " +
            $"'{ua}', 'matched', '{ja4}', '{ja3}')";
        await daemon.ExecAsync($"""
            INSERT INTO {"{db}"}.http_logs (time, client_ip, client_port, server_ip, server_port, method, host, path, protocol, status,
                bytes_sent, user_agent, match_status, ja4, ja3) VALUES
            {Request(10, "198.51.100.10", 40001, "shop.example", "/login", "python-requests/2.31", Ja4A, Ja3A)},
            {Request(11, "198.51.100.10", 40001, "shop.example", "/cart", "python-requests/2.31", Ja4A, Ja3A)},
            {Request(12, "198.51.100.10", 40001, "shop.example", "/checkout", "python-requests/2.31", Ja4A, Ja3A)},
            {Request(20, "198.51.100.11", 40002, "shop.example", "/login", "python-requests/2.31", Ja4A, Ja3A)},
            {Request(21, "198.51.100.11", 40002, "shop.example", "/cart", "python-requests/2.31", Ja4A, Ja3A)},
            {Request(30, "203.0.113.5", 40003, "api.example", "/api/items", ScriptUa, Ja4B, Ja3B)},
            {Request(40, "2001:db8::7", 40004, "api.example", "/=cmd", "=HYPERLINK(\\'x\\')", Ja4B, Ja3B)}
            """);
        static string Anomaly(int runMinute, int windowStart, string ip, string ja4, string host, double score, double risk, string level,
            string bot, int requests, string explanation, string campaign) =>
            $"({At(runMinute)}, {At(windowStart)}, {At(windowStart + 60)}, '{host}', toIPv6('{ip}'), '{ja4}', {score}, {risk}, {requests}, " +
            $"'{level}', '{bot}', 'm1', '{explanation}', '{campaign}')";
        await daemon.ExecAsync($"""
            INSERT INTO {"{db}"}.ml_detected_anomalies (time, window_start, window_end, host, client_ip, ja4, score, risk, requests,
                threat_level, bot_name, model_version, explanation, campaign_id) VALUES
            {Anomaly(60, 0, "198.51.100.10", Ja4A, "shop.example", 0.81, 0.9, "high", "python-requests", 3, "Sends the same three paths. Rotates nothing.", "c-1")},
            {Anomaly(120, 60, "198.51.100.10", Ja4A, "shop.example", 0.70, 0.75, "medium", "python-requests", 0, "Still there.", "c-1")},
            {Anomaly(60, 0, "198.51.100.11", Ja4A, "shop.example", 0.95, 0.97, "critical", "python-requests", 2, "=SUM(A1)", "c-1")},
            {Anomaly(60, 0, "2001:db8::7", Ja4B, "api.example", 0.55, 0.5, "low", "", 1, "-1 odd", "")}
            """);
        await daemon.ExecAsync($"""
            INSERT INTO {"{db}"}.ml_campaigns (time, id, key, size, user_agents, first_seen, last_seen, risk, threat_level, returning,
                model_version, members) VALUES
            ({At(30)}, 'c-1', 'ja4={Ja4A}', 1, 1, {At(10)}, {At(12)}, 0.8, 'high', false, 'm1',
                [(toIPv6('198.51.100.10'), '{Ja4A}', 'shop.example')]),
            ({At(60)}, 'c-1', 'ja4={Ja4A}', 2, 1, {At(10)}, {At(21)}, 0.93, 'critical', false, 'm1',
                [(toIPv6('198.51.100.10'), '{Ja4A}', 'shop.example'), (toIPv6('198.51.100.11'), '{Ja4A}', 'shop.example')])
            """);
    }
}
