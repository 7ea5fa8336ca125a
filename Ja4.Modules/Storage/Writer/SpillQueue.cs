using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Storage.Writer;

/// <summary>One batch in the spill queue: its table, row count, dedup token and payload in <paramref name="Format"/>.</summary>
public sealed record SpillRecord(StoreTable Table, int Rows, ulong RunId, ulong Sequence, ReadOnlyMemory<byte> Payload,
    InsertFormat Format = InsertFormat.RowBinary)
{
    /// <summary>The insert deduplication token: a replayed batch is written at most once.</summary>
    public string Token => string.Create(CultureInfo.InvariantCulture, $"{RunId:x16}-{Sequence}");
}

/// <summary>Result of appending a batch to the spill queue.</summary>
public enum SpillAppend
{
    /// <summary>Written and fsynced: the batch is acknowledged.</summary>
    Stored,
    /// <summary>The queue reached <c>SpillMaxMb</c>.</summary>
    Full,
    /// <summary>The disk refused the write (full, read-only, I/O error); nothing partial remains.</summary>
    DiskError,
}

/// <summary>
/// The on-disk spill queue: append-only segment files (<c>0000…0001.spill</c>) of checksummed
/// records, fsynced per batch, read back in order. A record is a 36-byte header (magic, table,
/// version, payload format (0 RowBinary, as written before Native existed; 1 Native), rows,
/// payload length, run id, sequence, CRC-32C of header and payload) and its payload.
/// A torn or corrupt tail (a write that never completed its fsync, so never acknowledged) is cut
/// off and counted. Used by one writer loop: not thread-safe.
/// </summary>
public sealed class SpillQueue : IDisposable
{
    public const uint Magic = 0x5053344A; // "J4SP" little-endian
    public const int HeaderSize = 36;
    private const byte FormatVersion = 1;
    private const string Extension = ".spill";

    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly ILogger _logger;
    private readonly SortedList<long, string> _segments = new();
    private FileStream? _write;
    private long _writeSegment;
    private FileStream? _read;
    private long _readSegment = -1;
    private long _readOffset;
    private long _pendingReadOffset;
    private long _bytes;

    public SpillQueue(string directory, long maxBytes, long segmentBytes, ILogger logger)
    {
        _directory = Path.GetFullPath(directory);
        _maxBytes = maxBytes;
        _segmentBytes = segmentBytes;
        _logger = logger;
        Directory.CreateDirectory(_directory);
        foreach (var file in Directory.EnumerateFiles(_directory, "*" + Extension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                _segments[seq] = file;
                _bytes += new FileInfo(file).Length;
            }
        }
        _writeSegment = _segments.Count == 0 ? 0 : _segments.Keys[^1];
    }

    /// <summary>Bytes on disk in the queue.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>True while at least one segment file holds records not yet committed.</summary>
    public bool HasRecords => _segments.Count > 0;

    /// <summary>Rows dropped because a record was corrupt (counted, logged).</summary>
    public long CorruptRecords { get; private set; }

    /// <summary>Appends a batch and fsyncs it; only <see cref="SpillAppend.Stored"/> acknowledges it.</summary>
    public SpillAppend Append(SpillRecord record)
    {
        var size = HeaderSize + record.Payload.Length;
        if (Bytes + size > _maxBytes)
        {
            return SpillAppend.Full;
        }
        if (_write is null || _write.Length + size > _segmentBytes && _write.Length > 0)
        {
            RotateWriter();
        }
        var stream = _write!;
        var start = stream.Length;
        try
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            EncodeHeader(header, record);
            stream.Position = start;
            stream.Write(header);
            stream.Write(record.Payload.Span);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            StorageLog.SpillIo(_logger, _directory, e.Message);
            try
            {
                stream.SetLength(start);
                stream.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                // The tail is cut at the next open: a record without a valid checksum is never replayed.
            }
            return SpillAppend.DiskError;
        }
        catch (UnauthorizedAccessException e)
        {
            StorageLog.SpillIo(_logger, _directory, e.Message);
            return SpillAppend.DiskError;
        }
        Interlocked.Add(ref _bytes, size);
        return SpillAppend.Stored;
    }

    private void RotateWriter()
    {
        _write?.Dispose();
        _writeSegment++;
        var path = Path.Combine(_directory, _writeSegment.ToString("D20", CultureInfo.InvariantCulture) + Extension);
        _write = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0);
        _segments[_writeSegment] = path;
        FsyncDirectory();
    }

    private void FsyncDirectory()
    {
        // The new file's directory entry must survive a crash as well as its contents.
        try
        {
            var fd = Open(_directory, 0 /* O_RDONLY */);
            if (fd >= 0)
            {
                _ = Fsync(fd);
                _ = Close(fd);
            }
        }
        catch (EntryPointNotFoundException)
        {
        }
        catch (DllNotFoundException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);

    /// <summary>The oldest uncommitted record, or null when the queue is empty.</summary>
    public SpillRecord? Peek()
    {
        while (_segments.Count > 0)
        {
            var seq = _segments.Keys[0];
            if (_readSegment != seq)
            {
                _read?.Dispose();
                _read = new FileStream(_segments[seq], FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
                _readSegment = seq;
                _readOffset = 0;
            }
            var record = TryRead(_read!, _readOffset, out var next, out var corrupt);
            if (record is not null)
            {
                _pendingReadOffset = next;
                return record;
            }
            if (corrupt)
            {
                CorruptRecords++;
                StorageLog.SpillCorrupt(_logger, _segments[seq], _readOffset, _read!.Length - _readOffset);
            }
            else if (seq == _writeSegment && _write is not null)
            {
                // Caught up with the segment being written: nothing more for now.
                if (_readOffset < _write.Length)
                {
                    return null;
                }
            }
            RemoveSegment(seq);
        }
        return null;
    }

    /// <summary>Marks the record returned by <see cref="Peek"/> as written to the store.</summary>
    public void Commit()
    {
        _readOffset = _pendingReadOffset;
        if (_read is not null && _readOffset >= _read.Length && (_readSegment != _writeSegment || _write is null))
        {
            RemoveSegment(_readSegment);
        }
        else if (_read is not null && _readSegment == _writeSegment && _write is not null && _readOffset >= _write.Length)
        {
            // The active segment is fully replayed: close it so that the next append starts a new one.
            _write.Dispose();
            _write = null;
            RemoveSegment(_readSegment);
        }
    }

    private void RemoveSegment(long seq)
    {
        if (_readSegment == seq)
        {
            _read?.Dispose();
            _read = null;
            _readSegment = -1;
            _readOffset = 0;
        }
        if (seq == _writeSegment && _write is not null)
        {
            _write.Dispose();
            _write = null;
        }
        var path = _segments[seq];
        long length = 0;
        try
        {
            length = new FileInfo(path).Length;
            File.Delete(path);
        }
        catch (IOException e)
        {
            StorageLog.SpillIo(_logger, path, e.Message);
        }
        _segments.Remove(seq);
        Interlocked.Add(ref _bytes, -length);
    }

    private static SpillRecord? TryRead(FileStream stream, long offset, out long next, out bool corrupt)
    {
        next = offset;
        corrupt = false;
        var length = stream.Length;
        if (offset >= length)
        {
            return null;
        }
        if (length - offset < HeaderSize)
        {
            corrupt = true;
            return null;
        }
        Span<byte> header = stackalloc byte[HeaderSize];
        stream.Position = offset;
        stream.ReadExactly(header);
        var payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || header[5] != FormatVersion || payloadLength < 0
            || !Enum.IsDefined((InsertFormat)header[6]) || length - offset - HeaderSize < payloadLength)
        {
            corrupt = true;
            return null;
        }
        var payload = new byte[payloadLength];
        stream.ReadExactly(payload);
        var crc = Crc(header[4..32], payload);
        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(header[32..]))
        {
            corrupt = true;
            return null;
        }
        next = offset + HeaderSize + payloadLength;
        return new SpillRecord((StoreTable)header[4], BinaryPrimitives.ReadInt32LittleEndian(header[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(header[16..]), BinaryPrimitives.ReadUInt64LittleEndian(header[24..]), payload,
            (InsertFormat)header[6]);
    }

    internal static void EncodeHeader(Span<byte> header, SpillRecord record)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        header[4] = (byte)record.Table;
        header[5] = FormatVersion;
        header[6] = (byte)record.Format;
        header[7] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], record.Rows);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], record.Payload.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], record.RunId);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], record.Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], Crc(header[4..32], record.Payload.Span));
    }

    /// <summary>CRC-32C (Castagnoli, hardware-accelerated) of the header fields and the payload.</summary>
    internal static uint Crc(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload) =>
        ~Crc32C(Crc32C(0xFFFFFFFFu, header), payload);

    private static uint Crc32C(uint crc, ReadOnlySpan<byte> data)
    {
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }
        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, data[i]);
        }
        return crc;
    }

    public void Dispose()
    {
        _write?.Dispose();
        _write = null;
        _read?.Dispose();
        _read = null;
    }
}
