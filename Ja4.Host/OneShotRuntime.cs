using System.Runtime.InteropServices;

namespace Ja4.Host;

/// <summary>
/// Runtime settings for the one-shot file commands. <c>ja4 fingerprint</c> reads a capture file
/// and exits within seconds; with tiered compilation the runtime spends a third of that process
/// compiling its hot loop twice (quickly, instrumented, then optimised). The daemon keeps tiered
/// compilation and dynamic PGO for its long-running steady state, so a one-shot command replaces
/// its own process image once, before doing anything, with <c>DOTNET_TieredCompilation=0</c>
/// (every method compiled optimised on first call). A variable set by the caller is respected,
/// and when the exec fails the command simply runs as it is.
/// </summary>
internal static partial class OneShotRuntime
{
    /// <summary>Commands that read files and exit: they run with full optimisation from the start.</summary>
    private static readonly HashSet<string> Commands = ["fingerprint"];

    private const string Variable = "DOTNET_TieredCompilation";

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int execve(string path, string?[] argv, string?[] envp);

    /// <summary>Re-executes this process with tiered compilation off when <paramref name="args"/> name a one-shot command.</summary>
    public static void Apply(string[] args)
    {
        if (!OperatingSystem.IsLinux() || args.Length == 0 || !Commands.Contains(args[0])
            || Environment.GetEnvironmentVariable(Variable) is not null || Environment.ProcessPath is not { } exe)
        {
            return;
        }
        // Run as "dotnet ja4.dll ...": the host path, then the assembly; as the apphost: itself.
        // (a single-file build is always its own executable; under the host, argument 0 is the assembly's path).
        var host = Path.GetFileNameWithoutExtension(exe) == "dotnet";
        var assembly = Environment.GetCommandLineArgs()[0];
        if (host && !assembly.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        string?[] argv = [.. (host ? new[] { exe, assembly } : [exe]), .. args, null];
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").Append($"{Variable}=0").Cast<string?>().Append(null).ToArray();
        Console.Out.Flush();
        _ = execve(exe, argv, env);
        // Only reached when the exec failed: carry on in this process.
    }
}
