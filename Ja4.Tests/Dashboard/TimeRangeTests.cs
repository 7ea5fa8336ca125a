using Ja4.Modules.Dashboard.Data;

namespace Ja4.Tests.Dashboard;

public sealed class TimeRangeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Nothing_in_the_url_means_the_last_24_hours()
    {
        Assert.True(TimeRange.TryParse(null, null, null, Now, out var r, out var error));
        Assert.Null(error);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero), r.From);
        Assert.Equal(Now, r.To);
        Assert.Equal("range=24h", r.ToQueryString());
        Assert.Equal([("range", "24h")], r.FormFields);
    }

    [Fact]
    public void Absolute_bounds_win_over_a_preset_and_round_trip()
    {
        Assert.True(TimeRange.TryParse("1h", "2026-11-25T10:00:00Z", "2026-11-25T11:30:00+01:00", Now, out var r, out _));
        Assert.Null(r.Preset);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero), r.From);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 30, 0, TimeSpan.Zero), r.To);
        Assert.Equal("from=2026-11-25T10%3A00%3A00Z&to=2026-11-25T10%3A30%3A00Z", r.ToQueryString());
        // A form's hidden fields carry the values unescaped (the browser escapes them).
        Assert.Equal([("from", "2026-11-25T10:00:00Z"), ("to", "2026-11-25T10:30:00Z")], r.FormFields);
        Assert.Equal(TimeSpan.FromMinutes(1), r.Bucket);
    }

    [Theory]
    [InlineData("2h", null, null, "'range' must be one of 15m, 1h, 6h, 24h, 7d, 30d")]
    [InlineData(null, "2026-11-25T10:00:00Z", null, "'from' and 'to' must be given together")]
    [InlineData(null, "yesterday", "2026-11-25T10:00:00Z", "'from' must be an ISO 8601 time such as 2026-11-25T10:00:00Z")]
    [InlineData(null, "2026-11-25T10:00:00Z", "'; DROP TABLE x", "'to' must be an ISO 8601 time such as 2026-11-25T12:00:00Z")]
    [InlineData(null, "2026-11-25T10:00:00Z", "2026-11-25T10:00:00Z", "'to' must be after 'from'")]
    [InlineData(null, "2024-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "the range may cover at most 400 days")]
    public void Bad_parameters_are_refused_with_the_reason(string? range, string? from, string? to, string expected)
    {
        Assert.False(TimeRange.TryParse(range, from, to, Now, out _, out var error));
        Assert.Equal(expected, error);
        Assert.Equal("24h", TimeRange.Resolve(range, from, to, Now).Preset);
    }

    [Theory]
    [InlineData("15m", 1)]
    [InlineData("6h", 5)]
    [InlineData("24h", 15)]
    [InlineData("7d", 60)]
    [InlineData("30d", 1440)]
    public void Chart_buckets_follow_the_span(string preset, int minutes) =>
        Assert.Equal(TimeSpan.FromMinutes(minutes), TimeRange.FromPreset(preset, Now).Bucket);

    [Fact]
    public void Links_escape_what_came_from_the_network()
    {
        Assert.Equal("/ip?addr=10.0.0.0%2F8&range=1h", Links.Ip("10.0.0.0/8", TimeRange.FromPreset("1h", Now)));
        Assert.Equal("/fingerprint?ja4=t13d%22%3E%3Cscript%3E", Links.Ja4("t13d\"><script>"));
    }
}
