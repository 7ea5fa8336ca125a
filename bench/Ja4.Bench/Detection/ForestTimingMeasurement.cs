using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ja4.Modules.Detection.Model;

namespace Ja4.Bench.Detection;

/// <summary>
/// Training and scoring time of our Isolation Forest and scikit-learn's on the same
/// 100,000 × 20 float32 matrix (100 trees, ψ = 256), in the same run. Usage:
/// forest-timing REPO_ROOT [rows] [columns].
/// </summary>
public sealed class ForestTimingMeasurement : IMeasurement
{
    public string Name => "forest-timing";
    public string Description => "Isolation Forest fit+score time, ours vs scikit-learn, 100000 x 20";

    public Task<int> RunAsync(string[] args)
    {
        var root = args.Length > 0 ? args[0] : ".";
        var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var cols = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20;
        var data = Data(rows, cols);
        var file = Path.Combine(Path.GetTempPath(), $"ja4-forest-{Environment.ProcessId}.f32");
        try
        {
            using (var f = File.Create(file))
            {
                f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.Data.AsSpan()));
            }
            var names = Enumerable.Range(0, cols).Select(i => $"f{i}").ToArray();
            // Warm-up on a small slice so that JIT time is not counted as training time.
            var warm = new FeatureMatrix(data.Data[..(1000 * cols)], 1000, cols);
            IsolationForest.Train(warm, names).Score(warm, new float[1000]);

            var fit = Stopwatch.StartNew();
            var forest = IsolationForest.Train(data, names);
            fit.Stop();
            var scores = new float[rows];
            var score = Stopwatch.StartNew();
            forest.Score(data, scores);
            score.Stop();

            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true };
            foreach (var a in new[] { Path.Combine(root, "bench", "sklearn", "iforest.py"), "time", file, rows.ToString(CultureInfo.InvariantCulture), cols.ToString(CultureInfo.InvariantCulture) })
            {
                psi.ArgumentList.Add(a);
            }
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            double? skFit = null, skScore = null;
            if (p.ExitCode == 0)
            {
                using var doc = JsonDocument.Parse(output);
                skFit = doc.RootElement.GetProperty("fit_seconds").GetDouble() * 1000;
                skScore = doc.RootElement.GetProperty("score_seconds").GetDouble() * 1000;
            }
            else
            {
                Console.Error.WriteLine("scikit-learn run failed (is python3-sklearn installed?)");
            }
            var label = $"iforest {rows / 1000}k x {cols}";
            Row.Print(label, "train ms", fit.Elapsed.TotalMilliseconds, "sklearn", skFit);
            Row.Print(label, "score ms", score.Elapsed.TotalMilliseconds, "sklearn", skScore);
            Row.Print(label, "train+score ms", fit.Elapsed.TotalMilliseconds + score.Elapsed.TotalMilliseconds, "sklearn",
                skFit + skScore);
            return Task.FromResult(p.ExitCode == 0 ? 0 : 1);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Gaussian inliers with 1 % uniform outliers, seeded.</summary>
    private static FeatureMatrix Data(int rows, int cols)
    {
        var rng = new Random(1234);
        var m = new FeatureMatrix(rows, cols);
        for (var r = 0; r < rows; r++)
        {
            var outlier = r % 100 == 0;
            for (var c = 0; c < cols; c++)
            {
                var u1 = 1.0 - rng.NextDouble();
                var z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * rng.NextDouble());
                m[r, c] = (float)(outlier ? (rng.NextDouble() * 16) - 8 : z);
            }
        }
        return m;
    }
}
