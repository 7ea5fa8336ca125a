using System.Text;

namespace Ja4.Tests.Storage;

/// <summary>
/// A streamed result is one result: a text format with a header writes it once, however many
/// blocks the engine produced (chDB formats each streamed block on its own).
/// </summary>
[Collection("chdb")]
public sealed class StreamFormatTests(ChdbFixture fixture)
{
    public static IEnumerable<object[]> Engines() => ChdbFixture.Engines();

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task A_many_block_result_has_one_header(string engine)
    {
        await using var store = fixture.Open(engine);
        var text = new StringBuilder();
        var chunks = 0;
        await store.StreamAsync("SELECT number AS n, toString(number) AS s FROM numbers(50000) SETTINGS max_block_size = 1000",
            null, "TabSeparatedWithNamesAndTypes", (chunk, _) =>
            {
                chunks++;
                text.Append(Encoding.UTF8.GetString(chunk.Span));
                return ValueTask.CompletedTask;
            });
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(50_002, lines.Length);
        Assert.Equal("n\ts", lines[0]);
        Assert.Equal("UInt64\tString", lines[1]);
        Assert.Equal("0\t0", lines[2]);
        Assert.Equal("49999\t49999", lines[^1]);
        Assert.Single(lines, l => l == "n\ts");
    }
}
