using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Dashboard;

/// <summary>
/// The most recent correlated requests for the live page: a bounded ring filled from the
/// <c>LiveFeed</c> edge, with a change notification for open pages.
/// </summary>
public sealed class LiveFeed
{
    private readonly CorrelatedRequest[] _ring;
    private readonly object _gate = new();
    private long _total;

    public LiveFeed(IOptions<DashboardOptions> options) => _ring = new CorrelatedRequest[options.Value.LiveBufferSize];

    /// <summary>Raised after each batch of new requests (on the feed's thread).</summary>
    public event Action? Changed;

    /// <summary>Requests received since start.</summary>
    public long Total => Interlocked.Read(ref _total);

    internal void Add(CorrelatedRequest request)
    {
        lock (_gate)
        {
            _ring[_total % _ring.Length] = request;
            _total++;
        }
    }

    internal void Notify() => Changed?.Invoke();

    /// <summary>Newest first, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<CorrelatedRequest> Latest(int max)
    {
        lock (_gate)
        {
            var n = (int)Math.Min(Math.Min(max, _ring.Length), _total);
            var result = new CorrelatedRequest[n];
            for (var i = 0; i < n; i++)
            {
                result[i] = _ring[(_total - 1 - i) % _ring.Length];
            }
            return result;
        }
    }
}

/// <summary>Moves correlated requests from the LiveFeed edge into <see cref="LiveFeed"/>.</summary>
internal sealed class LiveFeedWorker(EventPipeline pipeline, LiveFeed feed) : BackgroundService, IPipelineStage
{
    public PipelineStage Stage => PipelineStage.Consume;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = pipeline.Reader<CorrelatedRequest>(Edges.LiveFeed);
        if (reader is null)
        {
            return;
        }
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                while (reader.TryRead(out var item))
                {
                    feed.Add(item);
                }
                feed.Notify();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
