using System.Globalization;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Schema;
using Microsoft.Extensions.Options;

namespace Ja4.Host.Commands;

/// <summary><c>ja4 migrate [--status]</c>: applies (or lists) the ClickHouse schema migrations.</summary>
public sealed class MigrateCommand : ICommand
{
    public string Name => "migrate";
    public string Summary => "apply the ClickHouse schema migrations (--status lists them)";
    public string Help => """
        Usage: ja4 migrate [--status] [--config FILE] [--schema DIR]

        Applies the pending migrations of schema/ (NN_name.sql, in order) to the store
        configured under Modules:Storage, then sets each table's TTL from
        Modules:Storage:Retention. Every applied migration is recorded in
        <database>.schema_migrations with its checksum; a migration edited after it was
        applied is refused. The daemon also migrates at start-up (MigrateOnStart).

        With the embedded store (Engine=Chdb) the daemon must be stopped first: one
        process at a time holds the data directory.

        Options:
          --status        list applied, pending and edited migrations; change nothing
          --config FILE   configuration file (default: appsettings.json beside the executable)
          --schema DIR    migrations directory (default: schema/ beside the executable)

        """;

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var reader = new ArgReader(args, ["--config", "--schema"], ["--status"]);
        if (reader.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{reader.Positionals[0]}'");
        }
        var options = StorageCommandSupport.LoadOptions(reader.Value("--config"));
        IReadOnlyList<Migration> migrations;
        try
        {
            migrations = Migration.LoadDirectory(reader.Value("--schema") ?? Migration.LocateDirectory());
        }
        catch (MigrationException e)
        {
            throw new CommandFailedException(e.Message);
        }
        await using var store = StorageCommandSupport.Open(options, readOnly: false);
        var runner = new MigrationRunner(store, options, migrations);
        try
        {
            if (reader.Flag("--status"))
            {
                var status = await runner.StatusAsync(cancellationToken);
                Console.Out.WriteLine($"{"VERSION",-8} {"STATE",-15} {"APPLIED AT (UTC)",-20} NAME");
                foreach (var s in status)
                {
                    var state = s.State switch
                    {
                        MigrationState.Applied => "applied",
                        MigrationState.Pending => "pending",
                        MigrationState.Edited => "EDITED",
                        MigrationState.Missing => "MISSING FILE",
                        _ => "not applicable",
                    };
                    var at = s.AppliedAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";
                    Console.Out.WriteLine($"{s.Version,-8} {state,-15} {at,-20} {s.Name}");
                }
                return status.Any(s => s.State is MigrationState.Edited or MigrationState.Missing) ? Cli.Failure : Cli.Ok;
            }
            var applied = await runner.MigrateAsync(cancellationToken);
            foreach (var m in applied)
            {
                Console.Out.WriteLine($"applied {m.Name}");
            }
            Console.Out.WriteLine(applied.Count == 0
                ? $"database {options.Database} is up to date"
                : $"database {options.Database}: {applied.Count} migration(s) applied");
            return Cli.Ok;
        }
        catch (MigrationException e)
        {
            throw new CommandFailedException(e.Message);
        }
        catch (StoreException e)
        {
            throw new CommandFailedException(e.Message);
        }
    }
}

/// <summary>Configuration and store opening shared by <c>ja4 migrate</c> and <c>ja4 sql</c>.</summary>
internal static class StorageCommandSupport
{
    /// <summary><c>Modules:Storage</c> of the configuration, validated (whether or not the module is enabled).</summary>
    public static StorageOptions LoadOptions(string? configPath)
    {
        var configuration = DaemonHost.LoadConfiguration(configPath ?? RunCommand.DefaultConfigPath());
        var services = new ServiceCollection();
        services.AddOptions<StorageOptions>().Configure(o => configuration.GetSection("Modules:Storage").Bind(o))
            .ValidateDataAnnotations();
        services.AddSingleton(StorageOptionsValidation.Validator);
        using var provider = services.BuildServiceProvider();
        try
        {
            return provider.GetRequiredService<IOptions<StorageOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            throw new CommandFailedException(string.Join("; ", e.Failures));
        }
    }

    /// <summary>Opens the configured store; a data directory held by a running daemon is a clear error.</summary>
    public static IStoreExecutor Open(StorageOptions options, bool readOnly)
    {
        try
        {
            return StorageStore.Open(options, readOnly);
        }
        catch (StoreException e)
        {
            throw new CommandFailedException(options.Engine == StorageEngineKind.Chdb
                ? $"cannot open the embedded store at {Path.GetFullPath(options.DataPath)} (is the daemon running? stop it first): {e.Message}"
                : e.Message);
        }
    }
}
