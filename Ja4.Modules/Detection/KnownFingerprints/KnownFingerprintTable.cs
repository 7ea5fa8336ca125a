using System.Text;
using Ja4.Modules.Detection.Rules;

namespace Ja4.Modules.Detection.KnownFingerprints;

/// <summary>One row of a JA4 → application mapping (FoxIO <c>ja4plus-mapping.csv</c> columns).</summary>
public sealed record KnownFingerprint(
    string Application,
    string Library,
    string Device,
    string Os,
    string UserAgent,
    string Ja4,
    string Notes)
{
    /// <summary>Browser family of the application, or <see cref="ClientFamily.Library"/> for anything else.</summary>
    public ClientFamily Family { get; } = FamilyOf(Application);

    public bool IsBrowser => Family is ClientFamily.Chromium or ClientFamily.Firefox or ClientFamily.Safari;

    private static ClientFamily FamilyOf(string application)
    {
        var a = application.ToLowerInvariant();
        if (a.Contains("firefox", StringComparison.Ordinal) || a.Contains("tor browser", StringComparison.Ordinal))
        {
            return ClientFamily.Firefox;
        }
        if (a.Contains("safari", StringComparison.Ordinal))
        {
            return ClientFamily.Safari;
        }
        string[] chromium = ["chrome", "chromium", "edge", "opera", "brave", "vivaldi"];
        return chromium.Any(c => a.Contains(c, StringComparison.Ordinal)) && !a.Contains("headless", StringComparison.Ordinal)
            ? ClientFamily.Chromium
            : ClientFamily.Library;
    }
}

/// <summary>
/// JA4 → known client, loaded from the shipped <c>known-fingerprints.csv</c> with the operator's
/// file merged on top (an operator row replaces a shipped row with the same JA4).
/// </summary>
public sealed class KnownFingerprintTable
{
    /// <summary>Column names as in FoxIO's <c>ja4plus-mapping.csv</c>; only <c>ja4</c> is required.</summary>
    public static readonly IReadOnlyList<string> Columns =
    [
        "Application", "Library", "Device", "OS", "User-Agent String", "Certificate Authority",
        "ja4", "ja4s", "ja4h", "ja4x", "ja4t", "ja4tscan", "ja4ssh", "Notes",
    ];

    private readonly Dictionary<string, KnownFingerprint> _byJa4 = new(StringComparer.Ordinal);

    public static KnownFingerprintTable Empty => new();

    public int Count => _byJa4.Count;

    /// <summary>Rows skipped while loading (no JA4, wrong field count).</summary>
    public int SkippedRows { get; private set; }

    public IEnumerable<KnownFingerprint> All => _byJa4.Values;

    public bool TryGet(string? ja4, out KnownFingerprint fingerprint)
    {
        fingerprint = null!;
        return ja4 is not null && _byJa4.TryGetValue(ja4, out fingerprint!);
    }

    /// <summary>Loads the shipped file and then, if given, the operator's file over it.</summary>
    public static KnownFingerprintTable Load(string shippedPath, string? operatorPath)
    {
        var table = new KnownFingerprintTable();
        table.Merge(File.ReadAllText(shippedPath), shippedPath);
        if (!string.IsNullOrWhiteSpace(operatorPath))
        {
            table.Merge(File.ReadAllText(operatorPath), operatorPath);
        }
        return table;
    }

    /// <summary>
    /// Adds the rows of a CSV text (header row naming the columns, RFC 4180 quoting). Throws
    /// <see cref="InvalidDataException"/> naming <paramref name="source"/> when there is no <c>ja4</c> column.
    /// </summary>
    public void Merge(string csv, string source)
    {
        var rows = Csv.Parse(csv);
        if (rows.Count == 0)
        {
            return;
        }
        var header = rows[0].Select(h => h.Trim()).ToList();
        int Col(string name) => header.FindIndex(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
        var ja4 = Col("ja4");
        if (ja4 < 0)
        {
            throw new InvalidDataException($"{source}: no 'ja4' column in the header (columns as in ja4plus-mapping.csv)");
        }
        int app = Col("Application"), lib = Col("Library"), dev = Col("Device"), os = Col("OS"),
            ua = Col("User-Agent String"), notes = Col("Notes");
        string At(IReadOnlyList<string> row, int i) => i >= 0 && i < row.Count ? row[i].Trim() : "";
        foreach (var row in rows.Skip(1))
        {
            if (row.Count == 1 && string.IsNullOrWhiteSpace(row[0]))
            {
                continue;
            }
            var key = At(row, ja4);
            if (key.Length == 0 || row.Count > header.Count)
            {
                SkippedRows++;
                continue;
            }
            _byJa4[key] = new KnownFingerprint(At(row, app), At(row, lib), At(row, dev), At(row, os), At(row, ua), key,
                At(row, notes));
        }
    }
}

/// <summary>A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF.</summary>
internal static class Csv
{
    public static List<List<string>> Parse(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0:
                    quoted = true;
                    break;
                case ',':
                    row.Add(field.ToString());
                    field.Clear();
                    break;
                case '\r':
                    break;
                case '\n':
                    row.Add(field.ToString());
                    field.Clear();
                    rows.Add(row);
                    row = [];
                    break;
                default:
                    field.Append(c);
                    break;
            }
        }
        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            rows.Add(row);
        }
        return rows;
    }
}
