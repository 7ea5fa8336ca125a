using Ja4.Host.Commands;

namespace Ja4.Host;

/// <summary>A command-line mistake: printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>A failure the user should read as one line (exit code 1), without a stack trace.</summary>
public sealed class CommandFailedException(string message) : Exception(message);

/// <summary>One verb of the <c>ja4</c> executable.</summary>
public interface ICommand
{
    string Name { get; }
    string Summary { get; }
    /// <summary>Full help text, printed by <c>ja4 VERB --help</c>.</summary>
    string Help { get; }
    Task<int> RunAsync(string[] args, CancellationToken cancellationToken);
}

/// <summary>Dispatches <c>ja4 [VERB] [ARGS]</c>; <c>run</c> is the default verb.</summary>
public static class Cli
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int BadUsage = 2;

    public static IReadOnlyList<ICommand> Commands { get; } =
    [
        new RunCommand(),
        new FingerprintCommand(),
        new ReplayCommand(),
        new StatusCommand(),
        new VersionCommand(),
        new MigrateCommand(),
        new SqlCommand(),
        new DemoCommand(),
        new HashPasswordCommand(),
    ];

    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        if (args.Length > 0 && args[0] is "--help" or "-h" or "help")
        {
            stdout.Write(GeneralHelp());
            return Ok;
        }
        if (args.Length > 0 && args[0] is "--version")
        {
            args = ["version"];
        }
        ICommand command;
        string[] rest;
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            command = Commands[0];
            rest = args;
        }
        else
        {
            var named = Commands.FirstOrDefault(c => c.Name == args[0]);
            if (named is null)
            {
                stderr.WriteLine($"ja4: unknown command '{args[0]}' (try 'ja4 --help')");
                return BadUsage;
            }
            command = named;
            rest = args[1..];
        }
        if (rest.Any(a => a is "--help" or "-h"))
        {
            stdout.Write(command.Help);
            return Ok;
        }
        using var cts = new CancellationTokenSource();
        try
        {
            return await command.RunAsync(rest, cts.Token);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"ja4 {command.Name}: {e.Message} (try 'ja4 {command.Name} --help')");
            return BadUsage;
        }
        catch (CommandFailedException e)
        {
            stderr.WriteLine($"ja4 {command.Name}: {e.Message}");
            return Failure;
        }
    }

    /// <summary>The process entry point: standard output and error.</summary>
    public static Task<int> RunAsync(string[] args) => RunAsync(args, null, null);

    public static string GeneralHelp()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("ja4 — TLS client fingerprinting and bot detection for Apache web servers");
        sb.AppendLine();
        sb.AppendLine("Usage: ja4 [COMMAND] [OPTIONS]   (default command: run)");
        sb.AppendLine();
        sb.AppendLine("Commands:");
        foreach (var c in Commands)
        {
            sb.AppendLine($"  {c.Name,-12} {c.Summary}");
        }
        sb.AppendLine();
        sb.AppendLine("'ja4 COMMAND --help' describes a command.");
        return sb.ToString();
    }
}
