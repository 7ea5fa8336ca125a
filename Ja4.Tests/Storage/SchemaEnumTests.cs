using System.Text.RegularExpressions;
using Ja4.Modules.Core.Events;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.Storage;

/// <summary>
/// The writer stores <see cref="MatchStatus"/> as its number in an Enum8 column: every value
/// the correlator can emit must exist there with the same number, or the store refuses the batch.
/// </summary>
public sealed partial class SchemaEnumTests
{
    [GeneratedRegex(@"match_status\s+Enum8\(([^)]*)\)")]
    private static partial Regex MatchStatusColumn();

    [GeneratedRegex(@"'(\w+)'\s*=\s*(\d+)")]
    private static partial Regex EnumMember();

    [Fact]
    public void Every_match_status_has_its_number_in_the_http_logs_enum()
    {
        var sql = File.ReadAllText(Path.Combine(Corpus.RepositoryRoot, "schema", "03_http_logs.sql"));
        var column = MatchStatusColumn().Match(sql);
        Assert.True(column.Success);
        var members = EnumMember().Matches(column.Groups[1].Value)
            .ToDictionary(m => int.Parse(m.Groups[2].Value), m => m.Groups[1].Value);
        foreach (var status in Enum.GetValues<MatchStatus>())
        {
            Assert.True(members.TryGetValue((int)status, out var name), $"{status} ({(int)status}) is missing from match_status");
            Assert.Equal(Ja4.Modules.Correlation.CorrelationMetrics.StatusName(status), name);
        }
    }
}
