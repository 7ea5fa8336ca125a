using System.Globalization;
using System.Text.RegularExpressions;
using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.Storage;

/// <summary>
/// The physical design at work: <c>EXPLAIN indexes = 1</c> must show that a per-IP query on
/// <c>http_logs</c> and a time-range query on <c>ml_detected_anomalies</c> read a fraction of the
/// partitions and granules.
/// </summary>
[Collection("chdb")]
public sealed partial class ExplainIndexTests(ChdbFixture fixture)
{
    [GeneratedRegex(@"(?<kind>Parts|Granules): (?<used>\d+)/(?<total>\d+)")]
    private static partial Regex Counts();

    /// <summary>(kind, used, total) of every index step, in plan order.</summary>
    private static List<(string Kind, long Used, long Total)> Steps(string plan) => Counts().Matches(plan)
        .Select(m => (m.Groups["kind"].Value, long.Parse(m.Groups["used"].Value, CultureInfo.InvariantCulture),
            long.Parse(m.Groups["total"].Value, CultureInfo.InvariantCulture))).ToList();

    [Fact]
    public async Task A_per_ip_query_on_http_logs_skips_granules()
    {
        await using var store = fixture.Open("chdb");
        var o = fixture.Options("chdb", "explain_ip");
        try
        {
            await MigrateAsync(store, o);
            // 400,000 requests over two days from 5,000 addresses, in two inserts (two partitions). An
            // address's requests come in bursts (40 consecutive requests per day), as clients do.
            foreach (var day in new[] { "2026-11-20", "2026-11-21" })
            {
                await store.QueryAsync($"""
                    INSERT INTO {o.Database}.http_logs (time, client_ip, host, method, path, status, ja4)
                    SELECT toDateTime64('{day} 00:00:00', 6, 'UTC') + toIntervalMicrosecond(number * 432000),
                           toIPv6(IPv4NumToString(toUInt32(167772160 + intDiv(number, 40)))),
                           'shop.example', 'GET', concat('/p/', toString(number % 100)), 200, 't13d1516h2_8daaf6152771_02713d6af862'
                    FROM numbers(200000)
                    """);
            }
            var plan = await TextAsync(store, $"""
                EXPLAIN indexes = 1
                SELECT count() FROM {o.Database}.http_logs WHERE client_ip = toIPv6('10.0.0.77')
                """);
            var granules = Steps(plan).Where(s => s.Kind == "Granules").ToList();
            Assert.True(granules.Count >= 2, plan);
            var total = granules[0].Total;
            Assert.True(total >= 40, $"expected at least 40 granules in the table\n{plan}");
            Assert.True(granules[^1].Used * 4 < total, $"a per-IP query should read under a quarter of the granules\n{plan}");
            Assert.Contains("idx_client_ip", plan);
            // And the answer is right: 80 requests per address (400,000 / 5,000).
            Assert.Equal("80", await TextAsync(store, $"SELECT count() FROM {o.Database}.http_logs WHERE client_ip = toIPv6('10.0.0.77')"));
        }
        finally
        {
            await DropAsync(store, o);
        }
    }

    [Fact]
    public async Task A_time_range_query_on_anomalies_prunes_partitions_and_granules()
    {
        await using var store = fixture.Open("chdb");
        var o = fixture.Options("chdb", "explain_an");
        try
        {
            await MigrateAsync(store, o);
            // Ten days of anomalies, one insert per day: ten partitions.
            for (var d = 0; d < 10; d++)
            {
                await store.QueryAsync($"""
                    INSERT INTO {o.Database}.ml_detected_anomalies (time, client_ip, host, ja4, score, threat_level, bot_name)
                    SELECT toDateTime64('2026-11-{10 + d:D2} 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 1728),
                           toIPv6(IPv4NumToString(toUInt32(167772160 + number % 997))), 'shop.example', 'ja4', 0.9,
                           ['low', 'medium', 'high'][number % 3 + 1], 'bot'
                    FROM numbers(50000)
                    """);
            }
            var plan = await TextAsync(store, $"""
                EXPLAIN indexes = 1
                SELECT count() FROM {o.Database}.ml_detected_anomalies
                WHERE time >= toDateTime64('2026-11-15 06:00:00', 3, 'UTC') AND time < toDateTime64('2026-11-15 12:00:00', 3, 'UTC')
                """);
            var steps = Steps(plan);
            var parts = steps.Where(s => s.Kind == "Parts").ToList();
            Assert.True(parts.Count > 0, plan);
            Assert.Equal(10, parts[0].Total);
            Assert.Equal(1, parts[^1].Used);
            var granules = steps.Where(s => s.Kind == "Granules").ToList();
            Assert.Equal(60, granules[0].Total);
            Assert.True(granules[^1].Used * 10 < granules[0].Total, $"six hours of ten days should read under a tenth of the granules\n{plan}");
            Assert.Equal("12500", await TextAsync(store, $"""
                SELECT count() FROM {o.Database}.ml_detected_anomalies
                WHERE time >= toDateTime64('2026-11-15 06:00:00', 3, 'UTC') AND time < toDateTime64('2026-11-15 12:00:00', 3, 'UTC')
                """));
        }
        finally
        {
            await DropAsync(store, o);
        }
    }
}
