using System.Buffers;
using System.Runtime.CompilerServices;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Capture.Reassembly;

/// <summary>Sizing of TCP reassembly and connection tracking (from <see cref="CaptureOptions"/>).</summary>
public sealed record ReassemblyLimits(
    int MaxFlows,
    int MaxHelloBytes,
    TimeSpan FlowIdleTimeout,
    int MaxTrackedConnections,
    TimeSpan ConnectionIdleTimeout)
{
    public static ReassemblyLimits From(CaptureOptions o) =>
        new(o.MaxFlows, o.MaxHelloBytes, o.FlowIdleTimeout, o.MaxTrackedConnections, o.ConnectionIdleTimeout);
}

/// <summary>
/// Reassembles the client's first flight of a TCP connection until its ClientHello is complete.
/// A flow starts at a SYN (so that segments arriving out of order are placed by sequence number)
/// or, without a SYN, at a segment that begins with a TLS record carrying a ClientHello (capture
/// started mid-connection, or TLS after a plaintext preamble such as HTTP CONNECT). The client is
/// the sender of the ClientHello, whatever the ports. Retransmitted and overlapping bytes are
/// trimmed; a hello may span many segments and several TLS records.
/// Bounded: at most <c>MaxFlows</c> flows (the least recently active is evicted), at most
/// <c>MaxHelloBytes</c> buffered per flow, idle flows expire; every give-up is counted by reason.
/// After a hello, the connection is tracked (bounded too) to report its FIN or RST.
/// One capture thread owns an instance.
/// </summary>
public sealed class TcpHelloReassembler
{
    private static readonly long SweepIntervalTicks = TimeSpan.FromSeconds(1).Ticks;

    private readonly ReassemblyLimits _limits;
    private readonly CaptureCounters _counters;
    private readonly LruTable<TcpFlow> _flows;
    private readonly LruTable<TrackedConnection> _connections;
    private readonly long _flowIdleTicks;
    private readonly long _connectionIdleTicks;
    private long _lastSweep;

    public TcpHelloReassembler(ReassemblyLimits limits, CaptureCounters counters)
    {
        _limits = limits;
        _counters = counters;
        _flows = new LruTable<TcpFlow>(limits.MaxFlows);
        // One lookup finds a tracked connection from a packet of either direction.
        _connections = new LruTable<TrackedConnection>(limits.MaxTrackedConnections, ConnectionComparer.Instance);
        _flowIdleTicks = limits.FlowIdleTimeout.Ticks;
        _connectionIdleTicks = limits.ConnectionIdleTimeout.Ticks;
    }

    /// <summary>Flows being reassembled now.</summary>
    public int FlowCount => _flows.Count;

    /// <summary>Connections tracked after their hello.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Bytes buffered by all flows (data and out-of-order segments).</summary>
    public long BufferedBytes
    {
        get
        {
            long total = 0;
            foreach (var f in _flows.Entries)
            {
                total += f.Length + f.PendingBytes;
            }
            return total;
        }
    }

    /// <summary>
    /// Processes one TCP segment. Returns a completed ClientHello (its handshake message) or null;
    /// a FIN or RST of a tracked connection is reported through <paramref name="closed"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public byte[]? Process(in PacketInfo packet, ReadOnlySpan<byte> payload, long now, out ClosedConnection? closed)
    {
        closed = null;
        if (now - _lastSweep >= SweepIntervalTicks)
        {
            Sweep(now);
        }
        var id = packet.Flow;
        var flags = packet.TcpFlags;
        if (_connections.Count > 0)
        {
            TrackActivity(id, flags, now, ref closed);
        }
        if (payload.IsEmpty)
        {
            if ((flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) == TcpFlags.Syn)
            {
                OnSyn(id, packet.Seq, now);
            }
            else if ((flags & (TcpFlags.Fin | TcpFlags.Rst)) != 0 && _flows.Count > 0)
            {
                CloseFlows(id);
            }
            return null;
        }
        // Data on a SYN (TCP Fast Open) starts one after the SYN's sequence number.
        var seq = (flags & TcpFlags.Syn) != 0 ? packet.Seq + 1 : packet.Seq;
        if (!_flows.TryGet(id, out var flow))
        {
            if (!TlsRecordScanner.LooksLikeClientHelloStart(payload) || IsTracked(id))
            {
                // Bulk data, or a second hello on a connection already fingerprinted (after a
                // HelloRetryRequest): nothing to do.
                return null;
            }
            flow = NewFlow(id, seq, now);
        }
        var hello = Append(flow, seq, payload, now);
        if (hello is null && (flags & (TcpFlags.Fin | TcpFlags.Rst)) != 0 && _flows.Count > 0)
        {
            CloseFlows(id);
        }
        return hello;
    }

    /// <summary>Expires idle flows and connections (packet clock); called by the capture loop when quiet.</summary>
    public void Sweep(long now)
    {
        _lastSweep = now;
        while (_flows.Oldest is { } oldest && now - oldest.LastActivity > _flowIdleTicks)
        {
            GiveUp(oldest, GiveUpReason.Idle);
        }
        while (_connections.Oldest is { } c && now - c.LastActivity > _connectionIdleTicks)
        {
            _connections.Remove(c);
            _counters.ConnectionsIdle.Increment();
        }
    }

    private void OnSyn(in FlowId id, uint seq, long now)
    {
        if (_flows.TryGet(id, out var existing))
        {
            if (existing.Length == 0 && existing.PendingBytes == 0)
            {
                existing.NextSeq = seq + 1;
            }
            return;
        }
        if (_connections.TryGet(id, out var old))
        {
            // The client port is reused by a new connection: the old one is over.
            _connections.Remove(old);
            _counters.ConnectionsEvicted.Increment();
        }
        NewFlow(id, seq + 1, now);
    }

    private TcpFlow NewFlow(in FlowId id, uint nextSeq, long now)
    {
        while (_flows.Count >= _limits.MaxFlows && _flows.Oldest is { } oldest)
        {
            GiveUp(oldest, GiveUpReason.Evicted);
        }
        var flow = new TcpFlow { NextSeq = nextSeq };
        _flows.Add(id, flow, now);
        return flow;
    }

    private byte[]? Append(TcpFlow flow, uint seq, ReadOnlySpan<byte> data, long now)
    {
        var relative = (int)(seq - flow.NextSeq);
        if (relative > 0)
        {
            // A segment beyond a gap: keep a copy until the gap is filled.
            if (flow.Length + flow.PendingBytes + data.Length > _limits.MaxHelloBytes)
            {
                GiveUp(flow, GiveUpReason.TooLarge);
                return null;
            }
            flow.AddPending(seq, data);
            _flows.Touch(flow, now);
            return null;
        }
        if (relative + data.Length <= 0)
        {
            return null; // retransmission of bytes already taken
        }
        if (flow.Length == 0 && data[-relative] != TlsRecordScanner.ContentTypeHandshake)
        {
            // The stream does not start with a TLS record: decided without buffering anything.
            GiveUp(flow, GiveUpReason.NotTls);
            return null;
        }
        if (!AppendInOrder(flow, data[(-relative)..]))
        {
            return null;
        }
        // Fill from out-of-order segments now contiguous.
        while (flow.TakePending(out var pendingSeq, out var pendingData))
        {
            var r = (int)(pendingSeq - flow.NextSeq);
            if (r + pendingData.Length > 0 && !AppendInOrder(flow, pendingData.AsSpan(-r)))
            {
                return null;
            }
        }
        _flows.Touch(flow, now);
        switch (TlsRecordScanner.Scan(flow.Data, _limits.MaxHelloBytes, out var messageLength))
        {
            case HelloScan.Complete:
            {
                var message = TlsRecordScanner.CopyMessage(flow.Data, messageLength);
                var key = flow.Key;
                _flows.Remove(flow);
                flow.Release();
                Track(key, now);
                return message;
            }
            case HelloScan.NotTls:
                GiveUp(flow, GiveUpReason.NotTls);
                return null;
            case HelloScan.NotClientHello:
                GiveUp(flow, GiveUpReason.NotClientHello);
                return null;
            case HelloScan.TooLarge:
                GiveUp(flow, GiveUpReason.TooLarge);
                return null;
            default:
                return null;
        }
    }

    private bool AppendInOrder(TcpFlow flow, ReadOnlySpan<byte> data)
    {
        if (flow.Length + flow.PendingBytes + data.Length > _limits.MaxHelloBytes)
        {
            GiveUp(flow, GiveUpReason.TooLarge);
            return false;
        }
        flow.Append(data);
        return true;
    }

    private void CloseFlows(in FlowId id)
    {
        if (_flows.TryGet(id, out var flow) || _flows.TryGet(id.Reverse(), out flow))
        {
            GiveUp(flow, GiveUpReason.Closed);
        }
    }

    private void GiveUp(TcpFlow flow, GiveUpReason reason)
    {
        _flows.Remove(flow);
        flow.Release();
        _counters.GiveUp(reason).Increment();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool IsTracked(in FlowId id) =>
        _connections.Count > 0 && _connections.TryGet(id, out _);

    private void Track(in FlowId clientToServer, long now)
    {
        if (_limits.MaxTrackedConnections == 0 || _connections.TryGet(clientToServer, out _))
        {
            return;
        }
        while (_connections.Count >= _limits.MaxTrackedConnections && _connections.Oldest is { } oldest)
        {
            _connections.Remove(oldest);
            _counters.ConnectionsEvicted.Increment();
        }
        _connections.Add(clientToServer, new TrackedConnection(), now);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TrackActivity(in FlowId id, byte flags, long now, ref ClosedConnection? closed)
    {
        if (!_connections.TryGet(id, out var connection))
        {
            return;
        }
        if ((flags & (TcpFlags.Rst | TcpFlags.Fin)) != 0)
        {
            var reason = (flags & TcpFlags.Rst) != 0 ? ConnectionEndReason.Rst : ConnectionEndReason.Fin;
            (reason == ConnectionEndReason.Rst ? _counters.ConnectionsRst : _counters.ConnectionsFin).Increment();
            closed = new ClosedConnection(connection.Key, reason);
            _connections.Remove(connection);
            return;
        }
        _connections.Touch(connection, now);
    }

    private sealed class TcpFlow : LruEntry
    {
        private byte[] _buffer = [];
        private List<(uint Seq, byte[] Data)>? _pending;

        public uint NextSeq;
        public int Length;
        public int PendingBytes;

        public ReadOnlySpan<byte> Data => _buffer.AsSpan(0, Length);

        /// <summary>
        /// Appends in-order bytes. The buffer comes from the shared pool (a flow lives from its SYN
        /// to its hello, so buffers are reused by the next connections) and goes back in
        /// <see cref="Release"/>.
        /// </summary>
        public void Append(ReadOnlySpan<byte> data)
        {
            if (Length + data.Length > _buffer.Length)
            {
                var grown = ArrayPool<byte>.Shared.Rent(Math.Max(Length + data.Length, Math.Max(2048, _buffer.Length * 2)));
                _buffer.AsSpan(0, Length).CopyTo(grown);
                ReturnBuffer();
                _buffer = grown;
            }
            data.CopyTo(_buffer.AsSpan(Length));
            Length += data.Length;
            NextSeq += (uint)data.Length;
        }

        /// <summary>Gives the buffer back to the pool once the flow has left the table.</summary>
        public void Release()
        {
            ReturnBuffer();
            _buffer = [];
            Length = 0;
            _pending = null;
            PendingBytes = 0;
        }

        private void ReturnBuffer()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }
        }

        public void AddPending(uint seq, ReadOnlySpan<byte> data)
        {
            _pending ??= [];
            _pending.Add((seq, data.ToArray()));
            PendingBytes += data.Length;
        }

        /// <summary>Removes a pending segment that starts at or before <see cref="NextSeq"/>.</summary>
        public bool TakePending(out uint seq, out byte[] data)
        {
            if (_pending is not null)
            {
                for (var i = 0; i < _pending.Count; i++)
                {
                    if ((int)(_pending[i].Seq - NextSeq) <= 0)
                    {
                        (seq, data) = _pending[i];
                        _pending.RemoveAt(i);
                        PendingBytes -= data.Length;
                        return true;
                    }
                }
            }
            seq = 0;
            data = [];
            return false;
        }
    }

    private sealed class TrackedConnection : LruEntry;
}

/// <summary>A tracked connection that ended: <see cref="Flow"/> is client → server.</summary>
public readonly record struct ClosedConnection(FlowId Flow, ConnectionEndReason Reason);
