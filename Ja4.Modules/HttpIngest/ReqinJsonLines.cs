using Ja4.Modules.Core.Events;

namespace Ja4.Modules.HttpIngest;

/// <summary>One line of a JSONL file of records: the request, or why it was rejected.</summary>
/// <param name="LineNumber">1-based line number in the file.</param>
/// <param name="Request">The parsed request, or null when the line was rejected.</param>
/// <param name="Error">Why the line was rejected (default when it was not).</param>
public readonly record struct ReqinLine(long LineNumber, HttpRequest? Request, ReqinParseError Error);

/// <summary>
/// Reads a file of mod_reqin_log records, one JSON object per line (what the module sends, one
/// record per message, written one per line), through the same <see cref="ReqinRecordParser"/>
/// as the socket. Blank lines are skipped; a trailing <c>\r</c> is ignored; a line longer than
/// <c>maxRecordBytes</c> is reported as <see cref="ReqinInvalidReason.Oversized"/>
/// without being buffered.
/// </summary>
public static class ReqinJsonLines
{
    public static IEnumerable<ReqinLine> Read(Stream stream, ReqinRecordParser parser, int maxRecordBytes = 262_144)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecordBytes, 1);
        return ReadIterator(stream, parser, maxRecordBytes);
    }

    private static IEnumerable<ReqinLine> ReadIterator(Stream stream, ReqinRecordParser parser, int maxRecordBytes)
    {
        var buffer = new byte[Math.Max(64 * 1024, maxRecordBytes + 2)];
        int start = 0, end = 0;
        long line = 0;
        var skipping = false;   // inside an oversized line, discarding up to its newline
        var eof = false;
        while (true)
        {
            var nl = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (nl < 0 && !eof)
            {
                if (!skipping && end - start > maxRecordBytes + 1)
                {
                    line++;
                    yield return new ReqinLine(line, null, new(ReqinInvalidReason.Oversized, $"line longer than {maxRecordBytes} bytes"));
                    skipping = true;
                }
                if (skipping)
                {
                    start = end = 0;
                }
                else if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                var n = stream.Read(buffer, end, buffer.Length - end);
                if (n == 0)
                {
                    eof = true;
                }
                end += n;
                continue;
            }
            var lineEnd = nl < 0 ? end : start + nl;
            var next = nl < 0 ? end : lineEnd + 1;
            if (skipping)
            {
                skipping = false;
            }
            else
            {
                var length = lineEnd - start;
                if (length > 0 && buffer[lineEnd - 1] == (byte)'\r')
                {
                    length--;
                }
                if (length > 0 && !IsBlank(buffer.AsSpan(start, length)))
                {
                    line++;
                    if (length > maxRecordBytes)
                    {
                        yield return new ReqinLine(line, null, new(ReqinInvalidReason.Oversized, $"line longer than {maxRecordBytes} bytes"));
                    }
                    else if (parser.TryParse(buffer.AsSpan(start, length), out var request, out var error))
                    {
                        yield return new ReqinLine(line, request, default);
                    }
                    else
                    {
                        yield return new ReqinLine(line, null, error);
                    }
                }
                else
                {
                    line++;
                }
            }
            start = next;
            if (nl < 0 && eof)
            {
                yield break;
            }
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> s) => s.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0;
}
