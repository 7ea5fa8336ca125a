using System.Globalization;
using System.Net;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Writer;
using Microsoft.Extensions.Logging.Abstractions;
using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.Storage;

/// <summary>
/// Native blocks inserted into the real engine (chDB, and the server engine through the HTTP
/// fixture) and read back as JSON: every type the encoder writes comes back as the values put in.
/// </summary>
[Collection("chdb")]
public sealed class NativeRoundTripTests(ChdbFixture fixture)
{
    private const string AllTypes = """
        (u8 UInt8, u16 UInt16, u32 UInt32, u64 UInt64, i64 Int64, f64 Float64, b Bool, s String,
         lc LowCardinality(String), ip IPv6, t DateTime64(6, 'UTC'), e Enum8('tcp' = 0, 'udp' = 1),
         arr Array(LowCardinality(String)), arr_s Array(String), n Nullable(String), m Map(LowCardinality(String), UInt64))
        ENGINE = MergeTree ORDER BY tuple()
        """;

    [Theory]
    [MemberData(nameof(ChdbFixture.Engines), MemberType = typeof(ChdbFixture))]
    public async Task Every_encoded_type_reads_back_as_written(string engine)
    {
        var options = fixture.Options(engine, "native");
        await using var store = fixture.Open(engine);
        try
        {
            await store.QueryAsync($"CREATE DATABASE {options.Database}");
            await store.QueryAsync($"CREATE TABLE {options.Database}.t {AllTypes}");
            var block = new NativeBlockEncoder();
            var u8 = block.Add("u8", new FixedColumn<byte>("UInt8"));
            var u16 = block.Add("u16", new FixedColumn<ushort>("UInt16"));
            var u32 = block.Add("u32", new FixedColumn<uint>("UInt32"));
            var u64 = block.Add("u64", new FixedColumn<ulong>("UInt64"));
            var i64 = block.Add("i64", new FixedColumn<long>("Int64"));
            var f64 = block.Add("f64", new FixedColumn<double>("Float64"));
            var b = block.Add("b", new FixedColumn<byte>("Bool"));
            var s = block.Add("s", new StringColumn());
            var lc = block.Add("lc", new LowCardinalityStringColumn());
            var ip = block.Add("ip", new IPv6Column());
            var t = block.Add("t", new FixedColumn<long>("DateTime64(6, 'UTC')"));
            var e = block.Add("e", new FixedColumn<sbyte>("Enum8('tcp' = 0, 'udp' = 1)"));
            var arr = block.Add("arr", new ArrayColumn<LowCardinalityStringColumn>(new()));
            var arrS = block.Add("arr_s", new ArrayColumn<StringColumn>(new()));
            var n = block.Add("n", new NullableColumn<StringColumn>(new()));
            var m = block.Add("m", new MapColumn<LowCardinalityStringColumn, FixedColumn<ulong>>(new(), new("UInt64")));

            u8.Add(255); u16.Add(65535); u32.Add(4_000_000_000); u64.Add(18_446_744_073_709_551_615); i64.Add(-42);
            f64.Add(0.5); b.Add(1); s.Add("é \"q\" \t"); lc.Add("GET"); ip.Add(IPAddress.Parse("192.0.2.10"));
            t.Add(1_767_225_600_000_001); e.Add(1);
            arr.Elements.Add("h2"); arr.Elements.Add("http/1.1"); arr.EndRow();
            arrS.Elements.Add("a"); arrS.EndRow();
            n.Values.Add(""); n.EndRow(isNull: true);
            m.Keys.Add("x"); m.Values.Add(1); m.Keys.Add("y"); m.Values.Add(2); m.EndRow();
            block.EndRow();

            u8.Add(0); u16.Add(0); u32.Add(0); u64.Add(0); i64.Add(long.MinValue);
            f64.Add(-1e300); b.Add(0); s.Add(""); lc.Add("POST"); ip.Add(IPAddress.Parse("2001:db8::1"));
            t.Add(0); e.Add(0);
            arr.EndRow();
            arrS.EndRow();
            n.Values.Add("present"); n.EndRow(isNull: false);
            m.EndRow();
            block.EndRow();

            var body = new ByteBuffer();
            block.Encode(body);
            await store.InsertAsync(options.Database + ".t", block.ColumnNames, "Native", body.Memory);

            var rows = await JsonRowsAsync(store,
                $"SELECT * FROM {options.Database}.t ORDER BY i64 DESC SETTINGS output_format_json_quote_64bit_integers = 1");
            Assert.Equal(2, rows.Count);
            var r = rows[0];
            Assert.Equal(255, r.GetProperty("u8").GetInt32());
            Assert.Equal(65535, r.GetProperty("u16").GetInt32());
            Assert.Equal(4_000_000_000, r.GetProperty("u32").GetInt64());
            Assert.Equal("18446744073709551615", r.GetProperty("u64").GetString());
            Assert.Equal("-42", r.GetProperty("i64").GetString());
            Assert.Equal(0.5, r.GetProperty("f64").GetDouble());
            Assert.True(r.GetProperty("b").GetBoolean());
            Assert.Equal("é \"q\" \t", r.GetProperty("s").GetString());
            Assert.Equal("GET", r.GetProperty("lc").GetString());
            Assert.Equal("::ffff:192.0.2.10", r.GetProperty("ip").GetString());
            Assert.Equal("2026-01-01 00:00:00.000001", r.GetProperty("t").GetString());
            Assert.Equal("udp", r.GetProperty("e").GetString());
            Assert.Equal(["h2", "http/1.1"], r.GetProperty("arr").EnumerateArray().Select(x => x.GetString()!).ToArray());
            Assert.Equal(["a"], r.GetProperty("arr_s").EnumerateArray().Select(x => x.GetString()!).ToArray());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, r.GetProperty("n").ValueKind);
            Assert.Equal("1", r.GetProperty("m").GetProperty("x").GetString());
            Assert.Equal("2", r.GetProperty("m").GetProperty("y").GetString());

            var z = rows[1];
            Assert.Equal("-9223372036854775808", z.GetProperty("i64").GetString());
            Assert.Equal(-1e300, z.GetProperty("f64").GetDouble());
            Assert.False(z.GetProperty("b").GetBoolean());
            Assert.Equal("", z.GetProperty("s").GetString());
            Assert.Equal("POST", z.GetProperty("lc").GetString());
            Assert.Equal("2001:db8::1", z.GetProperty("ip").GetString());
            Assert.Equal("1970-01-01 00:00:00.000000", z.GetProperty("t").GetString());
            Assert.Equal("tcp", z.GetProperty("e").GetString());
            Assert.Empty(z.GetProperty("arr").EnumerateArray());
            Assert.Empty(z.GetProperty("arr_s").EnumerateArray());
            Assert.Equal("present", z.GetProperty("n").GetString());
            Assert.Empty(z.GetProperty("m").EnumerateObject());
        }
        finally
        {
            await DropAsync(store, options);
        }
    }

    /// <summary>Past 256 and 65,536 distinct values the dictionary indexes widen to UInt16 and UInt32.</summary>
    [Theory]
    [InlineData(300)]
    [InlineData(70_000)]
    public async Task Low_cardinality_dictionaries_past_one_and_two_byte_indexes(int distinct)
    {
        var options = fixture.Options("chdb", "nativelc");
        await using var store = fixture.Open("chdb");
        try
        {
            await store.QueryAsync($"CREATE DATABASE {options.Database}");
            await store.QueryAsync($"CREATE TABLE {options.Database}.t (i UInt32, v LowCardinality(String)) ENGINE = MergeTree ORDER BY i");
            var block = new NativeBlockEncoder();
            var i = block.Add("i", new FixedColumn<uint>("UInt32"));
            var v = block.Add("v", new LowCardinalityStringColumn());
            // Every value twice, so that later rows point back into the dictionary.
            for (var k = 0; k < 2 * distinct; k++)
            {
                i.Add((uint)k);
                v.Add("v" + (k % distinct).ToString(CultureInfo.InvariantCulture));
                block.EndRow();
            }
            var body = new ByteBuffer();
            block.Encode(body);
            await store.InsertAsync(options.Database + ".t", block.ColumnNames, "Native", body.Memory);
            var text = await TextAsync(store,
                $"SELECT count(), uniqExact(v), countIf(v = concat('v', toString(i % {distinct}))) FROM {options.Database}.t");
            Assert.Equal($"{2 * distinct}\t{distinct}\t{2 * distinct}", text);
        }
        finally
        {
            await DropAsync(store, options);
        }
    }

    /// <summary>
    /// A batch spilled as RowBinary (the format before Native) is still replayed as RowBinary:
    /// the record's format byte says how to insert it.
    /// </summary>
    [Fact]
    public async Task A_spilled_RowBinary_batch_is_replayed_in_its_own_format()
    {
        var options = fixture.Options("chdb", "spillrb");
        await using var store = fixture.Open("chdb");
        try
        {
            await MigrateAsync(store, options);
            var db = options.Database;
            // RowBinary rows as the engine writes them, made from a scratch copy of http_logs.
            await store.QueryAsync($"CREATE TABLE {db}.scratch AS {db}.http_logs");
            var requests = Enumerable.Range(0, 3).Select(k => StorageEvents.Request(k, StorageEvents.T0.AddSeconds(k))).ToList();
            var block = new HttpLogsBlock();
            requests.ForEach(block.Add);
            var native = new ByteBuffer();
            block.Encode(native);
            var columns = TableBlock.Columns(StoreTable.HttpLogs);
            await store.InsertAsync($"{db}.scratch", columns, "Native", native.Memory);
            var rowBinary = await store.QueryAsync($"SELECT {string.Join(", ", columns)} FROM {db}.scratch ORDER BY connection_id",
                format: "RowBinary");

            using (var spill = new SpillQueue(options.SpillPath, 1 << 20, 1 << 20, NullLogger.Instance))
            {
                Assert.Equal(SpillAppend.Stored, spill.Append(new SpillRecord(StoreTable.HttpLogs, 3, 7, 1, rowBinary, InsertFormat.RowBinary)));
            }
            var metrics = await WriteAsync(store, options);
            Assert.Equal(3.0, metrics.Read("ja4_storage_replayed_rows_total"));
            var rows = await JsonRowsAsync(store, $"SELECT connection_id, path, match_status, alpn FROM {db}.http_logs ORDER BY connection_id");
            Assert.Equal(["0", "1", "2"], rows.Select(r => r.GetProperty("connection_id").ToString()).ToArray());
            Assert.All(rows, r => Assert.Equal("/cart", r.GetProperty("path").GetString()));
            Assert.All(rows, r => Assert.Equal("matched", r.GetProperty("match_status").GetString()));
        }
        finally
        {
            await DropAsync(store, options);
        }
    }
}
