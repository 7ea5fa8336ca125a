using System.Text;
using Ja4.Modules.HttpIngest;

namespace Ja4.Tests.HttpIngest;

public sealed class ReqinJsonLinesTests
{
    private static List<ReqinLine> Read(string text, int max = 262_144) =>
        ReqinJsonLines.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), new ReqinRecordParser(), max).ToList();

    private static readonly string Record = ReqinRecordParserTests.Full.Trim();

    [Fact]
    public void One_record_per_line_with_line_numbers_blank_lines_and_crlf()
    {
        var lines = Read($"{Record}\n\n  \r\n{Record}\r\n{{oops\n{Record}");
        Assert.Equal([1L, 4, 5, 6], lines.Select(l => l.LineNumber));
        Assert.NotNull(lines[0].Request);
        Assert.NotNull(lines[1].Request);
        Assert.Null(lines[2].Request);
        Assert.Equal(ReqinInvalidReason.Json, lines[2].Error.Reason);
        Assert.NotNull(lines[3].Request);   // the last line without a newline
        Assert.Equal("/a/b.html", lines[3].Request!.Path);
    }

    [Fact]
    public void An_oversized_line_is_reported_and_skipped_without_buffering_it()
    {
        var huge = "{\"x\":\"" + new string('a', 300_000) + "\"}";
        var lines = Read($"{Record}\n{huge}\n{Record}\n", max: 4096);
        Assert.Equal(3, lines.Count);
        Assert.Equal(ReqinInvalidReason.Oversized, lines[1].Error.Reason);
        Assert.Equal(2, lines[1].LineNumber);
        Assert.NotNull(lines[2].Request);
        Assert.Equal(3, lines[2].LineNumber);
    }

    [Fact]
    public void Many_records_across_buffer_boundaries()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 5000; i++)
        {
            sb.Append(Record.Replace("/a/b.html", $"/r/{i}", StringComparison.Ordinal)).Append('\n');
        }
        var lines = Read(sb.ToString());
        Assert.Equal(5000, lines.Count);
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => $"/r/{i}"), lines.Select(l => l.Request!.Path));
    }

    [Fact]
    public void An_empty_file_has_no_lines() => Assert.Empty(Read(""));
}
