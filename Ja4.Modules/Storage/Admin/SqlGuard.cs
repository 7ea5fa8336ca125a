using Ja4.Modules.Storage.Engines;

namespace Ja4.Modules.Storage.Admin;

/// <summary>
/// Operators' ad-hoc SQL: exactly one read-only statement. chDB's own parser classifies the
/// text; the server path checks the leading keyword. Either way the statement then runs on a
/// connection with <c>readonly = 2</c>, so the engine itself refuses anything that slipped past.
/// </summary>
public static class SqlGuard
{
    private static readonly string[] ReadKeywords = ["SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS", "CHECK", "("];

    public const string Refusal = "only one read-only statement is allowed (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS); writes, DDL and settings changes are refused";

    /// <summary>Output formats of <c>ja4 sql</c> mapped to ClickHouse format names.</summary>
    public static string EngineFormat(string format) => format switch
    {
        "table" => "PrettyCompactMonoBlock",
        "tsv" => "TabSeparatedWithNames",
        "jsonl" => "JSONEachRow",
        _ => throw new ArgumentException($"unknown format '{format}' (table, tsv, jsonl)", nameof(format)),
    };

    /// <summary>Null when <paramref name="sql"/> may run, else the reason it is refused.</summary>
    public static async Task<string?> CheckAsync(IStoreExecutor store, string sql, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            return "empty query";
        }
        var chdb = store as ChdbExecutor ?? (store as ExecutorPool)?.First as ChdbExecutor;
        if (chdb is not null)
        {
            return await chdb.IsReadOnlyAsync(sql, cancellationToken).ConfigureAwait(false) ? null : Refusal;
        }
        var text = StripComments(sql).Trim().TrimEnd(';').Trim();
        if (text.Contains(';', StringComparison.Ordinal) && !InsideQuotesOnly(text))
        {
            return Refusal;
        }
        var first = text.Split((char[])[' ', '\n', '\t', '\r'], 2)[0].ToUpperInvariant();
        return ReadKeywords.Any(k => first.StartsWith(k, StringComparison.Ordinal) && (k == "(" || first == k)) ? null : Refusal;
    }

    private static string StripComments(string sql) =>
        string.Join('\n', sql.Split('\n').Select(l => l.TrimStart().StartsWith("--", StringComparison.Ordinal) ? "" : l));

    private static bool InsideQuotesOnly(string text)
    {
        var quoted = false;
        foreach (var c in text)
        {
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (c == ';' && !quoted)
            {
                return false;
            }
        }
        return true;
    }
}
