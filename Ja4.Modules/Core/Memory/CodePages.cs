using System.Globalization;
using System.Runtime.InteropServices;

namespace Ja4.Modules.Core.Memory;

/// <summary>
/// Hands back to the kernel the resident pages of this process's read-only file mappings (code and read-only
/// data of libraries and assemblies) with <c>madvise(MADV_PAGEOUT)</c>, Linux 5.4+. Clean pages that only this
/// process maps are reclaimed at once; pages other processes map too (libc) stay; any page used later is read
/// back from its file on first use. Writable, anonymous, memfd, device and deleted-file mappings are never touched.
/// </summary>
public static partial class CodePages
{
    private const int MadvPageout = 21;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(IntPtr address, nuint length, int advice);

    /// <summary>
    /// Applies MADV_PAGEOUT to each read-only mapping whose file path <paramref name="select"/> takes.
    /// Returns the resident bytes of those mappings before and after; (0, 0) when none is mapped or this is not
    /// Linux. A kernel without MADV_PAGEOUT leaves them as they were.
    /// </summary>
    public static (long Before, long After) Trim(Func<string, bool> select)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, 0);
        }
        var before = ResidentBytes(select);
        foreach (var (start, end) in ReadOnlyMappings(select))
        {
            _ = madvise((IntPtr)start, (nuint)(end - start), MadvPageout);
        }
        return (before, ResidentBytes(select));
    }

    /// <summary>Whether <paramref name="path"/> names the file <paramref name="fileName"/> (in any directory).</summary>
    public static bool IsFile(string path, string fileName) => path.EndsWith("/" + fileName, StringComparison.Ordinal);

    /// <summary>Address ranges of the read-only file mappings that <paramref name="select"/> takes (from /proc/self/maps).</summary>
    public static IEnumerable<(long Start, long End)> ReadOnlyMappings(Func<string, bool> select)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            // 7f7249400000-7f725256e000 r--p 00000000 fe:00 5538211   /path/libchdb.so
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 6 || parts[1].Contains('w', StringComparison.Ordinal) || !Selected(parts[5].Trim(), select))
            {
                continue;
            }
            var range = parts[0].Split('-');
            yield return (long.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                long.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Resident bytes of every mapping of the files <paramref name="select"/> takes (Rss lines of /proc/self/smaps).</summary>
    public static long ResidentBytes(Func<string, bool> select)
    {
        long kb = 0;
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            // A mapping's header ("7f72...-7f72... r--p ... /path") starts with a range; its fields ("Rss:   123 kB") with a name.
            var space = line.IndexOf(' ');
            if (space > 0 && line[space - 1] != ':' && line.AsSpan(0, space).Contains('-'))
            {
                var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                inside = parts.Length == 6 && Selected(parts[5].Trim(), select);
            }
            else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                kb += long.Parse(line.AsSpan(4).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        return kb * 1024;
    }

    /// <summary>A regular file's mapping (not a deleted file, a memfd, a device or a pseudo-mapping) that <paramref name="select"/> takes.</summary>
    private static bool Selected(string path, Func<string, bool> select) =>
        path.StartsWith('/') && !path.StartsWith("/memfd:", StringComparison.Ordinal) && !path.StartsWith("/dev/", StringComparison.Ordinal)
        && !path.EndsWith(" (deleted)", StringComparison.Ordinal) && select(path);
}
