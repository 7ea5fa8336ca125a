using System.Net;
using System.Runtime.InteropServices;

namespace Ja4.Modules.Storage.Writer;

/// <summary>
/// The values of one column of a ClickHouse <c>Native</c> block, collected row by row and
/// written column-wise: first the serialization state prefix of the type (only
/// <c>LowCardinality</c> has one), then the data. Nested columns (array elements, map keys and
/// values, the values behind a null map) are columns too, without a name.
/// </summary>
public abstract class NativeColumn
{
    protected NativeColumn(string type) => Type = type;

    /// <summary>The ClickHouse type as the block declares it, e.g. <c>LowCardinality(String)</c>.</summary>
    public string Type { get; }

    /// <summary>Values held (for a top-level column: rows).</summary>
    public abstract int Count { get; }

    /// <summary>The serialization state prefix, written before the data of the column.</summary>
    internal virtual void WritePrefix(ByteBuffer output)
    {
    }

    internal abstract void WriteData(ByteBuffer output);

    /// <summary>Forgets the values; keeps the memory for the next block.</summary>
    public abstract void Clear();
}

/// <summary>
/// A fixed-width column: <c>UInt8</c> … <c>UInt64</c>, <c>Int8</c> … <c>Int64</c>, <c>Float32/64</c>,
/// <c>Bool</c> (as a byte), <c>Enum8</c> (its <c>Int8</c> values), <c>DateTime</c> (UInt32 seconds),
/// <c>DateTime64(p)</c> (Int64 ticks of 10^-p s). The data is the values in little-endian order.
/// </summary>
public sealed class FixedColumn<T> : NativeColumn where T : unmanaged
{
    private T[] _values = new T[1024];
    private int _count;

    public FixedColumn(string type) : base(type)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the Native encoder writes the memory of little-endian numbers as they are");
        }
    }

    public override int Count => _count;

    public void Add(T value)
    {
        if (_count == _values.Length)
        {
            Array.Resize(ref _values, _values.Length * 2);
        }
        _values[_count++] = value;
    }

    internal override void WriteData(ByteBuffer output) => output.Bytes(MemoryMarshal.AsBytes(_values.AsSpan(0, _count)));

    public override void Clear() => _count = 0;
}

/// <summary>A column whose values are encoded one after the other as they are added.</summary>
public abstract class SequentialColumn(string type) : NativeColumn(type)
{
    private int _count;

    protected ByteBuffer Data { get; } = new();

    public override int Count => _count;

    /// <summary>Counts one value written to <see cref="Data"/>.</summary>
    protected void Added() => _count++;

    internal override void WriteData(ByteBuffer output) => output.Bytes(Data.Span);

    public override void Clear()
    {
        Data.Clear();
        _count = 0;
    }
}

/// <summary><c>String</c>: per value its UTF-8 length (LEB128) and bytes; null is the empty string.</summary>
public sealed class StringColumn() : SequentialColumn("String")
{
    public void Add(string? value)
    {
        Data.String(value);
        Added();
    }
}

/// <summary><c>IPv6</c>: 16 bytes per value in network order; an IPv4 address is stored IPv4-mapped, null as <c>::</c>.</summary>
public sealed class IPv6Column() : SequentialColumn("IPv6")
{
    public void Add(IPAddress? value)
    {
        Data.IPv6(value);
        Added();
    }
}

/// <summary>
/// <c>LowCardinality(String)</c>: a dictionary of the distinct values of the block and one index
/// into it per value. Layout (ClickHouse <c>SerializationLowCardinality</c>): prefix UInt64 key
/// version 1 (shared dictionaries with additional keys); data UInt64 index type | flags
/// (HasAdditionalKeys 1 &lt;&lt; 9, NeedUpdateDictionary 1 &lt;&lt; 10; index type 0..3 = UInt8..UInt64),
/// UInt64 key count, the keys as a <c>String</c> column, UInt64 value count, the indexes. As the
/// engine itself writes it, key 0 is the default value (the empty string); null is stored as it.
/// </summary>
public sealed class LowCardinalityStringColumn() : NativeColumn("LowCardinality(String)")
{
    private const ulong KeysVersion = 1;
    private const ulong HasAdditionalKeys = 1ul << 9;
    private const ulong NeedUpdateDictionary = 1ul << 10;

    private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);
    private readonly ByteBuffer _keys = new(1 << 12);
    private int[] _indexes = new int[1024];
    private int _count;
    private string? _last;
    private int _lastPosition;

    public override int Count => _count;

    public void Add(string? value)
    {
        if (_count == _indexes.Length)
        {
            Array.Resize(ref _indexes, _indexes.Length * 2);
        }
        // Consecutive rows often carry the very same string instance (a host, a JA4): skip the lookup.
        if (!ReferenceEquals(value, _last) || _positions.Count == 0)
        {
            _last = value;
            _lastPosition = Position(value ?? "");
        }
        _indexes[_count++] = _lastPosition;
    }

    private int Position(string value)
    {
        if (_positions.Count == 0)
        {
            _positions.Add("", 0);
            _keys.String("");
        }
        ref var position = ref CollectionsMarshal.GetValueRefOrAddDefault(_positions, value, out var exists);
        if (!exists)
        {
            position = _positions.Count - 1;
            _keys.String(value);
        }
        return position;
    }

    internal override void WritePrefix(ByteBuffer output) => output.UInt64(KeysVersion);

    internal override void WriteData(ByteBuffer output)
    {
        if (_count == 0)
        {
            return;
        }
        var keys = _positions.Count;
        var indexType = keys <= byte.MaxValue + 1 ? 0ul : keys <= ushort.MaxValue + 1 ? 1ul : 2ul;
        output.UInt64(indexType | HasAdditionalKeys | NeedUpdateDictionary);
        output.UInt64((ulong)keys);
        output.Bytes(_keys.Span);
        output.UInt64((ulong)_count);
        var indexes = _indexes.AsSpan(0, _count);
        switch (indexType)
        {
            case 0:
                foreach (var i in indexes)
                {
                    output.UInt8((byte)i);
                }
                break;
            case 1:
                foreach (var i in indexes)
                {
                    output.UInt16((ushort)i);
                }
                break;
            default:
                output.Bytes(MemoryMarshal.AsBytes(indexes));
                break;
        }
    }

    public override void Clear()
    {
        _positions.Clear();
        _keys.Clear();
        _count = 0;
        _last = null;
    }
}

/// <summary>
/// A column written as a fixed-width lead column (array offsets, a null map), one value per row,
/// followed by a nested column; the nested column's prefix comes first of all.
/// </summary>
public abstract class NestingColumn<TNested>(string type, NativeColumn lead, TNested nested) : NativeColumn(type)
    where TNested : NativeColumn
{
    protected TNested Nested { get; } = nested;

    public override int Count => lead.Count;

    internal override void WritePrefix(ByteBuffer output) => Nested.WritePrefix(output);

    internal override void WriteData(ByteBuffer output)
    {
        lead.WriteData(output);
        Nested.WriteData(output);
    }

    public override void Clear()
    {
        lead.Clear();
        Nested.Clear();
    }
}

/// <summary>
/// <c>Array(T)</c>: UInt64 end offsets, one per row (cumulative element counts), then all the
/// elements as one column of <typeparamref name="TElement"/>. Add the row's elements to
/// <see cref="Elements"/>, then call <see cref="EndRow"/>.
/// </summary>
public sealed class ArrayColumn<TElement> : NestingColumn<TElement> where TElement : NativeColumn
{
    private readonly FixedColumn<ulong> _offsets;

    public ArrayColumn(TElement elements) : this(elements, new FixedColumn<ulong>("UInt64"))
    {
    }

    private ArrayColumn(TElement elements, FixedColumn<ulong> offsets) : base($"Array({elements.Type})", offsets, elements) =>
        _offsets = offsets;

    public TElement Elements => Nested;

    public void EndRow() => _offsets.Add((ulong)Elements.Count);
}

/// <summary>
/// <c>Nullable(T)</c>: the null map (one byte per row, 1 = NULL), then the values, a default
/// value standing in for each NULL. Add the row's value (a default when null) to
/// <see cref="Values"/>, then call <see cref="EndRow"/>.
/// </summary>
public sealed class NullableColumn<TValue> : NestingColumn<TValue> where TValue : NativeColumn
{
    private readonly FixedColumn<byte> _nulls;

    public NullableColumn(TValue values) : this(values, new FixedColumn<byte>("UInt8"))
    {
    }

    private NullableColumn(TValue values, FixedColumn<byte> nulls) : base($"Nullable({values.Type})", nulls, values) =>
        _nulls = nulls;

    public TValue Values => Nested;

    public void EndRow(bool isNull) => _nulls.Add(isNull ? (byte)1 : (byte)0);
}

/// <summary>
/// <c>Map(K, V)</c>, stored as <c>Array(Tuple(K, V))</c>: UInt64 end offsets per row, then all
/// keys as one column, then all values. Add the row's pairs to <see cref="Keys"/> and
/// <see cref="Values"/>, then call <see cref="EndRow"/>.
/// </summary>
public sealed class MapColumn<TKey, TValue>(TKey keys, TValue values) : NativeColumn($"Map({keys.Type}, {values.Type})")
    where TKey : NativeColumn
    where TValue : NativeColumn
{
    private readonly FixedColumn<ulong> _offsets = new("UInt64");

    public TKey Keys { get; } = keys;
    public TValue Values { get; } = values;

    public override int Count => _offsets.Count;

    public void EndRow()
    {
        if (Keys.Count != Values.Count)
        {
            throw new InvalidOperationException($"map row with {Keys.Count} keys and {Values.Count} values");
        }
        _offsets.Add((ulong)Keys.Count);
    }

    internal override void WritePrefix(ByteBuffer output)
    {
        Keys.WritePrefix(output);
        Values.WritePrefix(output);
    }

    internal override void WriteData(ByteBuffer output)
    {
        _offsets.WriteData(output);
        Keys.WriteData(output);
        Values.WriteData(output);
    }

    public override void Clear()
    {
        _offsets.Clear();
        Keys.Clear();
        Values.Clear();
    }
}
