using System.Buffers;
using System.Text.Json;
using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Correlation.Sinks;

/// <summary>An output of correlated requests besides storage; used from the correlation worker only.</summary>
public interface ICorrelationSink : IDisposable
{
    /// <summary>Metric label: <c>file</c>, <c>stdout</c>.</summary>
    string Name { get; }

    void Write(CorrelatedRequest request);

    /// <summary>Pushes buffered lines to the underlying file or stream.</summary>
    void Flush();
}

/// <summary>
/// Serialises records into whole JSON lines and hands them to the destination in chunks that end
/// on a line boundary, so that a reader (or another writer on the same stream) never sees half a line.
/// </summary>
public abstract class JsonLinesSink : ICorrelationSink
{
    /// <summary>Buffered bytes that trigger a write.</summary>
    protected const int ChunkBytes = 64 * 1024;

    private readonly ArrayBufferWriter<byte> _line = new(4096);
    private readonly ArrayBufferWriter<byte> _pending = new(ChunkBytes + 4096);
    private readonly Utf8JsonWriter _json;

    protected JsonLinesSink()
    {
        _json = new Utf8JsonWriter(_line, CorrelatedJson.WriterOptions);
    }

    public abstract string Name { get; }

    /// <summary>Bytes buffered and not yet written.</summary>
    protected int PendingBytes => _pending.WrittenCount;

    public void Write(CorrelatedRequest request)
    {
        _line.ResetWrittenCount();
        _json.Reset(_line);
        CorrelatedJson.Write(_json, request);
        _json.Flush();
        _line.Write("\n"u8);
        BeforeLine(_line.WrittenCount);
        _pending.Write(_line.WrittenSpan);
        if (_pending.WrittenCount >= ChunkBytes)
        {
            Flush();
        }
    }

    public void Flush()
    {
        if (_pending.WrittenCount == 0)
        {
            return;
        }
        try
        {
            WriteChunk(_pending.WrittenSpan);
        }
        finally
        {
            // A chunk that failed is not retried: the error is counted, memory stays bounded.
            _pending.ResetWrittenCount();
        }
    }

    /// <summary>Called before a line of <paramref name="lineBytes"/> is buffered (rotation point).</summary>
    protected virtual void BeforeLine(int lineBytes)
    {
    }

    /// <summary>Writes whole lines to the destination.</summary>
    protected abstract void WriteChunk(ReadOnlySpan<byte> lines);

    public void Dispose()
    {
        try
        {
            Flush();
        }
        finally
        {
            _json.Dispose();
            DisposeCore();
            GC.SuppressFinalize(this);
        }
    }

    protected abstract void DisposeCore();
}

/// <summary>JSON lines to standard output (or any stream, for tests).</summary>
public sealed class StdoutSink(Stream stream) : JsonLinesSink
{
    public StdoutSink() : this(Console.OpenStandardOutput())
    {
    }

    public override string Name => "stdout";

    protected override void WriteChunk(ReadOnlySpan<byte> lines)
    {
        stream.Write(lines);
        stream.Flush();
    }

    protected override void DisposeCore() => stream.Dispose();
}

/// <summary>
/// JSON lines appended to a file rotated by size: when the next line would take the file past
/// <c>MaxSizeMb</c>, <c>file</c> becomes <c>file.1</c>, <c>file.1</c> becomes <c>file.2</c>, ...,
/// and the file beyond <c>Keep</c> is deleted. Lines are never split across files.
/// </summary>
public sealed class RotatingFileSink : JsonLinesSink
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _keep;
    private FileStream? _file;
    private long _fileBytes;

    public RotatingFileSink(string path, long maxBytes, int keep)
    {
        _path = Path.GetFullPath(path);
        _maxBytes = maxBytes;
        _keep = keep;
        Open();
    }

    public override string Name => "file";

    /// <summary>Rotations done since start.</summary>
    public int Rotations { get; private set; }

    protected override void BeforeLine(int lineBytes)
    {
        var size = _fileBytes + PendingBytes;
        if (size > 0 && size + lineBytes > _maxBytes)
        {
            Flush();
            Rotate();
        }
    }

    protected override void WriteChunk(ReadOnlySpan<byte> lines)
    {
        _file ??= OpenStream();
        _file.Write(lines);
        _file.Flush();
        _fileBytes += lines.Length;
    }

    private void Rotate()
    {
        _file?.Dispose();
        _file = null;
        if (_keep == 0)
        {
            File.Delete(_path);
        }
        else
        {
            File.Delete($"{_path}.{_keep}");
            for (var i = _keep - 1; i >= 1; i--)
            {
                var from = $"{_path}.{i}";
                if (File.Exists(from))
                {
                    File.Move(from, $"{_path}.{i + 1}", overwrite: true);
                }
            }
            if (File.Exists(_path))
            {
                File.Move(_path, _path + ".1", overwrite: true);
            }
        }
        Rotations++;
        Open();
    }

    private void Open()
    {
        _file = OpenStream();
        _fileBytes = _file.Length;
    }

    private FileStream OpenStream()
    {
        var dir = Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }
        var stream = new FileStream(_path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 0,
        });
        _fileBytes = stream.Length;
        return stream;
    }

    protected override void DisposeCore()
    {
        _file?.Dispose();
        _file = null;
    }
}
