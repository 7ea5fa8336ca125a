using System.Globalization;

namespace Ja4.Modules.Dashboard.Components.Shared;

/// <summary>X-axis labels for bucketed charts: a few evenly spaced times, the rest blank so they stay readable.</summary>
public static class ChartAxis
{
    /// <summary>One label per bucket start, at most <paramref name="shown"/> of them non-empty (the first always).</summary>
    public static string[] Labels(IReadOnlyList<DateTimeOffset> starts, TimeSpan bucket, int shown = 8)
    {
        var format = bucket >= TimeSpan.FromDays(1) ? "MM-dd" : bucket >= TimeSpan.FromHours(1) ? "MM-dd HH:mm" : "HH:mm";
        var every = Math.Max(1, (int)Math.Ceiling(starts.Count / (double)Math.Max(1, shown)));
        var labels = new string[starts.Count];
        for (var i = 0; i < starts.Count; i++)
        {
            labels[i] = i % every == 0 ? starts[i].UtcDateTime.ToString(format, CultureInfo.InvariantCulture) : "";
        }
        return labels;
    }
}
