using System.Globalization;

namespace Ja4.Modules.Dashboard.Components.Shared;

/// <summary>How the pages write numbers: short counts on cards, exact ones in tables, shares as percentages.</summary>
public static class Numbers
{
    /// <summary>
    /// A count in at most four significant characters: 999, 1.2k, 12.3k, 123k, 1.2M, 1.2G
    /// (truncated, never rounded up, so a card never claims more than happened).
    /// </summary>
    public static string Compact(long value)
    {
        if (value < 0)
        {
            return "-" + Compact(-value);
        }
        if (value < 1000)
        {
            return value.ToString(CultureInfo.InvariantCulture);
        }
        string[] units = ["k", "M", "G", "T", "P"];
        double scaled = value;
        var unit = -1;
        while (scaled >= 1000 && unit < units.Length - 1)
        {
            scaled /= 1000;
            unit++;
        }
        var text = scaled < 100
            ? (Math.Floor(scaled * 10) / 10).ToString("0.#", CultureInfo.InvariantCulture)
            : Math.Floor(scaled).ToString("0", CultureInfo.InvariantCulture);
        return text + units[unit];
    }

    /// <summary>An exact count with thin grouping: 1 234 567.</summary>
    public static string Exact(long value) => value.ToString("#,0", CultureInfo.InvariantCulture).Replace(',', '\u2009');

    /// <summary>A share in [0, 1] as a percentage with one decimal: 0.9731 → "97.3 %"; NaN → "—".</summary>
    public static string Percent(double share) =>
        double.IsNaN(share) ? "—" : (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    /// <summary>A score or risk in [0, 1] with two decimals.</summary>
    public static string Score(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>A UTC time as the tables show it.</summary>
    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
