using System.Threading.Channels;
using Ja4.Modules.Core.Metrics;

namespace Ja4.Modules.Core.Pipeline;

/// <summary>
/// Owns every channel of the daemon. An edge exists only when both its producer and its
/// consumer are enabled (and the module that replaces it, if any, is not): a disabled consumer
/// means nothing is queued for it. Modules receive
/// an <see cref="EventOutlet{T}"/> (producer side) or a <see cref="ChannelReader{T}"/>
/// (consumer side), never a channel.
/// </summary>
public sealed class EventPipeline
{
    private readonly Dictionary<string, IEdge> _edges = new(StringComparer.Ordinal);
    private readonly IReadOnlySet<string> _enabled;

    /// <param name="enabledModules">Modules of this process.</param>
    /// <param name="options">Channel sizing.</param>
    /// <param name="metrics">Where drops and depths are counted.</param>
    /// <param name="waitEverywhere">Every edge applies back-pressure (replay of files: nothing may be dropped).</param>
    public EventPipeline(IReadOnlySet<string> enabledModules, PipelineOptions options, Ja4Metrics metrics,
        bool waitEverywhere = false)
    {
        _enabled = enabledModules;
        foreach (var def in Edges.All)
        {
            if (!enabledModules.Contains(def.Producer) || !enabledModules.Contains(def.Consumer)
                || (def.UnlessEnabled is { } replacedBy && enabledModules.Contains(replacedBy)))
            {
                continue;
            }
            options.Channels.TryGetValue(def.Name, out var o);
            var capacity = o?.Capacity ?? def.DefaultCapacity;
            // Hot-path producers never wait, whatever the configuration says.
            var mode = waitEverywhere ? EdgeFullMode.Wait
                : def.DefaultFullMode == EdgeFullMode.Drop ? EdgeFullMode.Drop
                : o?.FullMode ?? def.DefaultFullMode;
            var edgeType = typeof(Edge<>).MakeGenericType(def.EventType);
            _edges[def.Name] = (IEdge)Activator.CreateInstance(edgeType, def, capacity, mode, metrics)!;
        }
    }

    /// <summary>Modules enabled in this process.</summary>
    public IReadOnlySet<string> EnabledModules => _enabled;

    /// <summary>Names of the edges that exist in this process.</summary>
    public IEnumerable<string> ActiveEdges => _edges.Keys;

    /// <summary>Whether an edge exists (both ends enabled).</summary>
    public bool IsActive(EdgeDefinition edge) => _edges.ContainsKey(edge.Name);

    /// <summary>Consumer side of an edge, or null when the edge is not active.</summary>
    public ChannelReader<T>? Reader<T>(EdgeDefinition edge) =>
        _edges.TryGetValue(edge.Name, out var e) ? ((Edge<T>)e).Channel.Reader : null;

    /// <summary>
    /// Producer side: writes to every active edge of <paramref name="producer"/> that carries
    /// <typeparamref name="T"/> (fan-out, e.g. a handshake goes to correlation and storage).
    /// </summary>
    public EventOutlet<T> Outlet<T>(string producer)
    {
        var edges = _edges.Values.Where(e => e.Definition.Producer == producer && e.Definition.EventType == typeof(T))
            .Cast<Edge<T>>().ToArray();
        return new EventOutlet<T>(edges);
    }

    /// <summary>Completes every edge written by <paramref name="producer"/>; only the producer calls this.</summary>
    public void Complete(string producer)
    {
        foreach (var e in _edges.Values.Where(e => e.Definition.Producer == producer))
        {
            e.Complete();
        }
    }

    /// <summary>Queue depth of an active edge (0 when not active).</summary>
    public int Depth(string edgeName) => _edges.TryGetValue(edgeName, out var e) ? e.Depth : 0;

    internal interface IEdge
    {
        EdgeDefinition Definition { get; }
        int Depth { get; }
        void Complete();
    }

    internal sealed class Edge<T> : IEdge
    {
        public Edge(EdgeDefinition definition, int capacity, EdgeFullMode mode, Ja4Metrics metrics)
        {
            Definition = definition;
            Mode = mode;
            Capacity = capacity;
            Channel = System.Threading.Channels.Channel.CreateBounded<T>(Edges.ChannelOptions(capacity));
            Dropped = metrics.Counter("ja4_channel_dropped_total", "Events dropped because a channel was full.",
                ("channel", definition.Name));
            Written = metrics.Counter("ja4_channel_written_total", "Events accepted into a channel.",
                ("channel", definition.Name));
            metrics.Gauge("ja4_channel_depth", "Events queued in a channel.", () => Channel.Reader.Count,
                ("channel", definition.Name));
            metrics.Gauge("ja4_channel_capacity", "Capacity of a channel.", () => capacity, ("channel", definition.Name));
        }

        public EdgeDefinition Definition { get; }
        public EdgeFullMode Mode { get; }
        public int Capacity { get; }
        public Channel<T> Channel { get; }
        public Counter Dropped { get; }
        public Counter Written { get; }
        public int Depth => Channel.Reader.Count;
        public void Complete() => Channel.Writer.TryComplete();
    }
}

/// <summary>The producer side of one or more edges carrying <typeparamref name="T"/>.</summary>
public sealed class EventOutlet<T>
{
    private readonly EventPipeline.Edge<T>[] _edges;

    internal EventOutlet(EventPipeline.Edge<T>[] edges) => _edges = edges;

    /// <summary>False when no consumer is enabled: the producer should not run.</summary>
    public bool HasConsumers => _edges.Length > 0;

    /// <summary>Never blocks: an edge that is full drops the event and counts it.</summary>
    /// <returns>True when every edge accepted the event.</returns>
    public bool TryPublish(T item)
    {
        var all = true;
        foreach (var e in _edges)
        {
            if (e.Channel.Writer.TryWrite(item))
            {
                e.Written.Increment();
            }
            else
            {
                e.Dropped.Increment();
                all = false;
            }
        }
        return all;
    }

    /// <summary>
    /// Honours each edge's full mode: <c>Wait</c> edges apply back-pressure, <c>Drop</c> edges
    /// drop and count. Returns when every edge has taken or dropped the event.
    /// </summary>
    public async ValueTask PublishAsync(T item, CancellationToken cancellationToken)
    {
        foreach (var e in _edges)
        {
            if (e.Channel.Writer.TryWrite(item))
            {
                e.Written.Increment();
                continue;
            }
            if (e.Mode == EdgeFullMode.Wait)
            {
                try
                {
                    await e.Channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
                    e.Written.Increment();
                }
                catch (ChannelClosedException)
                {
                    e.Dropped.Increment();
                }
            }
            else
            {
                e.Dropped.Increment();
            }
        }
    }
}
