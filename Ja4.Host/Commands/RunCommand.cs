namespace Ja4.Host.Commands;

/// <summary><c>ja4 run</c>: the daemon.</summary>
public sealed class RunCommand : ICommand
{
    public string Name => "run";
    public string Summary => "run the daemon (the default command)";
    public string Help => """
        Usage: ja4 run [--config FILE]

        Runs the daemon with the modules enabled in the configuration.

        Options:
          --config FILE   configuration file (default: appsettings.json next to the
                          executable, else in the current directory)

        Every key can be overridden by an environment variable with the JA4_ prefix
        and '__' between sections, e.g. JA4_Modules__Capture__Interface=lo.
        A bad configuration stops the daemon with one line per problem, naming the key.

        """;

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var reader = new ArgReader(args, ["--config"], []);
        if (reader.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{reader.Positionals[0]}'");
        }
        var configuration = DaemonHost.LoadConfiguration(reader.Value("--config") ?? DefaultConfigPath());
        WebApplication app;
        try
        {
            app = DaemonHost.Build(configuration);
            DaemonHost.ValidateOptions(app.Services);
            await app.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            foreach (var line in DaemonHost.Explain(e))
            {
                Console.Error.WriteLine($"ja4 run: {line}");
            }
            await Serilog.Log.CloseAndFlushAsync();
            return Cli.Failure;
        }
        await app.WaitForShutdownAsync(cancellationToken);
        await app.DisposeAsync();
        return Cli.Ok;
    }

    internal static string DefaultConfigPath()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        return File.Exists(beside) ? beside : Path.Combine(Environment.CurrentDirectory, "appsettings.json");
    }
}
