using System.Text.Json;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Rules;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.Detection;

public sealed class KnownFingerprintTests
{
    private static string Shipped => Path.Combine(Corpus.RepositoryRoot, "data", "known-fingerprints.csv");

    [Fact]
    public void The_shipped_table_has_foxio_columns_and_classifies_browsers_and_libraries()
    {
        var header = File.ReadLines(Shipped).First();
        Assert.Equal(string.Join(",", KnownFingerprintTable.Columns), header);
        var table = KnownFingerprintTable.Load(Shipped, null);
        Assert.Equal(0, table.SkippedRows);
        Assert.True(table.TryGet("t13d3112h2_e8f1e7e78f70_b26ce05bbdd6", out var curl));
        Assert.Equal(("curl", "OpenSSL 3.0.19", ClientFamily.Library), (curl.Application, curl.Library, curl.Family));
        Assert.True(table.TryGet("t13d1715h2_5b57614c22b0_3d5424432f57", out var firefox));
        Assert.Equal(ClientFamily.Firefox, firefox.Family);
        Assert.True(table.TryGet("t13d1517h2_8daaf6152771_cb7bf5808d99", out var chromium));
        Assert.True(chromium.IsBrowser);
        Assert.False(table.TryGet("t13d0000h2_000000000000_000000000000", out _));
    }

    [Fact]
    public void Every_shipped_ja4_is_well_formed_and_corpus_sourced_rows_are_in_the_corpus()
    {
        var corpus = Directory.EnumerateFiles(Corpus.FoxioExpectedDir, "*.json")
            .SelectMany(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.EnumerateArray()
                .Where(e => e.TryGetProperty("ja4", out _)).Select(e => e.GetProperty("ja4").GetString()!))
            .ToHashSet();
        foreach (var f in KnownFingerprintTable.Load(Shipped, null).All)
        {
            Assert.Matches("^[tqd]1[0-3d][di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$", f.Ja4);
            if (f.Notes.Contains("FoxIO corpus", StringComparison.Ordinal))
            {
                Assert.Contains(f.Ja4, corpus);
            }
        }
    }

    [Fact]
    public void The_operators_file_is_merged_on_top_with_quoted_fields()
    {
        var table = KnownFingerprintTable.Load(Shipped, null);
        var before = table.Count;
        table.Merge(""""
            Application,Library,Device,OS,User-Agent String,Certificate Authority,ja4,ja4s,ja4h,ja4x,ja4t,ja4tscan,ja4ssh,Notes
            "Inventory sync, internal",Go net/http,,Linux,,,t13d1311h2_f57a46bbacb6_e7c285222651,,,,,,,"says ""hello"""
            "Our curl wrapper",,,,,,t13d3112h2_e8f1e7e78f70_b26ce05bbdd6,,,,,,,
            no ja4 on this row,,,,,,,,,,,,,
            """", "operator.csv");
        Assert.Equal(before + 1, table.Count);
        Assert.Equal(1, table.SkippedRows);
        Assert.True(table.TryGet("t13d1311h2_f57a46bbacb6_e7c285222651", out var go));
        Assert.Equal("Inventory sync, internal", go.Application);
        Assert.Equal("says \"hello\"", go.Notes);
        Assert.True(table.TryGet("t13d3112h2_e8f1e7e78f70_b26ce05bbdd6", out var curl));
        Assert.Equal("Our curl wrapper", curl.Application);
    }

    [Fact]
    public void A_file_without_a_ja4_column_is_a_clear_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => KnownFingerprintTable.Empty.Merge("Application,Notes\nx,y\n", "mine.csv"));
        Assert.Contains("mine.csv", e.Message);
        Assert.Contains("ja4", e.Message);
    }
}
