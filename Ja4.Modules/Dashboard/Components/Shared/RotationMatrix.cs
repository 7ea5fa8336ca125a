namespace Ja4.Modules.Dashboard.Components.Shared;

/// <summary>One value's row of a <see cref="RotationMatrix"/>: its requests per bucket.</summary>
public sealed record RotationRow(string Value, long Total, IReadOnlyList<long> Counts);

/// <summary>
/// Which JA4s (or User-Agents) a client used in which time bucket: one row per value (busiest
/// first), one column per bucket. A client that rotates fingerprints shows many rows each lit in
/// few columns, and a high <see cref="Switches"/> count.
/// </summary>
public sealed class RotationMatrix
{
    private RotationMatrix(IReadOnlyList<DateTimeOffset> buckets, IReadOnlyList<RotationRow> rows, IReadOnlyList<int> distinct,
        int switches, int hiddenValues)
    {
        Buckets = buckets;
        Rows = rows;
        DistinctPerBucket = distinct;
        Switches = switches;
        HiddenValues = hiddenValues;
    }

    /// <summary>Bucket starts, oldest first (only buckets with requests).</summary>
    public IReadOnlyList<DateTimeOffset> Buckets { get; }

    /// <summary>The busiest values, most requests first (ties by value).</summary>
    public IReadOnlyList<RotationRow> Rows { get; }

    /// <summary>Distinct values per bucket (every value, also those beyond the shown rows).</summary>
    public IReadOnlyList<int> DistinctPerBucket { get; }

    /// <summary>How many times the set of values changed from one active bucket to the next.</summary>
    public int Switches { get; }

    /// <summary>Values left out of <see cref="Rows"/> by the row limit.</summary>
    public int HiddenValues { get; }

    /// <summary>Distinct values over the whole range.</summary>
    public int DistinctValues => Rows.Count + HiddenValues;

    /// <summary>Builds the matrix from (bucket, value, requests) cells; at most <paramref name="maxRows"/> rows.</summary>
    public static RotationMatrix Build(IEnumerable<(DateTimeOffset Start, string Value, long Requests)> cells, int maxRows = 12)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        var list = cells.Where(c => c.Requests > 0).ToList();
        var buckets = list.Select(c => c.Start).Distinct().Order().ToList();
        var column = buckets.Select((b, i) => (b, i)).ToDictionary(x => x.b, x => x.i);
        var byValue = list.GroupBy(c => c.Value, StringComparer.Ordinal)
            .Select(g => (Value: g.Key, Total: g.Sum(c => c.Requests), Cells: g.ToList()))
            .OrderByDescending(g => g.Total).ThenBy(g => g.Value, StringComparer.Ordinal).ToList();
        var rows = byValue.Take(maxRows).Select(g =>
        {
            var counts = new long[buckets.Count];
            foreach (var c in g.Cells)
            {
                counts[column[c.Start]] += c.Requests;
            }
            return new RotationRow(g.Value, g.Total, counts);
        }).ToList();
        var byBucket = list.ToLookup(c => c.Start);
        var sets = buckets.Select(b => byBucket[b].Select(c => c.Value).ToHashSet(StringComparer.Ordinal)).ToList();
        var switches = 0;
        for (var i = 1; i < sets.Count; i++)
        {
            if (!sets[i].SetEquals(sets[i - 1]))
            {
                switches++;
            }
        }
        return new RotationMatrix(buckets, rows, sets.Select(s => s.Count).ToList(), switches, byValue.Count - rows.Count);
    }
}
