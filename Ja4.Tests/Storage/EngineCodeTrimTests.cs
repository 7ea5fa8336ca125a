using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Ja4.Modules.Storage.Engines;

namespace Ja4.Tests.Storage;

/// <summary>The start-up trim: which mappings it takes, and that it empties them (on a file only this test maps).</summary>
[Collection("chdb")]
public sealed class EngineCodeTrimTests(ChdbFixture fixture)
{
    [Fact]
    public async Task Only_the_read_only_mappings_of_the_engine_library_are_taken_and_the_engine_still_answers()
    {
        var maps = File.ReadLines("/proc/self/maps").Where(l => l.EndsWith("/libchdb.so", StringComparison.Ordinal)).ToList();
        Assert.Contains(maps, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] == "r-xp");
        Assert.Contains(maps, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1].Contains('w', StringComparison.Ordinal));
        Assert.Equal(maps.Count(l => !l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1].Contains('w', StringComparison.Ordinal)),
            EngineCodeTrim.ReadOnlyMappings(ChdbNative.FileName).Count());
        EngineCodeTrim.Trim();
        Assert.Equal("42", System.Text.Encoding.UTF8.GetString(await fixture.Chdb.QueryAsync("SELECT 6 * 7")).Trim());
    }

    [Fact]
    public void Pages_read_once_leave_memory_when_this_process_alone_maps_them()
    {
        // A 32 MiB file mapped read-only and read through, as the engine's initialisers read its code.
        var name = $"ja4-trim-{Environment.ProcessId}-{Guid.NewGuid():N}.bin";
        var path = Path.Combine(Path.GetTempPath(), name);
        const int size = 32 << 20;
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.Write(data);
            stream.Flush(flushToDisk: true);
        }
        try
        {
            using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            using var view = file.CreateViewAccessor(0, size, MemoryMappedFileAccess.Read);
            long sum = 0;
            for (var i = 0; i < size; i += 4096)
            {
                sum += view.ReadByte(i);
            }
            Assert.Equal(data.Where((_, i) => i % 4096 == 0).Sum(b => (long)b), sum);
            Assert.Single(EngineCodeTrim.ReadOnlyMappings(name));

            var (before, after) = EngineCodeTrim.Trim(name);
            Assert.True(before >= size * 9L / 10, $"resident before: {before >> 20} MiB");
            Assert.True(after <= before / 4, $"resident {before >> 20} MiB -> {after >> 20} MiB");
            // Read again, the same bytes come back from the file.
            Assert.Equal(data[size - 1], view.ReadByte(size - 1));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_library_that_is_not_mapped_has_nothing_to_trim() =>
        Assert.Equal((0L, 0L), EngineCodeTrim.Trim("libnot-loaded-anywhere.so"));
}
