using System.Runtime.CompilerServices;
using Ja4.Modules.Capture.Decoding;

namespace Ja4.Modules.Capture.Reassembly;

/// <summary>An entry of an <see cref="LruTable{T}"/>: intrusive links, key and last activity time.</summary>
public abstract class LruEntry
{
    internal LruEntry? Previous;
    internal LruEntry? Next;
    internal bool Linked;
    public FlowId Key { get; internal set; }
    /// <summary>Last activity, in ticks of the packet clock.</summary>
    public long LastActivity { get; internal set; }
}

/// <summary>
/// A dictionary of flows with a recency list (least recently active first), so that the oldest
/// entry is found in O(1) for eviction at the cap and for idle expiry. Not thread-safe: one
/// capture thread owns it.
/// </summary>
public sealed class LruTable<T> where T : LruEntry
{
    private readonly Dictionary<FlowId, T> _map;
    private LruEntry? _head;
    private LruEntry? _tail;

    public LruTable(int capacityHint) => _map = new Dictionary<FlowId, T>(Math.Min(capacityHint, 4096));

    public int Count => _map.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGet(in FlowId key, out T entry) => _map.TryGetValue(key, out entry!);

    /// <summary>The least recently active entry, or null.</summary>
    public T? Oldest => (T?)_head;

    public void Add(in FlowId key, T entry, long now)
    {
        entry.Key = key;
        entry.LastActivity = now;
        _map.Add(key, entry);
        Append(entry);
    }

    /// <summary>Marks activity: moves the entry to the young end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Touch(T entry, long now)
    {
        entry.LastActivity = Math.Max(entry.LastActivity, now);
        if (_tail == entry)
        {
            return;
        }
        Unlink(entry);
        Append(entry);
    }

    public void Remove(T entry)
    {
        if (!entry.Linked)
        {
            return;
        }
        _map.Remove(entry.Key);
        Unlink(entry);
    }

    public IEnumerable<T> Entries => _map.Values;

    private void Append(LruEntry e)
    {
        e.Previous = _tail;
        e.Next = null;
        if (_tail is null)
        {
            _head = e;
        }
        else
        {
            _tail.Next = e;
        }
        _tail = e;
        e.Linked = true;
    }

    private void Unlink(LruEntry e)
    {
        if (e.Previous is null)
        {
            _head = e.Next;
        }
        else
        {
            e.Previous.Next = e.Next;
        }
        if (e.Next is null)
        {
            _tail = e.Previous;
        }
        else
        {
            e.Next.Previous = e.Previous;
        }
        e.Previous = null;
        e.Next = null;
        e.Linked = false;
    }
}
