using System.Text;

namespace Ja4.Modules.Detection.Model;

/// <summary>Training parameters of <see cref="IsolationForest"/>; the defaults are the paper's.</summary>
public sealed record IsolationForestParameters
{
    /// <summary>Number of isolation trees t. Liu, Ting and Zhou (2008) §4: path lengths converge well before 100.</summary>
    public int Trees { get; init; } = 100;

    /// <summary>Sub-sampling size ψ. The paper's §3 default: 256.</summary>
    public int SampleSize { get; init; } = 256;

    /// <summary>Seed of the generator: the same seed and data give the same forest.</summary>
    public ulong Seed { get; init; } = 42;
}

/// <summary>
/// Isolation Forest as in Liu, Ting and Zhou, "Isolation Forest", ICDM 2008: t trees, each grown on
/// ψ rows drawn without replacement, split on a random attribute at a random value between its
/// minimum and maximum, up to the height limit l = ceil(log2 ψ). The anomaly score of x is
/// s(x, ψ) = 2^(−E(h(x)) / c(ψ)), where h(x) counts the edges to x's external node plus c(size)
/// for the rows that the node still held (the unbuilt subtree of §4, Algorithm 3).
/// </summary>
public sealed class IsolationForest
{
    /// <summary>Version of the serialised form written by <see cref="Save"/>.</summary>
    public const int FormatVersion = 1;

    /// <summary>Euler–Mascheroni constant used by the paper's harmonic-number estimate H(i) ≈ ln(i) + γ.</summary>
    public const double EulerGamma = 0.5772156649;

    private static readonly byte[] Magic = "JA4IFOR1"u8.ToArray();

    // Trees are laid out in pre-order in one array: a split node's left child is the next node,
    // its right child is at Right. Leaves have Feature = -1 and carry their whole path length.
    private readonly Node[] _nodes;
    private readonly int[] _roots;

    private IsolationForest(IsolationForestParameters parameters, int sampleSize, string[] features, float[] medians,
        Node[] nodes, int[] roots)
    {
        Parameters = parameters;
        EffectiveSampleSize = sampleSize;
        FeatureNames = features;
        Medians = medians;
        _nodes = nodes;
        _roots = roots;
        Normaliser = AveragePathLength(sampleSize);
    }

    public IsolationForestParameters Parameters { get; }

    /// <summary>ψ actually used: min(SampleSize, rows in the training set).</summary>
    public int EffectiveSampleSize { get; }

    /// <summary>The feature schema: one name per column, in column order.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Median of each feature over the training rows (for explanations: "x is 40 where 0.2 is usual").</summary>
    public IReadOnlyList<float> Medians { get; }

    /// <summary>c(ψ): the score's normaliser.</summary>
    public double Normaliser { get; }

    public int TreeCount => _roots.Length;

    /// <summary>Height limit l = ceil(log2 ψ).</summary>
    public static int HeightLimit(int sampleSize) => (int)Math.Ceiling(Math.Log2(Math.Max(sampleSize, 2)));

    /// <summary>
    /// c(n) = 2H(n−1) − 2(n−1)/n, the average path length of an unsuccessful search in a binary
    /// search tree of n nodes (paper, Equation 1), with H(i) = ln(i) + γ. For n = 2 the harmonic
    /// number is exact (H(1) = 1, so c(2) = 1); c(n) = 0 for n ≤ 1.
    /// </summary>
    public static double AveragePathLength(int n) => n switch
    {
        <= 1 => 0.0,
        2 => 1.0,
        _ => (2.0 * (Math.Log(n - 1) + EulerGamma)) - (2.0 * (n - 1) / n),
    };

    /// <summary>Grows the forest on every row of <paramref name="data"/>.</summary>
    public static IsolationForest Train(FeatureMatrix data, IReadOnlyList<string> featureNames,
        IsolationForestParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(featureNames);
        parameters ??= new IsolationForestParameters();
        if (featureNames.Count != data.Columns)
        {
            throw new ArgumentException($"{featureNames.Count} feature names for {data.Columns} columns", nameof(featureNames));
        }
        if (data.Rows < 2)
        {
            throw new ArgumentException("an isolation forest needs at least 2 training rows", nameof(data));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(parameters.Trees, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parameters.SampleSize, 2);

        var psi = Math.Min(parameters.SampleSize, data.Rows);
        var limit = HeightLimit(psi);
        var trees = new Node[parameters.Trees][];
        var master = new SplitMix64(parameters.Seed);
        var seeds = new ulong[parameters.Trees];
        for (var t = 0; t < seeds.Length; t++)
        {
            seeds[t] = master.Next();
        }
        Parallel.For(0, parameters.Trees, t => trees[t] = GrowTree(data, psi, limit, seeds[t]));

        var roots = new int[trees.Length];
        var nodes = new Node[trees.Sum(t => t.Length)];
        var at = 0;
        for (var t = 0; t < trees.Length; t++)
        {
            roots[t] = at;
            foreach (var n in trees[t])
            {
                nodes[at++] = n.Feature < 0 ? n : n with { Right = n.Right + roots[t] };
            }
        }
        return new IsolationForest(parameters, psi, featureNames.ToArray(), ColumnMedians(data), nodes, roots);
    }

    private static Node[] GrowTree(FeatureMatrix data, int psi, int limit, ulong seed)
    {
        var rng = new SplitMix64(seed);
        // ψ distinct rows by a partial Fisher–Yates shuffle (sampling without replacement).
        var sample = new int[psi];
        if (psi == data.Rows)
        {
            for (var i = 0; i < psi; i++)
            {
                sample[i] = i;
            }
        }
        else
        {
            var chosen = new Dictionary<int, int>(psi * 2);
            for (var i = 0; i < psi; i++)
            {
                var j = i + rng.NextInt(data.Rows - i);
                var vj = chosen.TryGetValue(j, out var x) ? x : j;
                var vi = chosen.TryGetValue(i, out var y) ? y : i;
                chosen[j] = vi;
                sample[i] = vj;
            }
        }
        var nodes = new List<Node>(2 * psi);
        var order = new int[data.Columns];
        Grow(data, sample, 0, limit, ref rng, nodes, order);
        return nodes.ToArray();
    }

    private static void Grow(FeatureMatrix data, Span<int> rows, int depth, int limit, ref SplitMix64 rng, List<Node> nodes,
        int[] order)
    {
        if (depth >= limit || rows.Length <= 1)
        {
            nodes.Add(Leaf(rows.Length, depth));
            return;
        }
        // Random attribute q; a constant one cannot split, so the next random one is tried.
        var columns = data.Columns;
        for (var i = 0; i < columns; i++)
        {
            order[i] = i;
        }
        for (var tried = 0; tried < columns; tried++)
        {
            var k = tried + rng.NextInt(columns - tried);
            (order[tried], order[k]) = (order[k], order[tried]);
            var q = order[tried];
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (var r in rows)
            {
                var v = data.Data[(r * columns) + q];
                if (v < min)
                {
                    min = v;
                }
                if (v > max)
                {
                    max = v;
                }
            }
            if (!(max > min))
            {
                continue;
            }
            // Split value p uniform in [min, max); rows with x_q ≤ p go left, so both sides are non-empty.
            var p = (float)(min + (rng.NextDouble() * ((double)max - min)));
            if (p >= max)
            {
                p = min;
            }
            var left = 0;
            for (var i = 0; i < rows.Length; i++)
            {
                if (data.Data[(rows[i] * columns) + q] <= p)
                {
                    (rows[left], rows[i]) = (rows[i], rows[left]);
                    left++;
                }
            }
            var self = nodes.Count;
            nodes.Add(new Node(q, p, 0, rows.Length, 0f));
            Grow(data, rows[..left], depth + 1, limit, ref rng, nodes, order);
            nodes[self] = nodes[self] with { Right = nodes.Count };
            Grow(data, rows[left..], depth + 1, limit, ref rng, nodes, order);
            return;
        }
        nodes.Add(Leaf(rows.Length, depth));
    }

    private static Node Leaf(int size, int depth) => new(-1, 0f, 0, size, (float)(depth + AveragePathLength(size)));

    /// <summary>Medians over at most 8192 evenly spaced rows: explanations need "usual", not exact.</summary>
    private static float[] ColumnMedians(FeatureMatrix data)
    {
        var step = Math.Max(1, data.Rows / 8192);
        var count = (data.Rows + step - 1) / step;
        var medians = new float[data.Columns];
        var column = new float[count];
        for (var c = 0; c < data.Columns; c++)
        {
            for (var i = 0; i < count; i++)
            {
                column[i] = data.Data[(i * step * data.Columns) + c];
            }
            Array.Sort(column);
            medians[c] = column[count / 2];
        }
        return medians;
    }

    /// <summary>E(h(x)): the path length of <paramref name="row"/> averaged over the trees.</summary>
    public double PathLength(ReadOnlySpan<float> row)
    {
        CheckWidth(row.Length);
        double sum = 0;
        foreach (var root in _roots)
        {
            sum += TreePath(row, root);
        }
        return sum / _roots.Length;
    }

    private float TreePath(ReadOnlySpan<float> row, int at)
    {
        var nodes = _nodes;
        while (true)
        {
            ref readonly var n = ref nodes[at];
            if (n.Feature < 0)
            {
                return n.Path;
            }
            at = row[n.Feature] <= n.Threshold ? at + 1 : n.Right;
        }
    }

    /// <summary>s(x, ψ) = 2^(−E(h(x))/c(ψ)): near 1 is anomalous, well below 0.5 is normal.</summary>
    public double Score(ReadOnlySpan<float> row) => Math.Pow(2.0, -PathLength(row) / Normaliser);

    /// <summary>Scores every row of <paramref name="data"/> into <paramref name="scores"/>, rows split across cores.</summary>
    public void Score(FeatureMatrix data, float[] scores)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(scores);
        CheckWidth(data.Columns);
        if (scores.Length < data.Rows)
        {
            throw new ArgumentException($"scores holds {scores.Length} values for {data.Rows} rows", nameof(scores));
        }
        const int Block = 512;
        var blocks = (data.Rows + Block - 1) / Block;
        var inverse = 1.0 / (Normaliser * _roots.Length);
        Parallel.For(0, blocks, b =>
        {
            var end = Math.Min(data.Rows, (b + 1) * Block);
            for (var r = b * Block; r < end; r++)
            {
                ReadOnlySpan<float> row = data.Row(r);
                double sum = 0;
                foreach (var root in _roots)
                {
                    sum += TreePath(row, root);
                }
                scores[r] = (float)Math.Pow(2.0, -sum * inverse);
            }
        });
    }

    /// <summary>
    /// Path-length attribution: each split on x's path that sends it from a node of n rows into a
    /// child of m rows isolates log2(n/m) bits of it, credited to the split's feature; averaged
    /// over the trees. A feature that cuts x off from most of the sample in few splits gets most of
    /// the credit. Values are bits per tree; their sum is the mean of log2(ψ / leaf size).
    /// </summary>
    public float[] Contributions(ReadOnlySpan<float> row)
    {
        CheckWidth(row.Length);
        var credit = new double[FeatureNames.Count];
        foreach (var root in _roots)
        {
            var at = root;
            while (_nodes[at].Feature >= 0)
            {
                var n = _nodes[at];
                var next = row[n.Feature] <= n.Threshold ? at + 1 : n.Right;
                credit[n.Feature] += Math.Log2((double)n.Size / _nodes[next].Size);
                at = next;
            }
        }
        var result = new float[credit.Length];
        for (var i = 0; i < credit.Length; i++)
        {
            result[i] = (float)(credit[i] / _roots.Length);
        }
        return result;
    }

    private void CheckWidth(int columns)
    {
        if (columns != FeatureNames.Count)
        {
            throw new ArgumentException($"row has {columns} features, the model was trained on {FeatureNames.Count}");
        }
    }

    /// <summary>Writes the model: format version, parameters, feature schema, medians, trees.</summary>
    public void Save(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write(Parameters.Trees);
        w.Write(Parameters.SampleSize);
        w.Write(Parameters.Seed);
        w.Write(EffectiveSampleSize);
        w.Write(FeatureNames.Count);
        foreach (var name in FeatureNames)
        {
            w.Write(name);
        }
        foreach (var m in Medians)
        {
            w.Write(m);
        }
        w.Write(_roots.Length);
        foreach (var r in _roots)
        {
            w.Write(r);
        }
        w.Write(_nodes.Length);
        foreach (var n in _nodes)
        {
            w.Write(n.Feature);
            w.Write(n.Threshold);
            w.Write(n.Right);
            w.Write(n.Size);
            w.Write(n.Path);
        }
    }

    /// <summary>
    /// Reads a model written by <see cref="Save"/>. Throws <see cref="InvalidDataException"/> for a
    /// file of another format or version, a damaged file, or (when <paramref name="expectedFeatures"/>
    /// is given) a model trained on another feature schema.
    /// </summary>
    public static IsolationForest Load(Stream stream, IReadOnlyList<string>? expectedFeatures = null)
    {
        try
        {
            using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            {
                throw new InvalidDataException("not an isolation forest model file");
            }
            var version = r.ReadInt32();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"model format version {version} is not supported (expected {FormatVersion})");
            }
            var parameters = new IsolationForestParameters
            {
                Trees = r.ReadInt32(),
                SampleSize = r.ReadInt32(),
                Seed = r.ReadUInt64(),
            };
            var psi = Bounded(r.ReadInt32(), 2, int.MaxValue, "sample size");
            var columns = Bounded(r.ReadInt32(), 1, 4096, "feature count");
            var names = new string[columns];
            for (var i = 0; i < columns; i++)
            {
                names[i] = r.ReadString();
            }
            if (expectedFeatures is not null && !names.SequenceEqual(expectedFeatures, StringComparer.Ordinal))
            {
                throw new InvalidDataException(
                    $"model was trained on features [{string.Join(",", names)}], expected [{string.Join(",", expectedFeatures)}]");
            }
            var medians = new float[columns];
            for (var i = 0; i < columns; i++)
            {
                medians[i] = r.ReadSingle();
            }
            var roots = new int[Fits(stream, Bounded(r.ReadInt32(), 1, 100_000, "tree count"), 4)];
            for (var i = 0; i < roots.Length; i++)
            {
                roots[i] = r.ReadInt32();
            }
            var nodes = new Node[Fits(stream, Bounded(r.ReadInt32(), 1, 100_000_000, "node count"), 20)];
            for (var i = 0; i < nodes.Length; i++)
            {
                nodes[i] = new Node(r.ReadInt32(), r.ReadSingle(), r.ReadInt32(), r.ReadInt32(), r.ReadSingle());
            }
            Validate(nodes, roots, columns);
            return new IsolationForest(parameters, psi, names, medians, nodes, roots);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("model file is truncated", e);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException("model file is damaged", e);
        }
    }

    // A damaged count must not allocate more than the file can hold.
    private static int Fits(Stream stream, int count, int size) =>
        !stream.CanSeek || (long)count * size <= stream.Length - stream.Position
            ? count
            : throw new InvalidDataException("model file is truncated");

    private static int Bounded(int value, int min, int max, string what) =>
        value >= min && value <= max ? value : throw new InvalidDataException($"model file has an invalid {what}: {value}");

    // A damaged file must fail here, not loop or index out of range while scoring.
    private static void Validate(Node[] nodes, int[] roots, int columns)
    {
        foreach (var root in roots)
        {
            if (root < 0 || root >= nodes.Length)
            {
                throw new InvalidDataException("model file has a tree root out of range");
            }
        }
        for (var i = 0; i < nodes.Length; i++)
        {
            var n = nodes[i];
            if (n.Feature >= columns || (n.Feature >= 0 && (n.Right <= i + 1 || n.Right >= nodes.Length || i + 1 >= nodes.Length)) ||
                !float.IsFinite(n.Threshold) || !float.IsFinite(n.Path) || n.Path < 0 || n.Size < 1)
            {
                throw new InvalidDataException($"model file has an invalid node {i}");
            }
        }
    }

    private readonly record struct Node(int Feature, float Threshold, int Right, int Size, float Path);
}
