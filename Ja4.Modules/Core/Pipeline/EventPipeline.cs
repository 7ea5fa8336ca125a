using System.Threading.Channels;
using Ja4.Modules.Core.Events;
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
            var maxBytes = (long)(o?.MaxMb ?? def.DefaultMaxMb) << 20;
            // Hot-path producers never wait, whatever the configuration says.
            var mode = waitEverywhere ? EdgeFullMode.Wait
                : def.DefaultFullMode == EdgeFullMode.Drop ? EdgeFullMode.Drop
                : o?.FullMode ?? def.DefaultFullMode;
            var edgeType = typeof(Edge<>).MakeGenericType(def.EventType);
            _edges[def.Name] = (IEdge)Activator.CreateInstance(edgeType, def, capacity, maxBytes, mode, metrics)!;
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
        _edges.TryGetValue(edge.Name, out var e) ? ((Edge<T>)e).Reader : null;

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

    /// <summary>
    /// A bounded channel that also bounds the bytes its events hold when they are <see cref="ISizedEvent"/>s: an
    /// event is taken while the bytes queued plus its own stay within the budget, or when the channel is empty (so
    /// that one event larger than the budget still passes). Its consumer reads through <see cref="Reader"/>, which
    /// gives the bytes back.
    /// </summary>
    internal sealed class Edge<T> : IEdge
    {
        private readonly Channel<T> _channel;
        private readonly long _maxBytes;
        private long _bytes;
        private int _byteWaiters;
        private volatile bool _completed;
        private TaskCompletionSource _released = NewSignal();

        public Edge(EdgeDefinition definition, int capacity, long maxBytes, EdgeFullMode mode, Ja4Metrics metrics)
        {
            Definition = definition;
            Mode = mode;
            Capacity = capacity;
            // Only events that know their size are counted in bytes.
            _maxBytes = typeof(ISizedEvent).IsAssignableFrom(typeof(T)) ? maxBytes : 0;
            _channel = System.Threading.Channels.Channel.CreateBounded<T>(Edges.ChannelOptions(capacity));
            // Events without a size need nothing on the way out: their consumer reads the channel itself.
            Reader = _maxBytes > 0 ? new BudgetReader(this) : _channel.Reader;
            Dropped = metrics.Counter("ja4_channel_dropped_total", "Events dropped because a channel was full.",
                ("channel", definition.Name));
            Written = metrics.Counter("ja4_channel_written_total", "Events accepted into a channel.",
                ("channel", definition.Name));
            metrics.Gauge("ja4_channel_depth", "Events queued in a channel.", () => _channel.Reader.Count,
                ("channel", definition.Name));
            metrics.Gauge("ja4_channel_capacity", "Capacity of a channel.", () => capacity, ("channel", definition.Name));
            if (_maxBytes > 0)
            {
                metrics.Gauge("ja4_channel_bytes", "Estimated managed bytes held by the events queued in a channel.",
                    () => Interlocked.Read(ref _bytes), ("channel", definition.Name));
                metrics.Gauge("ja4_channel_max_bytes", "Byte budget of a channel (Pipeline:Channels:<Edge>:MaxMb).",
                    () => _maxBytes, ("channel", definition.Name));
            }
        }

        public EdgeDefinition Definition { get; }
        public EdgeFullMode Mode { get; }
        public int Capacity { get; }
        public ChannelReader<T> Reader { get; }
        public Counter Dropped { get; }
        public Counter Written { get; }
        public int Depth => _channel.Reader.Count;

        public void Complete()
        {
            _completed = true;
            _channel.Writer.TryComplete();
            Signal();
        }

        private long SizeOf(T item) => _maxBytes > 0 && item is ISizedEvent s ? Math.Max(1, s.ApproximateBytes) : 0;

        /// <summary>Reserves the event's bytes when the budget allows them (always when nothing is queued).</summary>
        private bool Reserve(long size)
        {
            if (size == 0)
            {
                return true;
            }
            while (true)
            {
                var held = Interlocked.Read(ref _bytes);
                if (held > 0 && held + size > _maxBytes)
                {
                    return false;
                }
                if (Interlocked.CompareExchange(ref _bytes, held + size, held) == held)
                {
                    return true;
                }
            }
        }

        private void Release(long size)
        {
            if (size == 0)
            {
                return;
            }
            Interlocked.Add(ref _bytes, -size);
            if (Volatile.Read(ref _byteWaiters) > 0)
            {
                Signal();
            }
        }

        private void Signal() => Interlocked.Exchange(ref _released, NewSignal()).TrySetResult();

        private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Takes the event if both the count and the byte budget allow, without waiting.</summary>
        public bool TryWrite(T item)
        {
            var size = SizeOf(item);
            if (!Reserve(size))
            {
                return false;
            }
            if (_channel.Writer.TryWrite(item))
            {
                return true;
            }
            Release(size);
            return false;
        }

        /// <summary>Waits for room in both budgets; <see cref="ChannelClosedException"/> once the channel is completed.</summary>
        public async ValueTask WriteAsync(T item, CancellationToken cancellationToken)
        {
            var size = SizeOf(item);
            if (!Reserve(size))
            {
                Interlocked.Increment(ref _byteWaiters);
                try
                {
                    while (true)
                    {
                        var released = Volatile.Read(ref _released).Task;
                        if (Reserve(size))
                        {
                            break;
                        }
                        if (_completed)
                        {
                            throw new ChannelClosedException();
                        }
                        await released.WaitAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref _byteWaiters);
                }
            }
            try
            {
                await _channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Release(size);
                throw;
            }
        }

        /// <summary>The consumer's side: every event read gives its bytes back to the budget.</summary>
        private sealed class BudgetReader(Edge<T> edge) : ChannelReader<T>
        {
            private readonly ChannelReader<T> _inner = edge._channel.Reader;

            public override Task Completion => _inner.Completion;
            public override bool CanCount => true;
            public override bool CanPeek => true;
            public override int Count => _inner.Count;

            public override bool TryRead(out T item)
            {
                if (!_inner.TryRead(out item!))
                {
                    return false;
                }
                edge.Release(edge.SizeOf(item));
                return true;
            }

            public override bool TryPeek(out T item) => _inner.TryPeek(out item!);

            public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
                _inner.WaitToReadAsync(cancellationToken);
        }
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
            if (e.TryWrite(item))
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
            if (e.TryWrite(item))
            {
                e.Written.Increment();
                continue;
            }
            if (e.Mode == EdgeFullMode.Wait)
            {
                try
                {
                    await e.WriteAsync(item, cancellationToken).ConfigureAwait(false);
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
