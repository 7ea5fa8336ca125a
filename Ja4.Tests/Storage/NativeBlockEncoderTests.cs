using System.Net;
using System.Text;
using Ja4.Modules.Storage.Writer;

namespace Ja4.Tests.Storage;

/// <summary>
/// The Native block layout, byte by byte, for tiny blocks worked out by hand from the format
/// (ClickHouse docs "Native" and the serializations of each type): column count and row count as
/// LEB128, then name, type, prefix and data per column.
/// </summary>
public sealed class NativeBlockEncoderTests
{
    private static byte[] Encode(NativeBlockEncoder block)
    {
        var output = new ByteBuffer();
        block.Encode(output);
        return output.Span.ToArray();
    }

    /// <summary>A LEB128 length and the ASCII bytes of <paramref name="s"/>.</summary>
    private static byte[] Str(string s) => [(byte)s.Length, .. Encoding.ASCII.GetBytes(s)];

    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);

    [Fact]
    public void Fixed_and_string_columns()
    {
        var block = new NativeBlockEncoder();
        var a = block.Add("a", new FixedColumn<ushort>("UInt16"));
        var s = block.Add("s", new StringColumn());
        a.Add(7);
        s.Add("xy");
        block.EndRow();
        byte[] expected = [0x02, 0x01, .. Str("a"), .. Str("UInt16"), 0x07, 0x00, .. Str("s"), .. Str("String"), 0x02, (byte)'x', (byte)'y'];
        Assert.Equal(expected, Encode(block));
    }

    [Fact]
    public void Low_cardinality_writes_key_version_flags_dictionary_with_the_default_first_and_byte_indexes()
    {
        var block = new NativeBlockEncoder();
        var lc = block.Add("lc", new LowCardinalityStringColumn());
        foreach (var v in new[] { "b", "a", "b" })
        {
            lc.Add(v);
            block.EndRow();
        }
        byte[] expected =
        [
            0x01, 0x03, .. Str("lc"), .. Str("LowCardinality(String)"),
            .. U64(1),                        // key serialization version: shared dictionaries with additional keys
            .. U64(0x600),                    // UInt8 indexes | HasAdditionalKeys (1 << 9) | NeedUpdateDictionary (1 << 10)
            .. U64(3), 0x00, .. Str("b"), .. Str("a"),  // keys: '' (the default), 'b', 'a'
            .. U64(3), 0x01, 0x02, 0x01,      // rows and their indexes
        ];
        Assert.Equal(expected, Encode(block));
    }

    [Fact]
    public void Array_of_low_cardinality_puts_the_nested_prefix_before_the_offsets()
    {
        var block = new NativeBlockEncoder();
        var arr = block.Add("arr", new ArrayColumn<LowCardinalityStringColumn>(new()));
        arr.Elements.Add("h2");
        arr.Elements.Add("x");
        arr.EndRow();
        block.EndRow();
        arr.EndRow();
        block.EndRow();
        byte[] expected =
        [
            0x01, 0x02, .. Str("arr"), .. Str("Array(LowCardinality(String))"),
            .. U64(1),                        // prefix of the elements
            .. U64(2), .. U64(2),             // end offsets: row 1 has 2 elements, row 2 none
            .. U64(0x600), .. U64(3), 0x00, .. Str("h2"), .. Str("x"), .. U64(2), 0x01, 0x02,
        ];
        Assert.Equal(expected, Encode(block));
    }

    [Fact]
    public void Low_cardinality_without_values_writes_only_its_prefix()
    {
        var block = new NativeBlockEncoder();
        var arr = block.Add("alpn", new ArrayColumn<LowCardinalityStringColumn>(new()));
        arr.EndRow();
        block.EndRow();
        byte[] expected = [0x01, 0x01, .. Str("alpn"), .. Str("Array(LowCardinality(String))"), .. U64(1), .. U64(0)];
        Assert.Equal(expected, Encode(block));
    }

    [Fact]
    public void Nullable_and_map_columns()
    {
        var block = new NativeBlockEncoder();
        var n = block.Add("n", new NullableColumn<FixedColumn<byte>>(new("UInt8")));
        var m = block.Add("m", new MapColumn<StringColumn, FixedColumn<byte>>(new(), new("UInt8")));
        n.Values.Add(1);
        n.EndRow(isNull: false);
        m.Keys.Add("a");
        m.Values.Add(1);
        m.Keys.Add("b");
        m.Values.Add(2);
        m.EndRow();
        block.EndRow();
        n.Values.Add(0);
        n.EndRow(isNull: true);
        m.EndRow();
        block.EndRow();
        byte[] expected =
        [
            0x02, 0x02,
            .. Str("n"), .. Str("Nullable(UInt8)"), 0x00, 0x01, 0x01, 0x00,   // null map, then values
            .. Str("m"), .. Str("Map(String, UInt8)"), .. U64(2), .. U64(2), .. Str("a"), .. Str("b"), 0x01, 0x02,
        ];
        Assert.Equal(expected, Encode(block));
    }

    [Fact]
    public void IPv6_datetime64_enum8_and_bool()
    {
        var block = new NativeBlockEncoder();
        var ip = block.Add("ip", new IPv6Column());
        var t = block.Add("t", new FixedColumn<long>("DateTime64(6, 'UTC')"));
        var e = block.Add("e", new FixedColumn<sbyte>("Enum8('tcp' = 0, 'udp' = 1)"));
        var b = block.Add("b", new FixedColumn<byte>("Bool"));
        ip.Add(IPAddress.Parse("10.0.0.1"));
        // 2026-01-01 00:00:00.000001 UTC = 1767225600 s = 1767225600000001 us = 0x0006474846204001.
        t.Add(1_767_225_600_000_001);
        e.Add(1);
        b.Add(1);
        block.EndRow();
        byte[] expected =
        [
            0x04, 0x01,
            .. Str("ip"), .. Str("IPv6"), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1,
            .. Str("t"), .. Str("DateTime64(6, 'UTC')"), 0x01, 0x40, 0x20, 0x46, 0x48, 0x47, 0x06, 0x00,
            .. Str("e"), .. Str("Enum8('tcp' = 0, 'udp' = 1)"), 0x01,
            .. Str("b"), .. Str("Bool"), 0x01,
        ];
        Assert.Equal(expected, Encode(block));
    }

    [Fact]
    public void A_column_short_of_values_is_refused()
    {
        var block = new NativeBlockEncoder();
        var a = block.Add("a", new FixedColumn<uint>("UInt32"));
        block.Add("s", new StringColumn());
        a.Add(1);
        block.EndRow();
        var error = Assert.Throws<InvalidOperationException>(() => Encode(block));
        Assert.Contains("column s holds 0 values for 1 rows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clear_starts_an_empty_block_with_a_fresh_dictionary()
    {
        var block = new NativeBlockEncoder();
        var lc = block.Add("lc", new LowCardinalityStringColumn());
        lc.Add("old");
        block.EndRow();
        block.Clear();
        lc.Add("z");
        block.EndRow();
        byte[] expected =
        [
            0x01, 0x01, .. Str("lc"), .. Str("LowCardinality(String)"),
            .. U64(1), .. U64(0x600), .. U64(2), 0x00, .. Str("z"), .. U64(1), 0x01,
        ];
        Assert.Equal(expected, Encode(block));
    }
}
