using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Options;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Storage.Admin;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Queries;
using Ja4.Modules.Storage.Schema;
using Ja4.Modules.Storage.Writer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Storage;

/// <summary>Entry point of the Storage module.</summary>
public static class StorageModule
{
    /// <summary>Registers the module when <c>Modules:Storage:Enabled</c> is true; nothing otherwise.</summary>
    public static IServiceCollection AddStorageModule(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.TryAddModuleOptions<StorageOptions, StorageOptionsValidator>(configuration, ModuleNames.Storage))
        {
            return services;
        }
        services.AddSingleton(sp => new StorageStore(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton(sp => new StorageQueries(sp.GetRequiredService<StorageStore>().Reader,
            sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<StorageInitializer>();
        services.AddHostedService(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var store = sp.GetRequiredService<StorageStore>();
            var pipeline = sp.GetRequiredService<EventPipeline>();
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Ja4.Modules.Storage.Writer");
            var spill = new SpillQueue(options.SpillPath, options.SpillMaxMb << 20, (long)options.SpillSegmentMb << 20, logger);
            return new StorageWriter(store.Inserter, options, pipeline.Reader<CorrelatedRequest>(Edges.Correlated),
                pipeline.Reader<TlsClientHello>(Edges.HandshakeRecords), spill, sp.GetRequiredService<Ja4Metrics>(),
                sp.GetRequiredService<TimeProvider>(), logger, store.EnsureMigratedAsync);
        });
        services.AddHostedService(sp => new AdminSocketServer(sp.GetRequiredService<StorageStore>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Ja4.Modules.Storage.Admin")));
        return services;
    }
}

/// <summary>Opens the store and applies pending migrations before the writer starts.</summary>
internal sealed class StorageInitializer(StorageStore store, IOptions<StorageOptions> options, ILogger<StorageInitializer> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var applied = 0;
        if (o.MigrateOnStart)
        {
            try
            {
                applied = await store.EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (MigrationException e) when (e.InnerException is StoreException { Transient: true })
            {
                StorageLog.MigrationDeferred(logger, e.Message);
                return;
            }
            catch (StoreException e) when (e.Transient)
            {
                // A server that is down does not stop the daemon: the writer spills and retries.
                StorageLog.MigrationDeferred(logger, e.Message);
                return;
            }
        }
        StorageLog.StoreReady(logger, store.Writer.EngineName, o.Database, applied);
        if (o.Engine == StorageEngineKind.Chdb && o.TrimEngineCode)
        {
            var (before, after) = EngineCodeTrim.Trim();
            StorageLog.EngineCodeTrimmed(logger, before >> 20, after >> 20);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
