using Ja4.Modules.Core.Memory;

namespace Ja4.Modules.Storage.Engines;

/// <summary>
/// Hands back to the kernel the pages of the embedded engine's code that only its start-up read.
/// Loading libchdb.so (540 MB) touches about 330 MB of it (initialisers, relocations); under load
/// the engine then runs in about 80 MB of it. <c>madvise(MADV_PAGEOUT)</c> on the library's
/// read-only, file-backed mappings reclaims those clean pages at once (Linux 5.4+); any page used
/// later is read back from the file on first use. Nothing anonymous or writable is touched
/// (<see cref="CodePages"/>).
/// </summary>
public static class EngineCodeTrim
{
    /// <summary>The engine's library file name.</summary>
    public const string LibraryFileName = ChdbNative.FileName;

    /// <summary>
    /// Applies MADV_PAGEOUT to each read-only mapping of <paramref name="fileName"/> in this process.
    /// Returns the resident bytes of those mappings before and after; (0, 0) when the library is not
    /// mapped or this is not Linux. A kernel without MADV_PAGEOUT leaves them as they were.
    /// </summary>
    public static (long Before, long After) Trim(string fileName = ChdbNative.FileName) =>
        CodePages.Trim(path => CodePages.IsFile(path, fileName));

    /// <summary>Address ranges of the read-only mappings of <paramref name="fileName"/> (from /proc/self/maps).</summary>
    internal static IEnumerable<(long Start, long End)> ReadOnlyMappings(string fileName) =>
        CodePages.ReadOnlyMappings(path => CodePages.IsFile(path, fileName));
}
