using Ja4.Modules.Storage.Engines;

namespace Ja4.Tests.Storage;

/// <summary>The start-up trim on the real libchdb.so, loaded in this process by the chDB collection.</summary>
[Collection("chdb")]
public sealed class EngineCodeTrimTests(ChdbFixture fixture)
{
    [Fact]
    public async Task The_engine_code_read_only_at_start_up_leaves_memory_and_the_engine_still_answers()
    {
        Assert.NotEmpty(EngineCodeTrim.ReadOnlyMappings(ChdbNative.FileName));
        // Its executable mapping is among them; writable data is never touched.
        var maps = File.ReadLines("/proc/self/maps").Where(l => l.EndsWith("/libchdb.so", StringComparison.Ordinal)).ToList();
        Assert.Contains(maps, l => l.Split(' ')[1] == "r-xp");
        Assert.Equal(maps.Count(l => !l.Split(' ')[1].Contains('w', StringComparison.Ordinal)),
            EngineCodeTrim.ReadOnlyMappings(ChdbNative.FileName).Count());

        // Read one byte of every page first (a daemon started earlier in this process may have trimmed already).
        foreach (var (start, end) in EngineCodeTrim.ReadOnlyMappings(ChdbNative.FileName))
        {
            for (var a = start; a < end; a += 4096)
            {
                _ = System.Runtime.InteropServices.Marshal.ReadByte((IntPtr)a);
            }
        }
        var (before, after) = EngineCodeTrim.Trim();
        Assert.True(before > 300L << 20, $"libchdb.so resident before: {before >> 20} MB");
        Assert.True(after < before / 2, $"libchdb.so resident {before >> 20} MB -> {after >> 20} MB");
        Assert.Equal("42", System.Text.Encoding.UTF8.GetString(await fixture.Chdb.QueryAsync("SELECT 6 * 7")).Trim());
    }

    [Fact]
    public void A_library_that_is_not_mapped_has_nothing_to_trim() =>
        Assert.Equal((0L, 0L), EngineCodeTrim.Trim("libnot-loaded-anywhere.so"));
}
