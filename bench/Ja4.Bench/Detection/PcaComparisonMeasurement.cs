using System.Globalization;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.Model;
using Ja4.Modules.Detection.Simulation;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ja4.Bench.Detection;

/// <summary>
/// Our Isolation Forest against Microsoft.ML's randomized-PCA anomaly detector (after ML.NET's
/// mean-variance normalisation), and the mean of the two ranks, on the same feature matrix of
/// labelled simulator traffic: ROC AUC of bots against humans, training and scoring time. Both
/// models are unsupervised and see the whole window, as the daemon's detector does.
/// Usage: detection-pca REPO_ROOT [seed] [PCA rank, default 10]; the default seed (2027) and the evaluation mix are the
/// ones the thresholds were not tuned on.
/// </summary>
public sealed class PcaComparisonMeasurement : IMeasurement
{
    public string Name => "detection-pca";
    public string Description => "Isolation Forest vs ML.NET randomized PCA on simulator features (ROC AUC, time)";

    private sealed class Sample
    {
        public float[] Features { get; set; } = [];
    }

    private sealed class Scored
    {
        public float Score { get; set; }
    }

    public Task<int> RunAsync(string[] args)
    {
        var seed = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2027;
        var start = new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
        var traffic = TrafficSimulator.Generate(seed, DetectionQualityMeasurement.EvaluationMix, start);
        var window = FeatureExtractor.Compute(traffic.Requests, traffic.Start, traffic.End);
        var m = window.Matrix;
        var isHuman = window.Entities.Select(e => traffic.KindOf(e.Address) is TrafficKind.Human).ToArray();
        var isBot = window.Entities.Select(e => traffic.KindOf(e.Address) is not (TrafficKind.Human or TrafficKind.GoodCrawler)).ToArray();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var forest = IsolationForest.Train(m, FeatureSchema.Names, new IsolationForestParameters { Seed = 42 });
        var forestTrain = clock.Elapsed.TotalMilliseconds;
        var forestScores = new float[m.Rows];
        clock.Restart();
        forest.Score(m, forestScores);
        var forestScore = clock.Elapsed.TotalMilliseconds;

        var ml = new MLContext(seed: 42);
        var schema = SchemaDefinition.Create(typeof(Sample));
        schema[nameof(Sample.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, m.Columns);
        var rows = Enumerable.Range(0, m.Rows).Select(i => new Sample { Features = m.Row(i).ToArray() }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var rank = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : Math.Min(10, m.Columns - 1);
        var pipeline = ml.Transforms.NormalizeMeanVariance(nameof(Sample.Features))
            .Append(ml.AnomalyDetection.Trainers.RandomizedPca(nameof(Sample.Features), rank: rank, seed: 42));
        clock.Restart();
        var model = pipeline.Fit(data);
        var pcaTrain = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var pcaScores = ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).Select(s => s.Score).ToArray();
        var pcaScore = clock.Elapsed.TotalMilliseconds;

        var forestRank = Ranks(forestScores);
        var pcaRank = Ranks(pcaScores);
        var combined = forestRank.Zip(pcaRank, (a, b) => (a + b) / 2).ToArray();

        Console.WriteLine($"seed {seed}: {m.Rows} entities x {m.Columns} features, {isBot.Count(b => b)} bots, {isHuman.Count(h => h)} humans; PCA rank {rank}");
        Print("isolation forest", forestScores.Select(s => (double)s).ToArray(), isBot, isHuman, forestTrain, forestScore);
        Print("randomized PCA (ML.NET)", pcaScores.Select(s => (double)s).ToArray(), isBot, isHuman, pcaTrain, pcaScore);
        Print("mean rank of both", combined, isBot, isHuman, null, null);
        return Task.FromResult(0);
    }

    private static void Print(string detector, double[] scores, bool[] isBot, bool[] isHuman, double? trainMs, double? scoreMs)
    {
        var bots = scores.Where((_, i) => isBot[i]).ToArray();
        var humans = scores.Where((_, i) => isHuman[i]).ToArray();
        Row.Print("detection-pca", $"{detector} ROC AUC %", 100 * Evaluation.RocAuc(bots, humans));
        var threshold = Evaluation.ThresholdAtFalsePositiveRate(humans, 0.01);
        Row.Print("detection-pca", $"{detector} caught@1%FP %", 100.0 * bots.Count(s => s > threshold) / bots.Length);
        if (trainMs is { } t && scoreMs is { } s)
        {
            Row.Print("detection-pca", $"{detector} train ms", t);
            Row.Print("detection-pca", $"{detector} score ms", s);
        }
    }

    /// <summary>Rank of each score in [0, 1] (ties share the mean rank): puts both detectors on one scale.</summary>
    private static double[] Ranks(IReadOnlyList<float> scores)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[scores.Count];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]])
            {
                j++;
            }
            for (var k = i; k <= j; k++)
            {
                ranks[order[k]] = (i + j) / 2.0 / Math.Max(1, scores.Count - 1);
            }
            i = j + 1;
        }
        return ranks;
    }
}
