using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.Model;
using Ja4.Modules.Detection.Simulation;
using Ja4.Tests.TestSupport;
using Xunit.Abstractions;

namespace Ja4.Tests.Detection;

/// <summary>
/// Our forest against scikit-learn 1.2.1's <c>IsolationForest</c> (Debian python3-sklearn, run by
/// <c>bench/sklearn/iforest.py</c>): on the same data, the ROC AUC of both, each averaged over five
/// seeds and computed by sklearn's <c>roc_auc_score</c>, must be within 0.01.
/// </summary>
public sealed class SklearnComparisonTests(ITestOutputHelper output)
{
    private const int Seeds = 5;

    [Fact]
    public void Gaussian_blobs_with_planted_outliers() => AssertMatchesSklearn("blobs", Blobs());

    [Fact]
    public void Heavy_tailed_data_with_planted_outliers() => AssertMatchesSklearn("heavy", HeavyTailed());

    [Fact]
    public void Simulator_entity_features_bots_against_humans() => AssertMatchesSklearn("simulator", SimulatorFeatures());

    private void AssertMatchesSklearn(string name, (FeatureMatrix Data, int[] Labels) set)
    {
        var (data, labels) = set;
        var names = Enumerable.Range(0, data.Columns).Select(i => $"f{i}").ToArray();
        var scores = new float[Seeds][];
        for (var s = 0; s < Seeds; s++)
        {
            var forest = IsolationForest.Train(data, names, new IsolationForestParameters { Seed = (ulong)s });
            scores[s] = new float[data.Rows];
            forest.Score(data, scores[s]);
        }
        var csv = Path.Combine(Path.GetTempPath(), $"ja4-iforest-{name}-{Guid.NewGuid():N}.csv");
        try
        {
            var sb = new StringBuilder();
            sb.AppendJoin(',', names).Append(",label,").AppendJoin(',', Enumerable.Range(0, Seeds).Select(s => $"ours_{s}")).Append('\n');
            for (var r = 0; r < data.Rows; r++)
            {
                foreach (var v in data.Row(r))
                {
                    sb.Append(v.ToString("R", CultureInfo.InvariantCulture)).Append(',');
                }
                sb.Append(labels[r]);
                for (var s = 0; s < Seeds; s++)
                {
                    sb.Append(',').Append(scores[s][r].ToString("R", CultureInfo.InvariantCulture));
                }
                sb.Append('\n');
            }
            File.WriteAllText(csv, sb.ToString());
            var json = RunSklearn(csv);
            using var doc = JsonDocument.Parse(json);
            var sk = doc.RootElement.GetProperty("sklearn_auc").GetDouble();
            var ours = doc.RootElement.GetProperty("ours_auc").GetDouble();
            output.WriteLine($"{name}: {data.Rows} rows x {data.Columns}, ROC AUC ours {ours:0.0000}, sklearn {sk:0.0000}");
            Assert.True(sk > 0.6, $"{name}: the data set should be learnable (sklearn AUC {sk})");
            Assert.True(Math.Abs(ours - sk) <= 0.01, $"{name}: ours {ours:0.0000} vs sklearn {sk:0.0000}");
        }
        finally
        {
            File.Delete(csv);
        }
    }

    internal static string RunSklearn(params string[] args)
    {
        var script = Path.Combine(Corpus.RepositoryRoot, "bench", "sklearn", "iforest.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("compare");
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"iforest.py failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Trim();
    }

    /// <summary>Three Gaussian blobs in 6 dimensions, 2 % of points uniform over a wider box.</summary>
    internal static (FeatureMatrix, int[]) Blobs()
    {
        var rng = new Random(101);
        const int Rows = 3000, Cols = 6;
        var m = new FeatureMatrix(Rows, Cols);
        var labels = new int[Rows];
        double[][] centres = [[0, 0, 0, 0, 0, 0], [6, 6, 0, 0, -3, 2], [-5, 4, 3, -2, 0, 0]];
        for (var r = 0; r < Rows; r++)
        {
            var outlier = r % 50 == 0;
            labels[r] = outlier ? 1 : 0;
            var c = centres[r % 3];
            for (var j = 0; j < Cols; j++)
            {
                m[r, j] = (float)(outlier ? (rng.NextDouble() * 24) - 12 : c[j] + Normal(rng));
            }
        }
        return (m, labels);
    }

    /// <summary>Log-normal and Pareto columns (long right tails); outliers are large in two columns at once.</summary>
    internal static (FeatureMatrix, int[]) HeavyTailed()
    {
        var rng = new Random(202);
        const int Rows = 4000, Cols = 5;
        var m = new FeatureMatrix(Rows, Cols);
        var labels = new int[Rows];
        for (var r = 0; r < Rows; r++)
        {
            m[r, 0] = (float)Math.Exp(Normal(rng));
            m[r, 1] = (float)(1.0 / Math.Pow(1.0 - rng.NextDouble(), 1.0 / 2.5));
            m[r, 2] = (float)Math.Exp(0.5 * Normal(rng));
            m[r, 3] = (float)(rng.NextDouble() < 0.5 ? 0 : Math.Exp(Normal(rng)));
            m[r, 4] = (float)Normal(rng);
            if (r % 40 == 0)
            {
                labels[r] = 1;
                m[r, 0] *= 8;
                m[r, 2] = (float)(m[r, 2] * 6);
            }
        }
        return (m, labels);
    }

    /// <summary>Entity features of simulator traffic; label 1 for every bot kind except declared good crawlers.</summary>
    internal static (FeatureMatrix, int[]) SimulatorFeatures()
    {
        var traffic = TrafficSimulator.Generate(31, new SimulationMix(), new DateTimeOffset(2026, 1, 5, 8, 0, 0, TimeSpan.Zero));
        var window = FeatureExtractor.Compute(traffic.Requests, traffic.Start, traffic.End);
        var labels = window.Entities.Select(e => traffic.KindOf(e.Address) is TrafficKind.Human or TrafficKind.GoodCrawler ? 0 : 1)
            .ToArray();
        return (window.Matrix, labels);
    }

    private static double Normal(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * rng.NextDouble());
    }
}
