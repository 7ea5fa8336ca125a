using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Ja4.Modules.Core.Metrics;

/// <summary>A monotonically increasing count; lock-free, safe from any thread.</summary>
public sealed class Counter
{
    private long _value;

    internal Counter(string name, string labels, string help)
    {
        Name = name;
        Labels = labels;
        Help = help;
    }

    public string Name { get; }
    public string Labels { get; }
    public string Help { get; }
    public long Value => Interlocked.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
    public void Add(long delta) => Interlocked.Add(ref _value, delta);
}

/// <summary>
/// The daemon's metric registry: counters and gauges named in Prometheus style
/// (<c>ja4_channel_dropped_total{channel="..."}</c>), rendered by the operations endpoint and
/// read by the status page. One instance per process (a DI singleton).
/// </summary>
public sealed class Ja4Metrics
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Name, string Labels, string Help, Func<double> Read)> _gauges =
        new(StringComparer.Ordinal);

    /// <summary>Returns the counter for a name and label set, creating it on first use.</summary>
    /// <param name="name">Metric name, e.g. <c>ja4_capture_packets_total</c>.</param>
    /// <param name="help">One-line description.</param>
    /// <param name="labels">Label pairs; values are escaped.</param>
    public Counter Counter(string name, string help, params (string Key, string Value)[] labels)
    {
        var labelText = FormatLabels(labels);
        return _counters.GetOrAdd(name + labelText, _ => new Counter(name, labelText, help));
    }

    /// <summary>Registers (or replaces) a gauge read on demand.</summary>
    public void Gauge(string name, string help, Func<double> read, params (string Key, string Value)[] labels)
    {
        var labelText = FormatLabels(labels);
        _gauges[name + labelText] = (name, labelText, help, read);
    }

    /// <summary>Current value of a counter or gauge by its full key (name plus labels), or null.</summary>
    public double? Read(string name, params (string Key, string Value)[] labels)
    {
        var key = name + FormatLabels(labels);
        if (_counters.TryGetValue(key, out var c))
        {
            return c.Value;
        }
        return _gauges.TryGetValue(key, out var g) ? g.Read() : null;
    }

    /// <summary>Snapshot of every metric as (name, labels, value), sorted by name.</summary>
    public IReadOnlyList<(string Name, string Labels, double Value)> Snapshot()
    {
        var list = new List<(string, string, double)>();
        foreach (var c in _counters.Values)
        {
            list.Add((c.Name, c.Labels, c.Value));
        }
        foreach (var g in _gauges.Values)
        {
            double v;
            try
            {
                v = g.Read();
            }
            catch (Exception)
            {
                v = double.NaN;
            }
            list.Add((g.Name, g.Labels, v));
        }
        list.Sort((a, b) => string.CompareOrdinal(a.Item1 + a.Item2, b.Item1 + b.Item2));
        return list;
    }

    /// <summary>Prometheus text exposition format 0.0.4.</summary>
    public string RenderPrometheus()
    {
        var sb = new StringBuilder();
        var helps = new Dictionary<string, (string Help, string Type)>(StringComparer.Ordinal);
        foreach (var c in _counters.Values)
        {
            helps.TryAdd(c.Name, (c.Help, "counter"));
        }
        foreach (var g in _gauges.Values)
        {
            helps.TryAdd(g.Name, (g.Help, "gauge"));
        }
        string? last = null;
        foreach (var (name, labels, value) in Snapshot())
        {
            if (name != last)
            {
                var (help, type) = helps[name];
                sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
                sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
                last = name;
            }
            sb.Append(name).Append(labels).Append(' ')
              .Append(double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }

    private static string FormatLabels((string Key, string Value)[] labels)
    {
        if (labels.Length == 0)
        {
            return string.Empty;
        }
        var sb = new StringBuilder("{");
        for (var i = 0; i < labels.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }
            sb.Append(labels[i].Key).Append("=\"");
            foreach (var ch in labels[i].Value)
            {
                switch (ch)
                {
                    case '\\': sb.Append("\\\\"); break;
                    case '"': sb.Append("\\\""); break;
                    case '\n': sb.Append("\\n"); break;
                    default: sb.Append(ch); break;
                }
            }
            sb.Append('"');
        }
        return sb.Append('}').ToString();
    }
}
