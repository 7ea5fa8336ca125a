using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Hosting;

namespace Ja4.Modules.Detection;

/// <summary>
/// Moves correlated requests from the <c>DetectionFeed</c> channel (Correlation → Detection) into
/// the <see cref="DetectionEventBuffer"/> of the in-memory feature path. The channel drops and
/// counts when full (<c>ja4_channel_dropped_total{channel="DetectionFeed"}</c>), the buffer drops
/// its oldest requests when full (<c>ja4_detection_buffer_dropped</c>). When the storage module
/// is on, features come from the store and the channel does not exist.
/// </summary>
public sealed class DetectionFeedWorker(EventPipeline pipeline, DetectionEventBuffer buffer) : BackgroundService, IPipelineStage
{
    public PipelineStage Stage => PipelineStage.Consume;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = pipeline.Reader<CorrelatedRequest>(Edges.DetectionFeed);
        if (reader is null)
        {
            return;
        }
        try
        {
            await foreach (var request in reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                buffer.Add(request);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
