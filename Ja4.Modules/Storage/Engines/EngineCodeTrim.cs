using System.Globalization;
using System.Runtime.InteropServices;

namespace Ja4.Modules.Storage.Engines;

/// <summary>
/// Hands back to the kernel the pages of the embedded engine's code that only its start-up read.
/// Loading libchdb.so (540 MB) touches about 330 MB of it (initialisers, relocations); under load
/// the engine then runs in about 80 MB of it. <c>madvise(MADV_PAGEOUT)</c> on the library's
/// read-only, file-backed mappings reclaims those clean pages at once (Linux 5.4+); any page used
/// later is read back from the file on first use. Nothing anonymous or writable is touched.
/// </summary>
public static partial class EngineCodeTrim
{
    private const int MadvPageout = 21;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(IntPtr address, nuint length, int advice);

    /// <summary>
    /// Applies MADV_PAGEOUT to each read-only mapping of <paramref name="fileName"/> in this process.
    /// Returns the resident bytes of those mappings before and after; (0, 0) when the library is not
    /// mapped or this is not Linux. A kernel without MADV_PAGEOUT leaves them as they were.
    /// </summary>
    public static (long Before, long After) Trim(string fileName = ChdbNative.FileName)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, 0);
        }
        var before = ResidentBytes(fileName);
        foreach (var (start, end) in ReadOnlyMappings(fileName))
        {
            _ = madvise((IntPtr)start, (nuint)(end - start), MadvPageout);
        }
        return (before, ResidentBytes(fileName));
    }

    /// <summary>Address ranges of the read-only mappings of <paramref name="fileName"/> (from /proc/self/maps).</summary>
    internal static IEnumerable<(long Start, long End)> ReadOnlyMappings(string fileName)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            // 7f7249400000-7f725256e000 r--p 00000000 fe:00 5538211   /path/libchdb.so
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 6 || !parts[5].EndsWith("/" + fileName, StringComparison.Ordinal) || parts[1].Contains('w', StringComparison.Ordinal))
            {
                continue;
            }
            var range = parts[0].Split('-');
            yield return (long.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                long.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Resident bytes of every mapping of <paramref name="fileName"/> (Rss lines of /proc/self/smaps).</summary>
    public static long ResidentBytes(string fileName = ChdbNative.FileName)
    {
        long kb = 0;
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            // A mapping's header ("7f72...-7f72... r--p ... /path") starts with a range; its fields ("Rss:   123 kB") with a name.
            var space = line.IndexOf(' ');
            if (space > 0 && line[space - 1] != ':' && line.AsSpan(0, space).Contains('-'))
            {
                inside = line.EndsWith("/" + fileName, StringComparison.Ordinal);
            }
            else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                kb += long.Parse(line.AsSpan(4).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        return kb * 1024;
    }
}
