using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Core.Pipeline;

/// <summary>
/// Where a hosted service sits in the data path. The daemon stops the stages in this order, so
/// each one has drained what its producers handed over before it stops itself.
/// </summary>
public enum PipelineStage
{
    /// <summary>Capture and the HTTP socket: take data in.</summary>
    Intake = 0,
    /// <summary>Correlation: joins what intake produced; flushes the requests still waiting at its stop.</summary>
    Join = 1,
    /// <summary>Consumers of the joined requests: the storage writer, detection, the live feed.</summary>
    Consume = 2,
    /// <summary>Alert delivery: consumes what detection produces.</summary>
    Deliver = 3,
}

/// <summary>A hosted service of the data path, stopped by <see cref="PipelineShutdown"/> in stage order.</summary>
public interface IPipelineStage : IHostedService
{
    PipelineStage Stage { get; }
}

/// <summary>
/// Stops the data path in data-flow order: intake, then correlation, then its consumers, then
/// alert delivery; the services of one stage together.
/// </summary>
/// <remarks>
/// The host stops hosted services in the reverse of their registration order, which for modules
/// registered producer first is consumer first: the storage writer would stop before correlation
/// flushes the requests still waiting for their handshake, and those would be lost. Registered
/// after every module, this service is stopped before them and stops them itself, in the right
/// order; the host's own later calls find them stopped. A stage that fails to stop is logged and
/// the next stages still stop (they drain what is already queued).
/// </remarks>
public sealed class PipelineShutdown(IServiceProvider services, ILogger<PipelineShutdown> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var stages = services.GetServices<IHostedService>().OfType<IPipelineStage>()
            .GroupBy(s => s.Stage).OrderBy(g => g.Key);
        foreach (var stage in stages)
        {
            await Task.WhenAll(stage.Select(s => StopOneAsync(s, cancellationToken))).ConfigureAwait(false);
        }
    }

    private async Task StopOneAsync(IPipelineStage service, CancellationToken cancellationToken)
    {
        try
        {
            await service.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            PipelineLog.StageStopFailed(logger, e, service.GetType().Name, service.Stage);
        }
    }
}

internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Error,
        Message = "{Service} ({Stage} stage) failed to stop cleanly; the later stages still drain what was queued")]
    public static partial void StageStopFailed(ILogger logger, Exception exception, string service, PipelineStage stage);
}
