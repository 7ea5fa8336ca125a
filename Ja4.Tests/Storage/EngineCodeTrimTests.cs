using System.Runtime.InteropServices;
using Ja4.Modules.Storage.Engines;
using Ja4.Tests.TestSupport;

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
        const int size = 32 << 20;
        using var mapped = new ReadMappedFile("ja4-trim", size);
        Assert.Equal(mapped.ExpectedSum, mapped.ReadSum);
        Assert.Single(EngineCodeTrim.ReadOnlyMappings(mapped.Name));

        var (before, after) = EngineCodeTrim.Trim(mapped.Name);
        Assert.True(before >= size * 9L / 10, $"resident before: {before >> 20} MiB");
        Assert.True(after <= before / 4, $"resident {before >> 20} MiB -> {after >> 20} MiB");
        // Read again, the same bytes come back from the file.
        Assert.Equal(mapped.Data[size - 1], mapped.View.ReadByte(size - 1));
    }

    [Fact]
    public void A_library_that_is_not_mapped_has_nothing_to_trim() =>
        Assert.Equal((0L, 0L), EngineCodeTrim.Trim("libnot-loaded-anywhere.so"));
}
