namespace Ja4.Modules.Detection.Model;

/// <summary>A dense row-major matrix of feature values: one row per entity, one column per feature.</summary>
public sealed class FeatureMatrix
{
    public FeatureMatrix(int rows, int columns)
        : this(new float[checked(rows * columns)], rows, columns)
    {
    }

    public FeatureMatrix(float[] data, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (data.Length != rows * columns)
        {
            throw new ArgumentException($"data holds {data.Length} values, expected {rows} x {columns}", nameof(data));
        }
        Data = data;
        Rows = rows;
        Columns = columns;
    }

    public float[] Data { get; }
    public int Rows { get; }
    public int Columns { get; }

    public float this[int row, int column]
    {
        get => Data[(row * Columns) + column];
        set => Data[(row * Columns) + column] = value;
    }

    public Span<float> Row(int row) => Data.AsSpan(row * Columns, Columns);
}

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014): a small generator whose output depends only on the seed,
/// so a model trained with a seed is the same on every runtime version.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)((Next() >> 11) % (ulong)n);

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
}
