using System.IO.MemoryMappedFiles;

namespace Ja4.Tests.TestSupport;

/// <summary>
/// A temporary file of random bytes mapped read-only and read through once, page by page, as a program's start-up
/// reads code it will not run again: its pages are resident and only this process maps them.
/// </summary>
public sealed class ReadMappedFile : IDisposable
{
    private readonly MemoryMappedFile _file;

    public ReadMappedFile(string prefix, int size)
    {
        Name = $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}.bin";
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), Name);
        Data = new byte[size];
        Random.Shared.NextBytes(Data);
        using (var stream = new FileStream(Path, FileMode.CreateNew))
        {
            stream.Write(Data);
            stream.Flush(flushToDisk: true);
        }
        _file = MemoryMappedFile.CreateFromFile(Path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        View = _file.CreateViewAccessor(0, size, MemoryMappedFileAccess.Read);
        long sum = 0;
        for (var i = 0; i < size; i += 4096)
        {
            sum += View.ReadByte(i);
        }
        ReadSum = sum;
    }

    /// <summary>The file's name (no directory), as its mappings end in /proc/self/maps.</summary>
    public string Name { get; }

    public string Path { get; }

    /// <summary>What was written.</summary>
    public byte[] Data { get; }

    public MemoryMappedViewAccessor View { get; }

    /// <summary>The sum of the first byte of each page as read through the mapping.</summary>
    public long ReadSum { get; }

    /// <summary>The same sum from <see cref="Data"/>.</summary>
    public long ExpectedSum => Data.Where((_, i) => i % 4096 == 0).Sum(b => (long)b);

    public void Dispose()
    {
        View.Dispose();
        _file.Dispose();
        File.Delete(Path);
    }
}
