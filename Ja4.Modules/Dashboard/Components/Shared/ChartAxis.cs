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

    /// <summary>A round Y-axis tick step (1, 2 or 5 times a power of ten) giving about four ticks up to <paramref name="max"/>.</summary>
    public static int TickStep(double max)
    {
        if (double.IsNaN(max) || max <= 4)
        {
            return 1;
        }
        var raw = max / 4;
        var power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = raw <= power ? power : raw <= 2 * power ? 2 * power : raw <= 5 * power ? 5 * power : 10 * power;
        return (int)Math.Min(int.MaxValue, step);
    }
}
