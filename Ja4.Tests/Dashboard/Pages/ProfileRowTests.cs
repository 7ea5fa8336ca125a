using System.Text;
using Ja4.Modules.Dashboard.Data;

namespace Ja4.Tests.Dashboard.Pages;

/// <summary>The IP profile query's rows as the engine writes them (JSONCompactEachRow), read positionally.</summary>
public sealed class ProfileRowTests
{
    [Fact]
    public void Reads_a_hash_key_above_the_signed_range_and_the_value_last()
    {
        // A cityHash64 above long.MaxValue, as the JA4 and User-Agent cells carry it.
        var rows = InvestigationQueries.ProfileRow.Parse(Encoding.UTF8.GetBytes(
            "[31,1795176000,18446744073709551615,7,0,0,0,\"\"]\n[119,0,42,3,2,2,9,\"<script>alert(1)</script>\"]\n"));
        Assert.Equal([
            new InvestigationQueries.ProfileRow(31, 1795176000, ulong.MaxValue, 7, 0, 0, 0, ""),
            new InvestigationQueries.ProfileRow(119, 0, 42, 3, 2, 2, 9, "<script>alert(1)</script>")], rows);
    }

    [Theory]
    [InlineData("[31,1,2,3,4,5,\"x\"]")]          // a number short
    [InlineData("[31,1,2,3,4,5,6,7]")]            // no value string
    [InlineData("[31,1,2,3,4,5,6,\"x\",\"y\"]")]  // one column too many
    [InlineData("{\"g\":31}")]                     // not a compact row
    public void A_row_of_another_shape_is_a_format_error(string line) =>
        Assert.Throws<FormatException>(() => InvestigationQueries.ProfileRow.Parse(Encoding.UTF8.GetBytes(line)));
}
