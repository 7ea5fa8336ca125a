using Ja4.Modules.Detection.Model;

namespace Ja4.Tests.Detection;

/// <summary>Facts of Liu, Ting and Zhou (2008) that can be checked by hand.</summary>
public sealed class IsolationForestTests
{
    internal static FeatureMatrix Gaussian(int rows, int columns, int seed, double spread = 1.0)
    {
        var rng = new Random(seed);
        var m = new FeatureMatrix(rows, columns);
        for (var i = 0; i < m.Data.Length; i++)
        {
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            m.Data[i] = (float)(spread * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return m;
    }

    private static string[] Names(int n) => Enumerable.Range(0, n).Select(i => $"f{i}").ToArray();

    [Theory]
    // c(n) = 2H(n−1) − 2(n−1)/n with H(i) = ln(i) + 0.5772156649; c(2) = 1, c(1) = 0 (values worked out by hand
    // and agreeing with sklearn.ensemble._iforest._average_path_length).
    [InlineData(0, 0.0)]
    [InlineData(1, 0.0)]
    [InlineData(2, 1.0)]
    [InlineData(3, 1.207392357586557)]
    [InlineData(100, 8.364671030069179)]
    [InlineData(256, 10.244770920116851)]
    public void Average_path_length_is_the_papers_c_of_n(int n, double expected) =>
        Assert.Equal(expected, IsolationForest.AveragePathLength(n), 12);

    [Theory]
    [InlineData(256, 8)]
    [InlineData(100, 7)]
    [InlineData(2, 1)]
    [InlineData(257, 9)]
    public void Height_limit_is_ceil_log2_psi(int psi, int expected) => Assert.Equal(expected, IsolationForest.HeightLimit(psi));

    [Fact]
    public void Two_points_each_isolated_at_depth_one_score_exactly_one_half()
    {
        // ψ = 2: one split separates them, each leaf holds 1 row: h = 1 + c(1) = 1, c(2) = 1, s = 2^−1.
        var data = new FeatureMatrix([0f, 1f], 2, 1);
        var forest = IsolationForest.Train(data, ["x"], new IsolationForestParameters { Trees = 10, SampleSize = 2 });
        Assert.Equal(1.0, forest.PathLength([0f]), 6);
        Assert.Equal(0.5, forest.Score([0f]), 6);
        Assert.Equal(0.5, forest.Score([1f]), 6);
    }

    [Fact]
    public void Identical_rows_cannot_be_split_and_score_one_half()
    {
        // No attribute has max > min: the root is an external node of size ψ, h = c(ψ), s = 2^−1.
        var data = new FeatureMatrix(Enumerable.Repeat(3f, 300 * 2).ToArray(), 300, 2);
        var forest = IsolationForest.Train(data, ["a", "b"]);
        Assert.Equal(IsolationForest.AveragePathLength(256), forest.PathLength([3f, 3f]), 5);
        Assert.Equal(0.5, forest.Score([3f, 3f]), 6);
    }

    [Fact]
    public void A_far_outlier_scores_above_every_inlier()
    {
        var data = Gaussian(1000, 4, seed: 1);
        data.Row(17)[0] = 12f;
        data.Row(17)[2] = -11f;
        var forest = IsolationForest.Train(data, Names(4));
        var scores = new float[data.Rows];
        forest.Score(data, scores);
        Assert.True(scores[17] > 0.7, $"outlier score {scores[17]}");
        Assert.Equal(17, Array.IndexOf(scores, scores.Max()));
        var sorted = scores.Order().ToArray();
        Assert.True(sorted[sorted.Length / 2] < 0.5, $"median inlier score {sorted[sorted.Length / 2]}");
    }

    [Fact]
    public void Batch_scores_equal_single_row_scores()
    {
        var data = Gaussian(2000, 5, seed: 3);
        var forest = IsolationForest.Train(data, Names(5));
        var scores = new float[data.Rows];
        forest.Score(data, scores);
        for (var i = 0; i < data.Rows; i += 97)
        {
            Assert.Equal(forest.Score(data.Row(i)), scores[i], 5);
        }
    }

    [Fact]
    public void Same_seed_same_forest_other_seed_other_forest()
    {
        var data = Gaussian(3000, 6, seed: 5);
        var a = IsolationForest.Train(data, Names(6), new IsolationForestParameters { Seed = 9 });
        var b = IsolationForest.Train(data, Names(6), new IsolationForestParameters { Seed = 9 });
        var c = IsolationForest.Train(data, Names(6), new IsolationForestParameters { Seed = 10 });
        var sa = new float[data.Rows];
        var sb = new float[data.Rows];
        var sc = new float[data.Rows];
        a.Score(data, sa);
        b.Score(data, sb);
        c.Score(data, sc);
        Assert.Equal(sa, sb);
        Assert.NotEqual(sa, sc);
        using var ma = new MemoryStream();
        using var mb = new MemoryStream();
        a.Save(ma);
        b.Save(mb);
        Assert.Equal(ma.ToArray(), mb.ToArray());
    }

    [Fact]
    public void Saved_model_reloads_with_identical_scores_schema_and_parameters()
    {
        var data = Gaussian(1500, 3, seed: 8);
        var forest = IsolationForest.Train(data, ["rate", "paths", "bytes"], new IsolationForestParameters { Trees = 50, Seed = 4 });
        using var stream = new MemoryStream();
        forest.Save(stream);
        stream.Position = 0;
        var loaded = IsolationForest.Load(stream, ["rate", "paths", "bytes"]);
        Assert.Equal(forest.FeatureNames, loaded.FeatureNames);
        Assert.Equal(forest.Medians, loaded.Medians);
        Assert.Equal(50, loaded.TreeCount);
        Assert.Equal(4UL, loaded.Parameters.Seed);
        var a = new float[data.Rows];
        var b = new float[data.Rows];
        forest.Score(data, a);
        loaded.Score(data, b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Loading_rejects_another_schema_a_truncated_file_and_foreign_bytes()
    {
        var forest = IsolationForest.Train(Gaussian(500, 2, seed: 2), ["a", "b"]);
        using var stream = new MemoryStream();
        forest.Save(stream);
        var bytes = stream.ToArray();
        var schema = Assert.Throws<InvalidDataException>(() => IsolationForest.Load(new MemoryStream(bytes), ["a", "c"]));
        Assert.Contains("trained on features [a,b]", schema.Message);
        Assert.Throws<InvalidDataException>(() => IsolationForest.Load(new MemoryStream(bytes[..(bytes.Length / 2)])));
        Assert.Throws<InvalidDataException>(() => IsolationForest.Load(new MemoryStream("not a model at all, just text"u8.ToArray())));
        var version = (byte[])bytes.Clone();
        version[8] = 99; // format version follows the 8-byte magic
        Assert.Contains("version 99", Assert.Throws<InvalidDataException>(() => IsolationForest.Load(new MemoryStream(version))).Message);
    }

    [Fact]
    public void A_damaged_file_is_rejected_or_still_scores_never_crashes_or_loops()
    {
        var forest = IsolationForest.Train(Gaussian(500, 2, seed: 2), ["a", "b"], new IsolationForestParameters { Trees = 3 });
        using var stream = new MemoryStream();
        forest.Save(stream);
        var original = stream.ToArray();
        for (var i = 0; i < original.Length; i++)
        {
            foreach (var value in new byte[] { 0x00, 0x7f, 0xff })
            {
                var bytes = (byte[])original.Clone();
                bytes[i] = value;
                try
                {
                    var loaded = IsolationForest.Load(new MemoryStream(bytes));
                    var score = loaded.Score([0.5f, -0.5f]);
                    Assert.False(double.IsInfinity(score));
                }
                catch (InvalidDataException)
                {
                }
                catch (ArgumentException e) when (e.Message.Contains("features"))
                {
                    // Loaded with another column count: scoring refuses a row of the wrong width.
                }
            }
        }
    }

    [Fact]
    public void Path_attribution_credits_the_feature_that_isolates()
    {
        var data = Gaussian(1000, 5, seed: 11);
        var forest = IsolationForest.Train(data, Names(5));
        float[] outlier = [0f, 0f, 0f, 9f, 0f];
        var credit = forest.Contributions(outlier);
        Assert.Equal(3, Array.IndexOf(credit, credit.Max()));
        // Every split on the path is credited: the bits add up to the mean log2(ψ / leaf size).
        Assert.True(credit.Sum() > 0);
        Assert.All(credit, c => Assert.True(c >= 0));
    }

    [Fact]
    public void Bad_input_is_a_clear_error()
    {
        Assert.Throws<ArgumentException>(() => IsolationForest.Train(new FeatureMatrix(1, 2), ["a", "b"]));
        Assert.Throws<ArgumentException>(() => IsolationForest.Train(Gaussian(10, 2, 1), ["only-one"]));
        var forest = IsolationForest.Train(Gaussian(10, 2, 1), ["a", "b"]);
        Assert.Throws<ArgumentException>(() => forest.Score([1f, 2f, 3f]));
    }
}
