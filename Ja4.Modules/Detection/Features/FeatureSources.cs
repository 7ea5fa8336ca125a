using System.Globalization;
using System.Net;
using System.Text.Json;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Model;
using Ja4.Modules.Storage.Engines;

namespace Ja4.Modules.Detection.Features;

/// <summary>Where a run's features come from: the store (SQL) or the in-memory buffer.</summary>
public interface IFeatureSource
{
    /// <summary>"store" or "memory", for the status API and logs.</summary>
    string Name { get; }

    /// <summary>Features of every entity with a request in [start, end), and how many requests they hold.</summary>
    Task<(WindowFeatures Features, long Requests)> ComputeAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken);
}

/// <summary>The in-memory path: <see cref="FeatureExtractor"/> over the <see cref="DetectionEventBuffer"/>.</summary>
public sealed class BufferFeatureSource(DetectionEventBuffer buffer) : IFeatureSource
{
    public string Name => "memory";

    public Task<(WindowFeatures Features, long Requests)> ComputeAsync(DateTimeOffset start, DateTimeOffset end,
        CancellationToken cancellationToken)
    {
        buffer.Evict(start);
        var features = FeatureExtractor.Compute(buffer.Snapshot(), start, end);
        return Task.FromResult((features, features.Entities.Sum(e => (long)e.Requests)));
    }
}

/// <summary>The store path: <see cref="FeatureSql.Query"/> run by the storage engine over <c>http_logs</c>.</summary>
/// <param name="store">A reading executor of the store.</param>
/// <param name="httpLogsTable">Qualified name of <c>http_logs</c> (the Distributed table in cluster mode).</param>
public sealed class StoreFeatureSource(IStoreExecutor store, string httpLogsTable) : IFeatureSource
{
    public string Name => "store";

    public async Task<(WindowFeatures Features, long Requests)> ComputeAsync(DateTimeOffset start, DateTimeOffset end,
        CancellationToken cancellationToken)
    {
        var sql = FeatureSql.Query.Replace("${http_logs}", httpLogsTable, StringComparison.Ordinal);
        var parameters = new Dictionary<string, string>
        {
            ["start"] = Micros(start).ToString(CultureInfo.InvariantCulture),
            ["end"] = Micros(end).ToString(CultureInfo.InvariantCulture),
        };
        var output = await store.QueryAsync(sql, parameters, "JSONEachRow", cancellationToken).ConfigureAwait(false);
        var features = Parse(output, start, end);
        return (features, features.Entities.Sum(e => (long)e.Requests));
    }

    /// <summary>Reads the query's JSONEachRow output into entity profiles and the feature matrix.</summary>
    public static WindowFeatures Parse(ReadOnlyMemory<byte> output, DateTimeOffset start, DateTimeOffset end)
    {
        var lines = new List<ReadOnlyMemory<byte>>();
        var rest = output;
        while (rest.Length > 0)
        {
            var nl = rest.Span.IndexOf((byte)'\n');
            var line = nl < 0 ? rest : rest[..nl];
            if (line.Length > 0)
            {
                lines.Add(line);
            }
            rest = nl < 0 ? ReadOnlyMemory<byte>.Empty : rest[(nl + 1)..];
        }
        var names = FeatureSchema.Names;
        var matrix = new FeatureMatrix(lines.Count, names.Count);
        var profiles = new EntityProfile[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var r = doc.RootElement;
            var ip = Text(r, "client_ip");
            var p = new EntityProfile
            {
                Key = new EntityKey(ip, Text(r, "ja4"), Text(r, "host")),
                Address = IPAddress.Parse(ip),
                Requests = (int)Number(r, "requests"),
                FirstSeen = FromMicros((long)Number(r, "first_seen")),
                LastSeen = FromMicros((long)Number(r, "last_seen")),
                HintRequests = (int)Number(r, "hint_requests"),
                HasHandshake = Flag(r, "has_handshake"),
                Alpn = r.GetProperty("alpn").EnumerateArray().Select(a => a.GetString() ?? "").ToArray(),
                Transport = Text(r, "transport") == "udp" ? Transport.Udp : Transport.Tcp,
                MeanGapSeconds = Number(r, "mean_gap"),
            };
            var uaNames = r.GetProperty("ua_names").EnumerateArray().ToArray();
            var uaCounts = r.GetProperty("ua_counts").EnumerateArray().ToArray();
            for (var u = 0; u < uaNames.Length; u++)
            {
                p.UserAgents[uaNames[u].GetString() ?? ""] = (int)Number(uaCounts[u]);
            }
            if (p.HintRequests > 0)
            {
                p.SecChUa = Flag(r, "has_ch_ua") ? Text(r, "ch_ua") : null;
                p.SecChUaMobile = Flag(r, "has_ch_mobile") ? Text(r, "ch_mobile") : null;
                p.SecChUaPlatform = Flag(r, "has_ch_platform") ? Text(r, "ch_platform") : null;
                var hintUa = Text(r, "hint_user_agent");
                p.HintUserAgent = hintUa.Length == 0 ? null : hintUa;
            }
            foreach (var t in r.GetProperty("templates").EnumerateArray())
            {
                p.PathTemplates.Add(t.GetString() ?? "");
            }
            var row = matrix.Row(i);
            for (var f = 0; f < names.Count; f++)
            {
                row[f] = (float)Number(r, names[f]);
            }
            profiles[i] = p;
        }
        return new WindowFeatures(profiles, matrix, start, end);
    }

    private static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;

    private static DateTimeOffset FromMicros(long micros) => new(DateTime.UnixEpoch.Ticks + (micros * 10), TimeSpan.Zero);

    private static string Text(JsonElement r, string name) => r.GetProperty(name).GetString() ?? "";

    private static bool Flag(JsonElement r, string name)
    {
        var e = r.GetProperty(name);
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => Number(e) != 0,
        };
    }

    private static double Number(JsonElement r, string name) => Number(r.GetProperty(name));

    // The engine quotes 64-bit integers and writes NaN and infinities as null.
    private static double Number(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.String => double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0,
        JsonValueKind.True => 1,
        _ => 0,
    };
}
