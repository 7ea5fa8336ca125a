using Ja4.Modules.Core.Memory;
using Ja4.Modules.Storage.Engines;
using Microsoft.Extensions.Options;

namespace Ja4.Host;

/// <summary>
/// A minute after start-up, hands back the pages of the daemon's own code and read-only data (the .NET runtime,
/// its assemblies, native libraries) that only the start-up read: configuration binding, dependency injection,
/// validation, migrations, the listeners' set-up. At 5,000 requests/s that was about 20 MB of the 95 MB resident in
/// those files, and after it about 4 MB came back over the next minutes (docs/BENCHMARKS.md, Soak). The embedded
/// engine's library is left to <c>Modules:Storage:TrimEngineCode</c>, which trims it once the engine has booted:
/// what of it is resident a minute later is its working set. <c>Operations:TrimStartupCode</c> (default true)
/// switches this off.
/// </summary>
internal sealed partial class StartupCodeTrim(IHostApplicationLifetime lifetime, IOptions<OperationsOptions> options,
    ILogger<StartupCodeTrim> logger, TimeProvider? clock = null) : BackgroundService
{
    /// <summary>How long after the host has started: the start-up paths have run, the steady ones have been reached.</summary>
    internal static readonly TimeSpan Delay = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.TrimStartupCode || !OperatingSystem.IsLinux())
        {
            return;
        }
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
                await Task.Delay(Delay, clock ?? TimeProvider.System, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        var (before, after) = Trim();
        Result = (before, after);
        Trimmed(logger, before >> 20, after >> 20);
    }

    /// <summary>Resident bytes of the trimmed mappings before and after, once the trim has run.</summary>
    internal (long Before, long After)? Result { get; private set; }

    /// <summary>Every file but the engine's library.</summary>
    internal static bool Selects(string path) => !CodePages.IsFile(path, EngineCodeTrim.LibraryFileName);

    /// <summary>Trims every read-only file mapping <see cref="Selects"/> takes; resident bytes of those before and after.</summary>
    internal static (long Before, long After) Trim() => CodePages.Trim(Selects);

    [LoggerMessage(1, LogLevel.Information, "host: the start-up code pages handed back to the kernel: mapped files (libchdb.so aside) resident {BeforeMb} MB -> {AfterMb} MB")]
    private static partial void Trimmed(ILogger logger, long beforeMb, long afterMb);
}

/// <summary>The <c>Operations</c> section: the daemon's own endpoints and housekeeping.</summary>
public sealed class OperationsOptions
{
    public const string Section = "Operations";

    /// <summary>Where <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> listen when the dashboard is off. Default: <c>http://127.0.0.1:9480</c>.</summary>
    public string Urls { get; set; } = DefaultUrls;

    public const string DefaultUrls = "http://127.0.0.1:9480";

    /// <summary>A minute after start-up, hand back the code pages only the start-up read (<see cref="StartupCodeTrim"/>). Default: true.</summary>
    public bool TrimStartupCode { get; set; } = true;
}
