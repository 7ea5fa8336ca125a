using System.Text.Json;

namespace Ja4.Tests.TestSupport;

/// <summary>The reference corpora in ../shared/corpus (read in place, never copied).</summary>
public static class Corpus
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary><c>JA4_CORPUS</c>, else <c>shared/corpus</c> beside the repository checkout.</summary>
    public static string Root { get; } = Locate();

    public static string FoxioPcapDir => Path.Combine(Root, "foxio", "pcap");
    public static string FoxioExpectedDir => Path.Combine(Root, "foxio", "expected");

    public static IEnumerable<string> FoxioPcaps() =>
        Directory.EnumerateFiles(FoxioPcapDir).Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    /// <summary>The expected hellos of one capture, as JSON objects in capture order.</summary>
    public static IReadOnlyList<JsonElement> Expected(string pcapName)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FoxioExpectedDir, pcapName + ".json")));
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ja4.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("ja4.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Locate()
    {
        var env = Environment.GetEnvironmentVariable("JA4_CORPUS");
        if (!string.IsNullOrEmpty(env))
        {
            return env;
        }
        for (var dir = new DirectoryInfo(RepositoryRoot); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "corpus");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("reference corpus not found: set JA4_CORPUS or place shared/corpus beside the checkout");
    }
}
