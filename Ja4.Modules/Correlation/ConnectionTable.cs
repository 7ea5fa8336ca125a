using Ja4.Modules.Core.Collections;
using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Correlation;

/// <summary>
/// The join of TLS handshakes (capture) with HTTP requests (Apache), keyed by the connection's
/// 4-tuple. Pure and single-threaded: every call carries the current time, so the live worker
/// passes its <see cref="TimeProvider"/>'s clock and a replay passes the recorded timestamps.
/// Results are appended to the caller's output list.
/// </summary>
/// <remarks>
/// Two time bases meet here. Event timestamps (capture time of a ClientHello or a FIN/RST,
/// Apache's request start) decide which handshake a request belongs to, allowing
/// <see cref="CorrelationOptions.ClockSkew"/> between the two clocks. The processing clock
/// (<c>now</c>) drives the windows: how long a request waits for its handshake, how long an
/// idle or closed connection is kept.
///
/// A 4-tuple can carry several connections over time (port reuse), so an entry remembers its
/// two newest handshakes ("generations"). A request binds to the newest generation whose lifetime
/// contains it, preferring an exact fit over one that needs the skew allowance. For HTTP/1.x,
/// Apache's connection id and keep-alive index sharpen this: the first request bound to a
/// generation claims it for its connection id, a request with another id cannot use it, and a
/// second "first request" (keep-alive index 0) cannot either, because Apache reuses connection
/// ids for later connections. HTTP/2 streams only use the timestamps.
/// </remarks>
public sealed class ConnectionTable
{
    private readonly long _waitTicks;
    private readonly long _idleTicks;
    private readonly long _graceTicks;
    private readonly long _skewTicks;
    private readonly int _maxConnections;
    private readonly int _maxPending;
    private readonly int _tombstoneCapacity;
    private readonly bool _captureEnabled;
    private readonly CorrelationMetrics _metrics;

    private readonly Dictionary<FlowKey, Entry> _entries;
    private readonly IntrusiveList<Entry> _open = new();
    private readonly IntrusiveList<Entry> _closed = new();

    private readonly Dictionary<FlowKey, Pending> _pendingByKey;
    private readonly Queue<Pending> _pendingFifo = new();
    private int _pendingCount;

    private readonly Dictionary<FlowKey, Tombstone> _tombstones;
    private readonly Queue<(FlowKey Key, long Sequence)> _tombstoneOrder = new();
    private long _tombstoneSequence;

    private long _now = long.MinValue;

    /// <param name="options">Windows and caps (only the timing and size keys are read).</param>
    /// <param name="captureEnabled">False when no capture runs on this node: TLS requests go out at once as <see cref="MatchStatus.CaptureDisabled"/>.</param>
    /// <param name="metrics">Where outcomes are counted.</param>
    public ConnectionTable(CorrelationOptions options, bool captureEnabled, CorrelationMetrics metrics)
    {
        _waitTicks = options.HandshakeWait.Ticks;
        _idleTicks = options.IdleTimeout.Ticks;
        _graceTicks = options.CloseGrace.Ticks;
        _skewTicks = options.ClockSkew.Ticks;
        _maxConnections = options.MaxConnections;
        _maxPending = options.MaxPendingRequests;
        // Remembering what was evicted only serves the "evicted" reason; bounded well below the table.
        _tombstoneCapacity = Math.Min(options.MaxConnections, 65_536);
        _captureEnabled = captureEnabled;
        _metrics = metrics;
        _entries = new Dictionary<FlowKey, Entry>(Math.Min(options.MaxConnections, 1024), FlowKeyComparer.Instance);
        _pendingByKey = new Dictionary<FlowKey, Pending>(FlowKeyComparer.Instance);
        _tombstones = new Dictionary<FlowKey, Tombstone>(FlowKeyComparer.Instance);
    }

    /// <summary>Connections tracked.</summary>
    public int Count => _entries.Count;

    /// <summary>Requests waiting for their handshake.</summary>
    public int PendingCount => _pendingCount;

    /// <summary>Whether a TLS request can ever be matched (capture runs on this node).</summary>
    public bool CaptureEnabled => _captureEnabled;

    /// <summary>A ClientHello opens a connection, or starts a new one on a reused 4-tuple.</summary>
    public void AddHandshake(TlsClientHello hello, DateTimeOffset now, List<CorrelatedRequest> output)
    {
        Advance(now);
        if (hello.Transport != Transport.Tcp)
        {
            // Apache serves no HTTP/3; a QUIC flow shares port numbers with TCP ones, not connections.
            _metrics.QuicHandshakesIgnored.Increment();
            return;
        }
        _metrics.Handshakes.Increment();
        var key = KeyOf(hello.Flow);
        var generation = new Generation(hello);
        if (_entries.TryGetValue(key, out var entry))
        {
            if (generation.Start >= entry.Current.Start)
            {
                entry.Previous = entry.Current;
                entry.Current = generation;
                if (entry.InClosedList)
                {
                    _closed.Remove(entry);
                    entry.InClosedList = false;
                    entry.Stamp = _now;
                    Enqueue(_open, entry);
                }
            }
            else if (entry.Previous is null || generation.Start >= entry.Previous.Start)
            {
                // Arrived after a newer one on the same 4-tuple: it is the older connection.
                entry.Previous = generation;
            }
            Touch(entry);
        }
        else
        {
            if (_entries.Count >= _maxConnections)
            {
                EvictOldest();
            }
            entry = new Entry(key, generation) { Stamp = _now };
            _entries.Add(key, entry);
            Enqueue(_open, entry);
        }
        if (_pendingByKey.TryGetValue(key, out var head))
        {
            ResolvePending(entry, head, output);
        }
    }

    /// <summary>FIN or RST seen by capture: the connection that was open at that time ends.</summary>
    public void CloseConnection(ConnectionClosed closed, DateTimeOffset now)
    {
        Advance(now);
        _metrics.Closes.Increment();
        if (!_entries.TryGetValue(KeyOf(closed.Flow), out var entry))
        {
            _metrics.ClosesUnknown.Increment();
            return;
        }
        var t = closed.Timestamp.UtcTicks;
        Generation target;
        if (entry.Current.Start <= t)
        {
            target = entry.Current;
        }
        else if (entry.Previous is { } previous && previous.Start <= t)
        {
            target = previous;
        }
        else
        {
            _metrics.ClosesUnknown.Increment();
            return;
        }
        target.End = Math.Min(target.End, t);
        if (target == entry.Current && !entry.InClosedList)
        {
            _open.Remove(entry);
            entry.InClosedList = true;
            entry.Stamp = _now;
            Enqueue(_closed, entry);
        }
    }

    /// <summary>
    /// An HTTP request: goes out at once (matched, plain HTTP, capture disabled) or waits for its
    /// handshake up to <see cref="CorrelationOptions.HandshakeWait"/>.
    /// </summary>
    public void AddRequest(HttpRequest request, DateTimeOffset now, List<CorrelatedRequest> output)
    {
        Advance(now);
        if (request.TlsProtocol is null)
        {
            Emit(request, null, MatchStatus.PlainHttp, output);
            return;
        }
        if (!_captureEnabled)
        {
            Emit(request, null, MatchStatus.CaptureDisabled, output);
            return;
        }
        var key = KeyOf(request.Flow);
        if (_entries.TryGetValue(key, out var entry) && Select(entry, request) is { } generation)
        {
            Bind(generation, request);
            Touch(entry);
            Emit(request, generation.Hello, MatchStatus.Matched, output);
            return;
        }
        AddPending(request, key, output);
    }

    /// <summary>
    /// Applies the clock: requests whose wait is over go out unmatched, closed connections past
    /// their grace and idle connections are removed.
    /// </summary>
    public void Expire(DateTimeOffset now, List<CorrelatedRequest> output)
    {
        Advance(now);
        while (_closed.Head is { } closed && Saturate(closed.Stamp, _graceTicks) <= _now)
        {
            Remove(closed, _metrics.RemovedClosed);
        }
        while (_open.Head is { } idle && Saturate(idle.QueuedAt, _idleTicks) <= _now)
        {
            if (Saturate(idle.Stamp, _idleTicks) <= _now)
            {
                Remove(idle, _metrics.EvictedIdle);
            }
            else
            {
                Requeue(idle);
            }
        }
        while (_pendingFifo.TryPeek(out var pending))
        {
            if (pending.Done)
            {
                _pendingFifo.Dequeue();
                continue;
            }
            if (pending.Deadline > _now)
            {
                break;
            }
            _pendingFifo.Dequeue();
            GiveUp(pending, null, output);
        }
    }

    /// <summary>Sends every waiting request out unmatched (end of input: no handshake can come any more).</summary>
    public void FlushPending(DateTimeOffset now, List<CorrelatedRequest> output)
    {
        Advance(now);
        while (_pendingFifo.TryDequeue(out var pending))
        {
            if (!pending.Done)
            {
                GiveUp(pending, null, output);
            }
        }
    }

    /// <summary>The earliest time at which <see cref="Expire"/> has work, or null when nothing waits.</summary>
    public DateTimeOffset? NextDeadline()
    {
        var next = long.MaxValue;
        while (_pendingFifo.TryPeek(out var pending) && pending.Done)
        {
            _pendingFifo.Dequeue();
        }
        if (_pendingFifo.TryPeek(out var first))
        {
            next = first.Deadline;
        }
        if (_closed.Head is { } closed)
        {
            next = Math.Min(next, Saturate(closed.Stamp, _graceTicks));
        }
        if (_open.Head is { } open)
        {
            // Possibly early (the head may have been used since it was queued): Expire then requeues it.
            next = Math.Min(next, Saturate(open.QueuedAt, _idleTicks));
        }
        return next == long.MaxValue ? null : new DateTimeOffset(Math.Min(next, DateTimeOffset.MaxValue.UtcTicks), TimeSpan.Zero);
    }

    private void Advance(DateTimeOffset now)
    {
        var ticks = now.UtcTicks;
        if (ticks > _now)
        {
            _now = ticks;
        }
    }

    private static long Saturate(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    /// <summary>The generation a request belongs to, or null when none fits (yet).</summary>
    private Generation? Select(Entry entry, HttpRequest request)
    {
        var t = request.Timestamp.UtcTicks;
        var http1 = IsHttp1(request.Protocol);
        Generation? exact = null, skewed = null, newer = null;
        for (var g = entry.Current; g is not null; newer = g, g = g == entry.Current ? entry.Previous : null)
        {
            // A 4-tuple holds one connection at a time: a superseded generation ended when the next began.
            var end = newer is not null && newer.Start < g.End ? newer.Start : g.End;
            if (t < g.Start - _skewTicks || (end != long.MaxValue && t > end + _skewTicks))
            {
                continue;
            }
            if (http1)
            {
                if (request.KeepAliveIndex == 0 && g.SawFirstRequest)
                {
                    continue;
                }
                if (g.Bound)
                {
                    if (g.ConnectionId != request.ConnectionId)
                    {
                        continue;
                    }
                    return g;
                }
            }
            if (t >= g.Start && t <= end)
            {
                exact ??= g;
            }
            else
            {
                skewed ??= g;
            }
        }
        return exact ?? skewed;
    }

    private static bool IsHttp1(string protocol) =>
        protocol.StartsWith("HTTP/1", StringComparison.Ordinal) || protocol.StartsWith("HTTP/0", StringComparison.Ordinal);

    private static void Bind(Generation generation, HttpRequest request)
    {
        if (!IsHttp1(request.Protocol))
        {
            return;
        }
        if (!generation.Bound)
        {
            generation.Bound = true;
            generation.ConnectionId = request.ConnectionId;
        }
        if (request.KeepAliveIndex == 0)
        {
            generation.SawFirstRequest = true;
        }
    }

    private void Touch(Entry entry)
    {
        // Only the stamp moves: the list is reordered lazily, when the entry reaches the head
        // (expiry or eviction), which keeps the hot path off the neighbours' memory.
        if (!entry.InClosedList)
        {
            entry.Stamp = _now;
        }
    }

    /// <summary>
    /// The table's key: producers build flows with <see cref="FlowKey.Create"/>, which already
    /// drops IPv4 mapping; a flow built otherwise is normalised here rather than missed.
    /// </summary>
    private static FlowKey KeyOf(FlowKey flow) =>
        flow.ClientIp.IsIPv4MappedToIPv6 || flow.ServerIp.IsIPv4MappedToIPv6
            ? FlowKey.Create(flow.ClientIp, flow.ClientPort, flow.ServerIp, flow.ServerPort)
            : flow;

    private void AddPending(HttpRequest request, FlowKey key, List<CorrelatedRequest> output)
    {
        while (_pendingCount >= _maxPending && _pendingFifo.TryDequeue(out var oldest))
        {
            if (!oldest.Done)
            {
                _metrics.PendingEvictions.Increment();
                GiveUp(oldest, MatchStatus.PendingOverflow, output);
            }
        }
        var pending = new Pending(request, key, Saturate(_now, _waitTicks));
        if (_pendingByKey.TryGetValue(key, out var head))
        {
            head.Tail!.NextSameKey = pending;
            head.Tail = pending;
        }
        else
        {
            pending.Tail = pending;
            _pendingByKey.Add(key, pending);
        }
        _pendingFifo.Enqueue(pending);
        _pendingCount++;
    }

    private void ResolvePending(Entry entry, Pending head, List<CorrelatedRequest> output)
    {
        Pending? kept = null, keptTail = null;
        var matched = false;
        for (var p = head; p is not null;)
        {
            var next = p.NextSameKey;
            p.NextSameKey = null;
            if (Select(entry, p.Request) is { } generation)
            {
                Bind(generation, p.Request);
                p.Done = true;
                _pendingCount--;
                matched = true;
                Emit(p.Request, generation.Hello, MatchStatus.Matched, output);
            }
            else if (keptTail is null)
            {
                kept = keptTail = p;
            }
            else
            {
                keptTail.NextSameKey = p;
                keptTail = p;
            }
            p = next;
        }
        head.Tail = null;
        if (kept is null)
        {
            _pendingByKey.Remove(entry.Key);
        }
        else
        {
            kept.Tail = keptTail;
            _pendingByKey[entry.Key] = kept;
        }
        if (matched)
        {
            Touch(entry);
        }
    }

    /// <summary>A waiting request goes out unmatched (its wait ended, or the pending cap pushed it out).</summary>
    private void GiveUp(Pending pending, MatchStatus? status, List<CorrelatedRequest> output)
    {
        pending.Done = true;
        _pendingCount--;
        var key = pending.Key;
        if (_pendingByKey.TryGetValue(key, out var head))
        {
            if (head == pending)
            {
                // The usual case: requests give up oldest first.
                if (pending.NextSameKey is { } next)
                {
                    next.Tail = pending.Tail;
                    _pendingByKey[key] = next;
                }
                else
                {
                    _pendingByKey.Remove(key);
                }
                pending.Tail = null;
            }
            else
            {
                for (var p = head; p.NextSameKey is not null; p = p.NextSameKey)
                {
                    if (p.NextSameKey == pending)
                    {
                        p.NextSameKey = pending.NextSameKey;
                        if (head.Tail == pending)
                        {
                            head.Tail = p;
                        }
                        break;
                    }
                }
            }
            pending.NextSameKey = null;
        }
        Emit(pending.Request, null, status ?? UnmatchedReason(pending.Request, key), output);
    }

    private MatchStatus UnmatchedReason(HttpRequest request, FlowKey key)
    {
        if (_tombstones.TryGetValue(key, out var tomb))
        {
            var t = request.Timestamp.UtcTicks;
            if (t >= tomb.Start - _skewTicks && (tomb.End == long.MaxValue || t <= tomb.End + _skewTicks))
            {
                return MatchStatus.Evicted;
            }
        }
        return MatchStatus.NoHandshakeSeen;
    }

    private void EvictOldest()
    {
        // Connections already closed are only kept for late records: they go before open ones.
        if (_closed.Head is null)
        {
            // Second chance for entries used since they were queued: each use pays at most one requeue.
            while (_open.Head is { } head && head.Stamp != head.QueuedAt)
            {
                Requeue(head);
            }
        }
        var victim = _closed.Head ?? _open.Head;
        if (victim is not null)
        {
            Remove(victim, _metrics.EvictedCap);
        }
    }

    private static void Enqueue(IntrusiveList<Entry> list, Entry entry)
    {
        entry.QueuedAt = entry.Stamp;
        list.AddLast(entry);
    }

    private void Requeue(Entry entry)
    {
        _open.Remove(entry);
        Enqueue(_open, entry);
    }

    private void Remove(Entry entry, Core.Metrics.Counter counter)
    {
        _entries.Remove(entry.Key);
        (entry.InClosedList ? _closed : _open).Remove(entry);
        counter.Increment();
        var oldest = entry.Previous ?? entry.Current;
        var sequence = ++_tombstoneSequence;
        _tombstones[entry.Key] = new Tombstone(oldest.Start, entry.Current.End, sequence);
        _tombstoneOrder.Enqueue((entry.Key, sequence));
        while (_tombstoneOrder.Count > _tombstoneCapacity)
        {
            var (key, seq) = _tombstoneOrder.Dequeue();
            if (_tombstones.TryGetValue(key, out var t) && t.Sequence == seq)
            {
                _tombstones.Remove(key);
            }
        }
    }

    private void Emit(HttpRequest request, TlsClientHello? hello, MatchStatus status, List<CorrelatedRequest> output)
    {
        output.Add(new CorrelatedRequest(request, hello, status, new DateTimeOffset(_now, TimeSpan.Zero)));
        _metrics.Emit(status);
        var requestEnd = request.Timestamp.UtcTicks + request.DurationMicros * TimeSpan.TicksPerMicrosecond;
        _metrics.Lag((_now - requestEnd) / TimeSpan.TicksPerMicrosecond);
    }

    /// <summary>One TLS connection on a 4-tuple, from its ClientHello to its FIN/RST.</summary>
    private sealed class Generation(TlsClientHello hello)
    {
        public readonly TlsClientHello Hello = hello;
        /// <summary>Capture time of the hello, UTC ticks.</summary>
        public readonly long Start = hello.Timestamp.UtcTicks;
        /// <summary>Capture time of the FIN/RST, or <see cref="long.MaxValue"/> while open.</summary>
        public long End = long.MaxValue;
        /// <summary>Apache connection id claimed by the first HTTP/1.x request bound here.</summary>
        public long ConnectionId;
        public bool Bound;
        /// <summary>A request with keep-alive index 0 is bound here: a second one is another connection.</summary>
        public bool SawFirstRequest;
    }

    private sealed class Entry(FlowKey key, Generation current) : IntrusiveListNode<Entry>
    {
        public readonly FlowKey Key = key;
        public Generation Current = current;
        public Generation? Previous;
        /// <summary>Processing time of the last activity (open list) or of the close (closed list).</summary>
        public long Stamp;
        /// <summary>The <see cref="Stamp"/> when the entry was put at the tail of its list.</summary>
        public long QueuedAt;
        public bool InClosedList;
    }

    private sealed class Pending(HttpRequest request, FlowKey key, long deadline)
    {
        public readonly HttpRequest Request = request;
        public readonly FlowKey Key = key;
        public readonly long Deadline = deadline;
        public Pending? NextSameKey;
        /// <summary>Last of the same-key chain; kept on the chain's head only.</summary>
        public Pending? Tail;
        public bool Done;
    }

    private readonly record struct Tombstone(long Start, long End, long Sequence);
}

/// <summary>Equality of flow keys without the record's generic comparers (hot path).</summary>
internal sealed class FlowKeyComparer : IEqualityComparer<FlowKey>
{
    public static readonly FlowKeyComparer Instance = new();

    public bool Equals(FlowKey a, FlowKey b) =>
        a.ClientPort == b.ClientPort && a.ServerPort == b.ServerPort &&
        a.ClientIp.Equals(b.ClientIp) && a.ServerIp.Equals(b.ServerIp);

    public int GetHashCode(FlowKey k) =>
        HashCode.Combine(k.ClientIp.GetHashCode(), k.ClientPort | (k.ServerPort << 16), k.ServerIp.GetHashCode());
}
