using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Ja4.Modules.Storage.Engines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ja4.Tests.Storage;

/// <summary>
/// The ClickHouse HTTP interface served over chDB, for the server-engine tests: the query in the
/// body or the <c>query</c> parameter (the body then being the INSERT data), <c>param_*</c>
/// server-side parameters, other URL parameters as settings of the query, <c>default_format</c>,
/// compressed request bodies, and errors as the server reports them (HTTP 500, the
/// <c>Code: N. DB::Exception: ...</c> text and <c>X-ClickHouse-Exception-Code</c>). Each request
/// runs on a connection of its own so that its settings never leak into the next.
/// It can be stopped and started again on the same port to play an unavailable server.
/// </summary>
public sealed partial class ClickHouseHttpFixture(string dataPath) : IAsyncDisposable
{
    private static readonly HashSet<string> NotSettings = new(StringComparer.Ordinal)
    {
        "query", "query_id", "session_id", "session_timeout", "session_check", "user", "password", "database",
        "default_format", "compress", "decompress", "enable_http_compression", "quota_key", "buffer_size", "wait_end_of_query",
    };

    private WebApplication? _app;

    public int Port { get; private set; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Protocol=http;Username=default;Password=;UseCompression=false";

    /// <summary>Requests served, and their raw URLs (the tests check what the driver sends).</summary>
    public List<string> Requests { get; } = [];

    [GeneratedRegex(@"^\s*(?<head>INSERT\s+INTO\s+.*?)\s+FORMAT\s+(?<format>\w+)\s*$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex InsertPattern();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Loopback, Port);
        });
        builder.Services.Configure<KestrelServerOptions>(o => o.AllowSynchronousIO = false);
        var app = builder.Build();
        app.MapGet("/ping", () => Results.Text("Ok.\n"));
        app.Map("/", HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    /// <summary>Stops listening: clients get "connection refused" until <see cref="StartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var q = context.Request.Query;
        lock (Requests)
        {
            Requests.Add(context.Request.Method + " " + context.Request.QueryString.Value);
        }
        byte[] body;
        await using (var input = Decode(context.Request))
        using (var ms = new MemoryStream())
        {
            await input.CopyToAsync(ms);
            body = ms.ToArray();
        }
        string sql;
        ReadOnlyMemory<byte> data = ReadOnlyMemory<byte>.Empty;
        if (q.TryGetValue("query", out var queryParam))
        {
            sql = queryParam.ToString();
            data = body;
        }
        else
        {
            sql = Encoding.UTF8.GetString(body);
        }
        var parameters = q.Where(kv => kv.Key.StartsWith("param_", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["param_".Length..], kv => kv.Value.ToString());
        var settings = q.Where(kv => !kv.Key.StartsWith("param_", StringComparison.Ordinal) && !NotSettings.Contains(kv.Key))
            .ToDictionary(kv => kv.Key, kv => kv.Value.ToString());
        var format = q.TryGetValue("default_format", out var f) ? f.ToString() : "TabSeparated";
        var queryId = q.TryGetValue("query_id", out var id) ? id.ToString() : Guid.NewGuid().ToString();
        context.Response.Headers["X-ClickHouse-Query-Id"] = queryId;
        context.Response.Headers["X-ClickHouse-Server-Display-Name"] = "ja4-test-fixture";
        context.Response.Headers["X-ClickHouse-Timezone"] = "UTC";
        context.Response.Headers["X-ClickHouse-Format"] = format;
        await using var connection = ChdbExecutor.Open(dataPath);
        connection.ParametersAreEscaped = true;
        try
        {
            foreach (var (name, value) in settings)
            {
                if (!SettingName().IsMatch(name))
                {
                    throw new StoreException($"Code: 115. DB::Exception: Unknown setting {name}. (UNKNOWN_SETTING)", 115);
                }
                await connection.QueryAsync($"SET {name} = '{ChdbExecutor.EscapeLiteral(value)}'");
            }
            if (q.TryGetValue("database", out var db) && db.ToString() is { Length: > 0 } database && database != "default")
            {
                await connection.QueryAsync($"USE `{database.Replace("`", "", StringComparison.Ordinal)}`");
            }
            var insert = InsertPattern().Match(sql);
            if (insert.Success && data.Length > 0)
            {
                var written = await connection.InsertRawAsync(insert.Groups["head"].Value, insert.Groups["format"].Value, data);
                context.Response.Headers["X-ClickHouse-Summary"] = $"{{\"written_rows\":\"{written}\"}}";
                context.Response.StatusCode = 200;
                return;
            }
            if (insert.Success || sql.TrimStart().StartsWith("INSERT", StringComparison.OrdinalIgnoreCase) && data.Length > 0)
            {
                // INSERT ... VALUES with the data in the body.
                sql += "\n" + Encoding.UTF8.GetString(data.Span);
            }
            var output = await connection.QueryAsync(sql, parameters, format);
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain; charset=UTF-8";
            await context.Response.Body.WriteAsync(output);
        }
        catch (StoreException e)
        {
            context.Response.StatusCode = 500;
            context.Response.Headers["X-ClickHouse-Exception-Code"] = e.Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsync(e.Message + " (version 26.7.2.1)\n");
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex SettingName();

    private static Stream Decode(HttpRequest request) => request.Headers.ContentEncoding.ToString() switch
    {
        "gzip" => new GZipStream(request.Body, CompressionMode.Decompress),
        "deflate" => new ZLibStream(request.Body, CompressionMode.Decompress),
        "br" => new BrotliStream(request.Body, CompressionMode.Decompress),
        _ => request.Body,
    };

    public async ValueTask DisposeAsync() => await StopAsync();
}
