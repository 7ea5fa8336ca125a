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
        var name = property.Split('.')[1];
        Assert.Contains($"`{name}`", Reference);
    }

    private static (string Section, string Name) Split(string key)
    {
        var i = key.LastIndexOf(':');
        return i < 0 ? ("", key) : (key[..i], key[(i + 1)..]);
    }

    /// <summary>
    /// A key is documented when its full path appears, or when its name appears as a table key
    /// (<c>`Name`</c>) below a heading naming its section.
    /// </summary>
    private static bool IsDocumented(string section, string name)
    {
        if (Reference.Contains($"`{section}:{name}`", StringComparison.Ordinal) ||
            Reference.Contains($"`{section}`", StringComparison.Ordinal) && name.Length == 0)
        {
            return true;
        }
        var lines = Reference.Split('\n');
        var heading = "";
        foreach (var line in lines)
        {
            if (line.StartsWith('#'))
            {
                heading = line.TrimStart('#').Trim();
                continue;
            }
            if (line.StartsWith($"| `{name}`", StringComparison.Ordinal) &&
                (heading == section || heading.Replace("&lt;", "<").Replace("&gt;", ">") == section ||
                 heading.EndsWith(section, StringComparison.Ordinal)))
            {
                return true;
            }
        }
        // Open-ended maps are documented by their prefix.
        return Reference.Contains(section, StringComparison.Ordinal) && section is "Logging:Serilog:MinimumLevel" or "";
    }
}
