using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Detection;

/// <summary>
/// The in-memory feature path's source: correlated requests kept for one window, oldest dropped
/// first when full (counted in <see cref="Dropped"/>). Thread-safe.
/// </summary>
public sealed class DetectionEventBuffer(int capacity)
{
    private readonly Queue<CorrelatedRequest> _queue = new();
    private readonly Lock _lock = new();
    private long _dropped;

    public int Capacity { get; } = capacity;

    public long Dropped => Interlocked.Read(ref _dropped);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public void Add(CorrelatedRequest request)
    {
        lock (_lock)
        {
            if (_queue.Count >= Capacity)
            {
                _queue.Dequeue();
                Interlocked.Increment(ref _dropped);
            }
            _queue.Enqueue(request);
        }
    }

    public void AddRange(IEnumerable<CorrelatedRequest> requests)
    {
        foreach (var r in requests)
        {
            Add(r);
        }
    }

    /// <summary>Forgets requests that started before <paramref name="before"/> (assumes arrival in about time order).</summary>
    public void Evict(DateTimeOffset before)
    {
        lock (_lock)
        {
            while (_queue.Count > 0 && _queue.Peek().Request.Timestamp < before)
            {
                _queue.Dequeue();
            }
        }
    }

    /// <summary>A copy of the requests held now.</summary>
    public CorrelatedRequest[] Snapshot()
    {
        lock (_lock)
        {
            return _queue.ToArray();
        }
    }
}
