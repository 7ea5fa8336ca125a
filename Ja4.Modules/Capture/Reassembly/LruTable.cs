using System.Runtime.CompilerServices;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Core.Collections;

namespace Ja4.Modules.Capture.Reassembly;

/// <summary>An entry of an <see cref="LruTable{T}"/>: intrusive links, key and last activity time.</summary>
public abstract class LruEntry : IntrusiveListNode<LruEntry>
{
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
    private readonly IntrusiveList<LruEntry> _recency = new();

    /// <param name="capacityHint">Expected entries (the dictionary starts at most 4,096 large).</param>
    /// <param name="comparer">Flow equality; <see cref="ConnectionComparer"/> for a table of connections.</param>
    public LruTable(int capacityHint, IEqualityComparer<FlowId>? comparer = null) =>
        _map = new Dictionary<FlowId, T>(Math.Min(capacityHint, 4096), comparer);

    public int Count => _map.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGet(in FlowId key, out T entry) => _map.TryGetValue(key, out entry!);

    /// <summary>The least recently active entry, or null.</summary>
    public T? Oldest => (T?)_recency.Head;

    public void Add(in FlowId key, T entry, long now)
    {
        entry.Key = key;
        entry.LastActivity = now;
        _map.Add(key, entry);
        _recency.AddLast(entry);
    }

    /// <summary>Marks activity: moves the entry to the young end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Touch(T entry, long now)
    {
        entry.LastActivity = Math.Max(entry.LastActivity, now);
        _recency.MoveToEnd(entry);
    }

    public void Remove(T entry)
    {
        if (!_recency.Contains(entry))
        {
            return;
        }
        _map.Remove(entry.Key);
        _recency.Remove(entry);
    }

    public IEnumerable<T> Entries => _map.Values;
}
