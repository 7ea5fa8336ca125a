using Ja4.Modules.Core.Pipeline;
using Ja4.Tests.HttpIngest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ja4.Tests.Core;

/// <summary>
/// The data path stops in data-flow order whatever the registration order, and a stage that fails
/// to stop does not keep the later stages from stopping.
/// </summary>
public sealed class PipelineShutdownTests
{
    private sealed class RecordingStage(PipelineStage stage, string name, List<string> stops, bool fails = false) : IPipelineStage
    {
        public PipelineStage Stage => stage;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            lock (stops)
            {
                stops.Add(name);
            }
            return fails ? Task.FromException(new IOException(name + " could not stop")) : Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Stages_stop_intake_first_then_join_consume_deliver_even_when_one_fails()
    {
        var stops = new List<string>();
        var log = new CapturingLogger<PipelineShutdown>();
        var services = new ServiceCollection();
        // Registered as the modules are (producers first) and then shuffled further: the host
        // would stop them in the reverse of this list.
        services.AddSingleton<IHostedService>(new RecordingStage(PipelineStage.Deliver, "alerts", stops));
        services.AddSingleton<IHostedService>(new RecordingStage(PipelineStage.Intake, "capture", stops, fails: true));
        services.AddSingleton<IHostedService>(new RecordingStage(PipelineStage.Consume, "writer", stops));
        services.AddSingleton<IHostedService>(new RecordingStage(PipelineStage.Join, "correlation", stops));
        services.AddSingleton<IHostedService>(new RecordingStage(PipelineStage.Intake, "ingest", stops));
        services.AddSingleton<ILogger<PipelineShutdown>>(log);
        services.AddHostedService<PipelineShutdown>();
        await using var provider = services.BuildServiceProvider();
        var shutdown = provider.GetServices<IHostedService>().OfType<PipelineShutdown>().Single();

        await shutdown.StopAsync(CancellationToken.None);

        Assert.Equal(["capture", "ingest"], stops[..2].Order());
        Assert.Equal(["correlation", "writer", "alerts"], stops[2..]);
        var error = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.Equal("RecordingStage (Intake stage) failed to stop cleanly; the later stages still drain what was queued", error.Message);
    }
}
