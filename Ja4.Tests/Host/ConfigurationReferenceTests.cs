using System.Reflection;
using System.Text.Json;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.Host;

/// <summary>The configuration reference (docs/configuration.md) keeps in step with the code.</summary>
public sealed class ConfigurationReferenceTests
{
    private static readonly string Reference = File.ReadAllText(Path.Combine(Corpus.RepositoryRoot, "docs", "configuration.md"));

    /// <summary>Every leaf key of the default appsettings.json, as "Section:Sub:Key".</summary>
    public static TheoryData<string> DefaultKeys()
    {
        var data = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Corpus.RepositoryRoot, "appsettings.json")));
        foreach (var key in Leaves(doc.RootElement, ""))
        {
            data.Add(key);
        }
        return data;
    }

    private static IEnumerable<string> Leaves(JsonElement e, string prefix)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            yield return prefix;
            yield break;
        }
        foreach (var p in e.EnumerateObject())
        {
            // Per-namespace log levels and per-edge channel names are open-ended maps.
            if (prefix is "Logging:Serilog:MinimumLevel:Override" or "Pipeline:Channels")
            {
                yield return prefix;
                yield break;
            }
            foreach (var leaf in Leaves(p.Value, prefix.Length == 0 ? p.Name : prefix + ":" + p.Name))
            {
                yield return leaf;
            }
        }
    }

    [Theory]
    [MemberData(nameof(DefaultKeys))]
    public void Every_default_key_is_documented(string key)
    {
        var (section, name) = Split(key);
        if (key is "Pipeline:Channels" or "Logging:Serilog:MinimumLevel:Override")
        {
            // Open-ended maps (per edge, per namespace): documented by their heading or path.
            Assert.Contains(key, Reference.Replace("&lt;Edge&gt;", "").Replace("&lt;namespace&gt;", ""));
            return;
        }
        Assert.True(IsDocumented(section, name), $"{key} is not in docs/configuration.md (section {section}, key {name})");
    }

    /// <summary>Every public settable property of every module's options class is documented.</summary>
    public static TheoryData<string> OptionProperties()
    {
        var data = new TheoryData<string>();
        var modules = typeof(Ja4.Modules.Core.Pipeline.ModuleNames).Assembly;
        foreach (var type in modules.GetTypes().Where(t => t.IsPublic && t.Name.EndsWith("Options", StringComparison.Ordinal)
                                                           && t.Namespace is { } ns && ns.StartsWith("Ja4.Modules.", StringComparison.Ordinal)))
        {
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                data.Add($"{type.Name}.{p.Name}");
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(OptionProperties))]
    public void Every_option_property_is_documented(string property)
    {
        // As a key of its own (`Name`) or as a segment of a documented path (`Sinks:File:Name`).
        var name = property.Split('.')[1];
        Assert.Matches($"`([A-Za-z<>-]+:)*{name}(:[A-Za-z<>-]+)*`", Reference);
    }

    private static (string Section, string Name) Split(string key)
    {
        var i = key.LastIndexOf(':');
        return i < 0 ? ("", key) : (key[..i], key[(i + 1)..]);
    }

    /// <summary>
    /// A key is documented when its full path appears in backquotes, or when a table row below a
    /// heading naming one of its parent sections names the rest of the path
    /// (<c>## Modules:Correlation</c> then <c>| `Sinks:File:Path` |</c>), or its last part in a row
    /// that names its parent (<c>| `Thresholds:Low` / `Medium` |</c>).
    /// </summary>
    private static bool IsDocumented(string section, string name)
    {
        var key = section.Length == 0 ? name : section + ":" + name;
        if (Reference.Contains($"`{key}`", StringComparison.Ordinal))
        {
            return true;
        }
        var heading = "";
        foreach (var line in Reference.Split('\n'))
        {
            if (line.StartsWith('#'))
            {
                heading = line.TrimStart('#').Trim().Replace("&lt;", "<").Replace("&gt;", ">");
                continue;
            }
            if (!line.StartsWith('|') || heading.Length == 0 || !key.StartsWith(heading + ":", StringComparison.Ordinal))
            {
                continue;
            }
            var rest = key[(heading.Length + 1)..];
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            var first = cells.Length > 1 ? cells[1] : "";
            if (first.Contains($"`{rest}`", StringComparison.Ordinal))
            {
                return true;
            }
            var i = rest.LastIndexOf(':');
            if (i > 0 && first.Contains($"`{rest[..i]}:", StringComparison.Ordinal) && first.Contains($"`{rest[(i + 1)..]}`", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The channel table gives each edge's default capacity and byte budget as the code has them.</summary>
    [Fact]
    public void Every_channel_row_states_the_edge_defaults()
    {
        var start = Reference.IndexOf("## Pipeline:Channels", StringComparison.Ordinal);
        var end = Reference.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var rows = Reference[start..end].Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries))
            .Where(c => c.Length > 5)
            .ToDictionary(c => c[1].Trim('`'), c => (Capacity: c[3], MaxMb: c[4]), StringComparer.Ordinal);
        foreach (var edge in Ja4.Modules.Core.Pipeline.Edges.All)
        {
            Assert.True(rows.TryGetValue(edge.Name, out var row), $"no row for channel {edge.Name}");
            Assert.Equal(edge.DefaultCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture), row.Capacity);
            var sized = typeof(Ja4.Modules.Core.Events.ISizedEvent).IsAssignableFrom(edge.EventType);
            Assert.Equal(sized, edge.DefaultMaxMb > 0);
            if (sized)
            {
                Assert.Equal(edge.DefaultMaxMb.ToString(System.Globalization.CultureInfo.InvariantCulture), row.MaxMb);
            }
            else
            {
                Assert.StartsWith("—", row.MaxMb, StringComparison.Ordinal);
            }
        }
    }
}
