namespace Ja4.Bench.Detection;

/// <summary>Ranking and threshold metrics over (score, label) pairs.</summary>
public static class Evaluation
{
    /// <summary>ROC AUC as the Mann–Whitney U statistic: P(score of a positive > score of a negative), ties count half.</summary>
    public static double RocAuc(IReadOnlyList<double> positives, IReadOnlyList<double> negatives)
    {
        if (positives.Count == 0 || negatives.Count == 0)
        {
            return double.NaN;
        }
        var all = positives.Select(s => (s, 1)).Concat(negatives.Select(s => (s, 0))).OrderBy(x => x.s).ToArray();
        double rankSum = 0;
        var i = 0;
        while (i < all.Length)
        {
            var j = i;
            while (j < all.Length && all[j].s == all[i].s)
            {
                j++;
            }
            var rank = (i + j + 1) / 2.0; // mean 1-based rank of the tie group
            for (var k = i; k < j; k++)
            {
                if (all[k].Item2 == 1)
                {
                    rankSum += rank;
                }
            }
            i = j;
        }
        double p = positives.Count, n = negatives.Count;
        return (rankSum - (p * (p + 1) / 2)) / (p * n);
    }

    /// <summary>The smallest threshold above which at most <paramref name="rate"/> of the negatives lie.</summary>
    public static double ThresholdAtFalsePositiveRate(IReadOnlyList<double> negatives, double rate)
    {
        var sorted = negatives.OrderByDescending(s => s).ToArray();
        var allowed = (int)Math.Floor(rate * sorted.Length);
        return allowed >= sorted.Length ? double.NegativeInfinity : sorted[allowed];
    }
}
