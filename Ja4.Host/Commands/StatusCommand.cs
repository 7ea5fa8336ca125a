using System.Globalization;
using System.Text.Json;
using Ja4.Modules.Core.Pipeline;

namespace Ja4.Host.Commands;

/// <summary><c>ja4 status</c>: the running daemon's health, read from its HTTP endpoints.</summary>
public sealed class StatusCommand : ICommand
{
    public string Name => "status";
    public string Summary => "show the running daemon's health";
    public string Help => """
        Usage: ja4 status [--config FILE] [--url URL]

        Reads /readyz and /metrics of the running daemon and prints its readiness,
        each module check, and the channel depths and drops.

        Options:
          --config FILE   the daemon's configuration, to find its URL (default: appsettings.json)
          --url URL       the daemon's base URL (default: Modules:Dashboard:Urls when the
                          dashboard is on, else Operations:Urls)

        Exit code 0 when ready, 1 when not ready or unreachable.

        """;

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var reader = new ArgReader(args, ["--config", "--url"], []);
        if (reader.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{reader.Positionals[0]}'");
        }
        var url = reader.Value("--url");
        if (url is null)
        {
            var configuration = DaemonHost.LoadConfiguration(reader.Value("--config") ?? RunCommand.DefaultConfigPath());
            url = DaemonHost.ListenUrls(configuration).Split(';', StringSplitOptions.RemoveEmptyEntries)[0];
        }
        url = url.TrimEnd('/').Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://*", "://127.0.0.1", StringComparison.Ordinal).Replace("://+", "://127.0.0.1", StringComparison.Ordinal);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string ready, metrics;
        int readyCode;
        try
        {
            using var r = await http.GetAsync(url + "/readyz", cancellationToken);
            readyCode = (int)r.StatusCode;
            ready = await r.Content.ReadAsStringAsync(cancellationToken);
            metrics = await http.GetStringAsync(url + "/metrics", cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new CommandFailedException($"the daemon is not reachable at {url} ({e.Message})");
        }

        var o = Console.Out;
        using (var doc = JsonDocument.Parse(ready))
        {
            var status = doc.RootElement.GetProperty("status").GetString();
            o.WriteLine($"daemon   {url}  {status}");
            foreach (var check in doc.RootElement.GetProperty("checks").EnumerateObject())
            {
                var desc = check.Value.GetProperty("description").GetString();
                o.WriteLine($"  {check.Name,-20} {check.Value.GetProperty("status").GetString(),-10} {desc}");
            }
        }
        var values = ParseMetrics(metrics);
        o.WriteLine();
        o.WriteLine($"{"channel",-18} {"depth",10} {"capacity",10} {"written",14} {"dropped",10}");
        foreach (var edge in Edges.All)
        {
            var key = $"{{channel=\"{edge.Name}\"}}";
            if (!values.TryGetValue("ja4_channel_capacity" + key, out var capacity))
            {
                continue;
            }
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{edge.Name,-18} {values.GetValueOrDefault("ja4_channel_depth" + key),10} {capacity,10} " +
                $"{values.GetValueOrDefault("ja4_channel_written_total" + key),14} {values.GetValueOrDefault("ja4_channel_dropped_total" + key),10}"));
        }
        return readyCode == 200 ? Cli.Ok : Cli.Failure;
    }

    /// <summary>Prometheus text lines "name{labels} value" into a map keyed by "name{labels}".</summary>
    internal static Dictionary<string, double> ParseMetrics(string text)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var space = line.LastIndexOf(' ');
            if (space > 0 && double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                result[line[..space]] = v;
            }
        }
        return result;
    }
}
