using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Ja4.Modules.Storage.Schema;

/// <summary>One numbered file of <c>schema/</c>: <c>NN_name.sql</c>.</summary>
public sealed partial record Migration(int Version, string Name, string Text)
{
    /// <summary>SHA-256 (hex) of the file as written, line endings normalised; placeholders are not substituted first.</summary>
    public string Checksum { get; } = Hash(Text);

    /// <summary>A file marked <c>-- cluster-only</c> applies only when a cluster is configured.</summary>
    public bool ClusterOnly => Marked("-- cluster-only");

    /// <summary>A file marked <c>-- embedded-only</c> applies only to the embedded engine (chDB), never to a server.</summary>
    public bool EmbeddedOnly => Marked("-- embedded-only");

    private bool Marked(string marker) => Text.Split('\n').Any(l => l.Trim() == marker);

    [GeneratedRegex(@"^(\d+)_([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex FileNamePattern();

    [GeneratedRegex(@"\$\{([a-z_]+)\}")]
    private static partial Regex Placeholder();

    private static string Hash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n", StringComparison.Ordinal))));

    /// <summary>Every migration of a directory, ordered by version; duplicate versions are an error.</summary>
    public static IReadOnlyList<Migration> LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new MigrationException($"schema directory not found: {directory}");
        }
        var list = new List<Migration>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.sql"))
        {
            var name = Path.GetFileName(file);
            var m = FileNamePattern().Match(name);
            if (!m.Success)
            {
                throw new MigrationException($"schema file {name} is not named NN_name.sql");
            }
            list.Add(new Migration(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), name,
                File.ReadAllText(file)));
        }
        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < list.Count; i++)
        {
            if (list[i].Version == list[i - 1].Version)
            {
                throw new MigrationException($"schema files {list[i - 1].Name} and {list[i].Name} share version {list[i].Version}");
            }
        }
        return list;
    }

    /// <summary>
    /// The <c>schema/</c> directory: beside the executable, else in the working directory or a
    /// parent of either (a source checkout).
    /// </summary>
    public static string LocateDirectory()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "schema");
                if (File.Exists(Path.Combine(candidate, "01_database.sql")))
                {
                    return candidate;
                }
            }
        }
        throw new MigrationException($"schema directory (schema/01_database.sql) not found beside {AppContext.BaseDirectory} or above {Environment.CurrentDirectory}");
    }

    /// <summary>The statements of the file with every <c>${name}</c> replaced; an unknown name is an error.</summary>
    public IReadOnlyList<string> Statements(IReadOnlyDictionary<string, string> values)
    {
        var rendered = Placeholder().Replace(Text, m => values.TryGetValue(m.Groups[1].Value, out var v)
            ? v
            : throw new MigrationException($"{Name}: unknown placeholder ${{{m.Groups[1].Value}}}"));
        var statements = new List<string>();
        var current = new StringBuilder();
        foreach (var raw in rendered.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith("--", StringComparison.Ordinal))
            {
                continue;
            }
            current.AppendLine(line);
            if (line.EndsWith(';'))
            {
                AddStatement();
            }
        }
        AddStatement();
        return statements;

        void AddStatement()
        {
            var s = current.ToString().Trim().TrimEnd(';').Trim();
            if (s.Length > 0)
            {
                statements.Add(s);
            }
            current.Clear();
        }
    }
}

/// <summary>A migration problem the operator must fix (edited applied file, missing file, bad SQL).</summary>
public sealed class MigrationException(string message, Exception? inner = null) : Exception(message, inner);
