using System.Reflection;

namespace Ja4.Host.Commands;

/// <summary><c>ja4 version</c>: prints the version of the executable and its runtime.</summary>
public sealed class VersionCommand : ICommand
{
    public string Name => "version";
    public string Summary => "print the version";
    public string Help => """
        Usage: ja4 version

        Prints the ja4 version, the .NET runtime and the operating system.

        """;

    public static string Version =>
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0";

    public Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var reader = new ArgReader(args, [], []);
        if (reader.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{reader.Positionals[0]}'");
        }
        Console.Out.WriteLine($"ja4 {Version} (.NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription})");
        return Task.FromResult(Cli.Ok);
    }
}
