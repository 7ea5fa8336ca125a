using System.Text.Json;

namespace Ja4.Tests.Capture;

/// <summary>The shared reference corpus (read in place, never copied into the repository).</summary>
internal static class CorpusPaths
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "corpus", "foxio");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
                candidate = Path.Combine(dir.FullName, "..", "shared", "corpus", "foxio");
                if (Directory.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
                dir = dir.Parent;
            }
            throw new DirectoryNotFoundException("shared/corpus/foxio not found beside the repository");
        }
    }

    public static string Pcap(string name) => Path.Combine(Root, "pcap", name);

    public static IEnumerable<string> PcapNames() =>
        Directory.GetFiles(Path.Combine(Root, "pcap")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static IEnumerable<object[]> PcapNamesData() => PcapNames().Select(n => new object[] { n });

    public static List<JsonElement> Expected(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "expected", name + ".json")));
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }
}
