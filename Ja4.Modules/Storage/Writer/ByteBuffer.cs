using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ja4.Modules.Storage.Writer;

/// <summary>
/// A growable byte buffer with the value encodings ClickHouse's binary formats share
/// (<c>Native</c> column data, <c>RowBinary</c>): little-endian numbers, unsigned LEB128 lengths
/// before strings, IPv6 as 16 bytes in network order.
/// </summary>
public sealed class ByteBuffer
{
    private byte[] _buffer;
    private int _length;

    public ByteBuffer(int capacity = 1 << 16) => _buffer = new byte[Math.Max(capacity, 256)];

    public int Length => _length;
    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);
    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    /// <summary>Rows closed with <see cref="EndRow"/> (RowBinary writers count their rows here).</summary>
    public int Rows { get; private set; }

    /// <summary>Marks the end of one RowBinary row.</summary>
    public void EndRow() => Rows++;

    public void Clear()
    {
        _length = 0;
        Rows = 0;
    }

    /// <summary>Appends bytes as they are.</summary>
    public void Bytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Take(bytes.Length));

    private Span<byte> Take(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void UInt8(byte v) => Take(1)[0] = v;

    /// <summary><c>DateTime64(3)</c>: milliseconds since the Unix epoch.</summary>
    public void DateTime64Milli(DateTimeOffset t) => Int64(t.ToUnixTimeMilliseconds());

    /// <summary><c>DateTime</c>: seconds since the Unix epoch.</summary>
    public void DateTime(DateTimeOffset t) => UInt32((uint)Math.Clamp(t.ToUnixTimeSeconds(), 0, uint.MaxValue));

    /// <summary><c>Array(String)</c> in RowBinary: the count, then each string.</summary>
    public void StringArray(IReadOnlyList<string> items)
    {
        VarUInt((ulong)items.Count);
        foreach (var s in items)
        {
            String(s);
        }
    }
    public void Bool(bool v) => UInt8(v ? (byte)1 : (byte)0);
    public void UInt16(ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), v);
    public void UInt32(uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), v);
    public void Int64(long v) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), v);
    public void UInt64(ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), v);
    public void Float32(float v) => BinaryPrimitives.WriteSingleLittleEndian(Take(4), v);
    public void Float64(double v) => BinaryPrimitives.WriteDoubleLittleEndian(Take(8), v);

    /// <summary>Length prefix (unsigned LEB128).</summary>
    public void VarUInt(ulong v)
    {
        while (v >= 0x80)
        {
            UInt8((byte)(v | 0x80));
            v >>= 7;
        }
        UInt8((byte)v);
    }

    public void String(string? s)
    {
        if (string.IsNullOrEmpty(s))
        {
            UInt8(0);
            return;
        }
        var max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (max < 128)
        {
            // One-byte length: encode in place, then write the length before it.
            var at = _length;
            Take(1 + max);
            var n = Encoding.UTF8.GetBytes(s, _buffer.AsSpan(at + 1));
            _buffer[at] = (byte)n;
            _length = at + 1 + n;
            return;
        }
        var count = Encoding.UTF8.GetByteCount(s);
        VarUInt((ulong)count);
        Encoding.UTF8.GetBytes(s, Take(count));
    }

    /// <summary><c>IPv6</c>; an IPv4 address is stored IPv4-mapped (::ffff:a.b.c.d).</summary>
    public void IPv6(IPAddress? address)
    {
        var span = Take(16);
        if (address is null)
        {
            span.Clear();
            return;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            span[..10].Clear();
            span[10] = 0xff;
            span[11] = 0xff;
            address.TryWriteBytes(span[12..], out _);
            return;
        }
        address.TryWriteBytes(span, out _);
    }
}
