using System.Globalization;
using System.Text;
using System.Text.Json;
using Ja4.Modules.Dashboard.Data;
using Microsoft.AspNetCore.Http;

namespace Ja4.Modules.Dashboard.Api;

/// <summary>Formats an export can be downloaded in.</summary>
internal enum ExportFormat
{
    Csv,
    JsonLines,
}

/// <summary>One column of an export: its name and how a row gives its value (text, number or time).</summary>
internal sealed record ExportColumn<T>(string Name, Func<T, object> Value);

/// <summary>
/// Streams rows to the response as CSV (<see cref="CsvFormat"/>: RFC 4180, formulas neutralised)
/// or JSON lines (one System.Text.Json object per line). Headers go out with the first row, so
/// that a store failure before it still becomes a clean error response.
/// </summary>
internal sealed class ExportWriter<T>(HttpContext context, ExportFormat format, IReadOnlyList<ExportColumn<T>> columns, string fileStem)
    : IAsyncDisposable
{
    private StreamWriter? _writer;

    public long Rows { get; private set; }

    public static ExportFormat ParseFormat(string? value) =>
        ApiArgs.Choice("format", value, "csv", "jsonl") == "csv" ? ExportFormat.Csv : ExportFormat.JsonLines;

    public async ValueTask WriteAsync(T row)
    {
        var w = await StartAsync().ConfigureAwait(false);
        if (format == ExportFormat.Csv)
        {
            await w.WriteAsync(CsvFormat.Line(columns.Select(c => c.Value(row) switch
            {
                string s => CsvFormat.Cell(s),
                DateTimeOffset t => CsvFormat.Cell(Iso(t)),
                bool b => b ? "true" : "false",
                IConvertible n => CsvFormat.Number(n.ToDouble(CultureInfo.InvariantCulture)),
                var other => CsvFormat.Cell(other?.ToString()),
            }))).ConfigureAwait(false);
        }
        else
        {
            await w.WriteAsync(JsonLine(row)).ConfigureAwait(false);
        }
        Rows++;
    }

    private string JsonLine(T row)
    {
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms))
        {
            j.WriteStartObject();
            foreach (var c in columns)
            {
                switch (c.Value(row))
                {
                    case string s:
                        j.WriteString(c.Name, s);
                        break;
                    case DateTimeOffset t:
                        j.WriteString(c.Name, Iso(t));
                        break;
                    case bool b:
                        j.WriteBoolean(c.Name, b);
                        break;
                    case double d when !double.IsFinite(d):
                        j.WriteNull(c.Name);
                        break;
                    case IConvertible n:
                        j.WriteNumber(c.Name, n.ToDouble(CultureInfo.InvariantCulture));
                        break;
                    default:
                        j.WriteNull(c.Name);
                        break;
                }
            }
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    private async ValueTask<StreamWriter> StartAsync()
    {
        if (_writer is not null)
        {
            return _writer;
        }
        var csv = format == ExportFormat.Csv;
        context.Response.ContentType = csv ? "text/csv; charset=utf-8" : "application/jsonl; charset=utf-8";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileStem}.{(csv ? "csv" : "jsonl")}\"";
        _writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), 16 * 1024, leaveOpen: true);
        if (csv)
        {
            await _writer.WriteAsync(CsvFormat.Header(columns.Select(c => c.Name).ToArray())).ConfigureAwait(false);
        }
        return _writer;
    }

    /// <summary>Ends the export (headers and, for CSV, the header line even when there was no row).</summary>
    public async Task CompleteAsync()
    {
        var w = await StartAsync().ConfigureAwait(false);
        await w.FlushAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
