using Ja4.Modules.Storage.Writer;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ja4.Tests.Storage;

public sealed class SpillQueueTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-spill-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private SpillQueue Open(long max = 1 << 20, long segment = 4096) => new(_dir, max, segment, NullLogger.Instance);

    private static SpillRecord Record(ulong seq, int size = 1000) =>
        new(seq % 2 == 0 ? StoreTable.HttpLogs : StoreTable.TlsHandshakes, (int)seq + 1, 0xABCDEF, seq,
            Enumerable.Range(0, size).Select(i => (byte)(i * 7 + (int)seq)).ToArray());

    private static List<SpillRecord> DrainAll(SpillQueue q)
    {
        var list = new List<SpillRecord>();
        while (q.Peek() is { } r)
        {
            list.Add(r);
            q.Commit();
        }
        return list;
    }

    [Fact]
    public void Records_come_back_in_order_across_segments_and_restarts_and_replayed_segments_are_deleted()
    {
        using (var q = Open())
        {
            for (ulong i = 1; i <= 10; i++)
            {
                Assert.Equal(SpillAppend.Stored, q.Append(Record(i)));
            }
            Assert.True(Directory.GetFiles(_dir, "*.spill").Length >= 3, "a 4 KiB segment holds at most 4 records of 1 KB");
            Assert.Equal(10 * (1000 + SpillQueue.HeaderSize), q.Bytes);
        }
        using (var q = Open())
        {
            Assert.True(q.HasRecords);
            var first = q.Peek()!;
            Assert.Equal(1UL, first.Sequence);
            q.Commit();
            Assert.Equal(SpillAppend.Stored, q.Append(Record(11)));
            var rest = DrainAll(q);
            Assert.Equal(Enumerable.Range(2, 10).Select(i => (ulong)i), rest.Select(r => r.Sequence));
            var r5 = rest.Single(r => r.Sequence == 5);
            Assert.Equal(Record(5).Payload.ToArray(), r5.Payload.ToArray());
            Assert.Equal((StoreTable.TlsHandshakes, 6, "0000000000abcdef-5"), (r5.Table, r5.Rows, r5.Token));
            Assert.False(q.HasRecords);
            Assert.Equal(0, q.Bytes);
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.spill"));
    }

    [Fact]
    public void A_torn_tail_is_cut_off_and_counted()
    {
        using (var q = Open(segment: 1 << 20))
        {
            for (ulong i = 1; i <= 3; i++)
            {
                q.Append(Record(i));
            }
        }
        var file = Directory.GetFiles(_dir, "*.spill").Single();
        using (var f = new FileStream(file, FileMode.Open))
        {
            f.SetLength(f.Length - 5);
        }
        using var reopened = Open(segment: 1 << 20);
        Assert.Equal([1UL, 2UL], DrainAll(reopened).Select(r => r.Sequence));
        Assert.Equal(1, reopened.CorruptRecords);
    }

    [Fact]
    public void A_flipped_bit_fails_the_checksum()
    {
        using (var q = Open(segment: 1 << 20))
        {
            q.Append(Record(1));
            q.Append(Record(2));
        }
        var file = Directory.GetFiles(_dir, "*.spill").Single();
        var bytes = File.ReadAllBytes(file);
        bytes[SpillQueue.HeaderSize + 1000 + SpillQueue.HeaderSize + 500] ^= 0x10;
        File.WriteAllBytes(file, bytes);
        using var reopened = Open(segment: 1 << 20);
        Assert.Equal([1UL], DrainAll(reopened).Select(r => r.Sequence));
        Assert.Equal(1, reopened.CorruptRecords);
    }

    [Fact]
    public void The_size_cap_refuses_a_batch_without_writing_part_of_it()
    {
        // One record per segment: a replayed record frees its segment at once.
        using var q = Open(max: 3 * (1000 + SpillQueue.HeaderSize), segment: 1000 + SpillQueue.HeaderSize);
        Assert.Equal(SpillAppend.Stored, q.Append(Record(1)));
        Assert.Equal(SpillAppend.Stored, q.Append(Record(2)));
        Assert.Equal(SpillAppend.Stored, q.Append(Record(3)));
        Assert.Equal(SpillAppend.Full, q.Append(Record(4)));
        Assert.Equal(3 * (1000 + SpillQueue.HeaderSize), Directory.GetFiles(_dir, "*.spill").Sum(f => new FileInfo(f).Length));
        q.Peek();
        q.Commit();
        Assert.Equal(SpillAppend.Stored, q.Append(Record(4)));
        Assert.Equal([2UL, 3UL, 4UL], DrainAll(q).Select(r => r.Sequence));
    }

    [Fact]
    public void Each_record_keeps_its_payload_format_and_an_unknown_format_is_corrupt()
    {
        using (var q = Open(segment: 1 << 20))
        {
            q.Append(Record(1) with { Format = InsertFormat.Native });
            q.Append(Record(2));
            q.Append(Record(3));
        }
        var file = Directory.GetFiles(_dir, "*.spill").Single();
        var bytes = File.ReadAllBytes(file);
        Assert.Equal((byte)InsertFormat.Native, bytes[6]);
        Assert.Equal((byte)InsertFormat.RowBinary, bytes[SpillQueue.HeaderSize + 1000 + 6]);
        // Record 3 claims format 9, with a checksum that matches: still refused.
        var third = 2 * (SpillQueue.HeaderSize + 1000);
        bytes[third + 6] = 9;
        var crc = SpillQueue.Crc(bytes.AsSpan(third + 4, 28), bytes.AsSpan(third + SpillQueue.HeaderSize, 1000));
        BitConverter.GetBytes(crc).CopyTo(bytes, third + 32);
        File.WriteAllBytes(file, bytes);
        using var reopened = Open(segment: 1 << 20);
        var records = DrainAll(reopened);
        Assert.Equal([InsertFormat.Native, InsertFormat.RowBinary], records.Select(r => r.Format));
        Assert.Equal(1, reopened.CorruptRecords);
    }
}
