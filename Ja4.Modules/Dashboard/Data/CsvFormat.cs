using System.Globalization;

namespace Ja4.Modules.Dashboard.Data;

/// <summary>
/// CSV as RFC 4180 writes it (comma-separated, CRLF line ends, a field with a comma, a double quote,
/// CR or LF enclosed in double quotes with inner quotes doubled), with spreadsheet formulas
/// neutralised: a text cell that starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a CR
/// gets a leading <c>'</c> (OWASP "CSV injection"), so that a spreadsheet shows it as text.
/// </summary>
public static class CsvFormat
{
    public const string LineEnd = "\r\n";

    /// <summary>One text cell, neutralised and quoted as needed.</summary>
    public static string Cell(string? text)
    {
        text ??= "";
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }
        return text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }

    /// <summary>One numeric cell (invariant culture; never neutralised, a minus sign is a number's).</summary>
    public static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>One line: the cells already formatted by <see cref="Cell"/> or <see cref="Number"/>, and CRLF.</summary>
    public static string Line(IEnumerable<string> cells) => string.Join(',', cells) + LineEnd;

    /// <summary>A header line of plain text cells.</summary>
    public static string Header(params string[] names) => Line(names.Select(Cell));
}
