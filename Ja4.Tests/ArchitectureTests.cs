using System.Text.RegularExpressions;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests;

/// <summary>Module boundaries: a module uses Core and itself, never another module's folder.</summary>
public sealed partial class ArchitectureTests
{
    private static readonly string[] Modules = ["Capture", "Fingerprints", "HttpIngest", "Correlation", "Storage", "Detection", "Dashboard"];

    /// <summary>Fingerprints is pure logic shared by capture (and read by the dashboard to decode raw forms).</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Capture"] = ["Fingerprints"],
        ["Dashboard"] = ["Fingerprints", "Storage"],
        ["Detection"] = ["Storage"],
    };

    [GeneratedRegex(@"Ja4\.Modules\.(\w+)")]
    private static partial Regex ModuleReference();

    [Fact]
    public void No_module_references_another_modules_folder()
    {
        var root = Path.Combine(Corpus.RepositoryRoot, "Ja4.Modules");
        var violations = new List<string>();
        foreach (var module in Modules)
        {
            var dir = Path.Combine(root, module);
            if (!Directory.Exists(dir))
            {
                continue;
            }
            foreach (var file in Directory.EnumerateFiles(dir, "*.*", SearchOption.AllDirectories)
                         .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".razor", StringComparison.Ordinal)))
            {
                foreach (Match m in ModuleReference().Matches(File.ReadAllText(file)))
                {
                    var target = m.Groups[1].Value;
                    if (target != module && target != "Core" && Modules.Contains(target) &&
                        !(Allowed.TryGetValue(module, out var ok) && ok.Contains(target)))
                    {
                        violations.Add($"{Path.GetRelativePath(root, file)} -> Ja4.Modules.{target}");
                    }
                }
            }
        }
        Assert.Empty(violations);
    }

    [Fact]
    public void Core_references_no_module()
    {
        var core = Path.Combine(Corpus.RepositoryRoot, "Ja4.Modules", "Core");
        var bad = Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => ModuleReference().Matches(File.ReadAllText(f)).Select(m => (f, m.Groups[1].Value)))
            .Where(x => Modules.Contains(x.Value))
            .Select(x => $"{Path.GetFileName(x.f)} -> {x.Value}");
        Assert.Empty(bad);
    }
}
