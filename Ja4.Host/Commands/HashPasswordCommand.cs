using System.Globalization;
using System.Text;
using Ja4.Modules.Dashboard.Security;

namespace Ja4.Host.Commands;

/// <summary><c>ja4 hash-password</c>: the hash of a dashboard account's password, read from standard input.</summary>
public sealed class HashPasswordCommand : ICommand
{
    public string Name => "hash-password";
    public string Summary => "hash a dashboard account's password (read from stdin)";
    public string Help => $"""
        Usage: ja4 hash-password [--iterations N] < password-file
               printf '%s' 'secret' | ja4 hash-password

        Reads one password from standard input (the first line; without a terminal
        echo when typed) and prints its hash for Modules:Dashboard:Accounts:<n>:PasswordHash:
        PBKDF2-HMAC-SHA256 with a random 16-byte salt, as
        {PasswordHash.Scheme}$<iterations>$<salt>$<key>.

        Options:
          --iterations N   PBKDF2 iterations (default and minimum {PasswordHash.MinIterations})

        Example appsettings.json block:
          "Accounts": [ {"{"} "Name": "analyst", "PasswordHash": "{PasswordHash.Scheme}$600000$..." {"}"} ]

        """;

    private readonly TextReader? _input;
    private readonly TextWriter? _output;

    public HashPasswordCommand()
    {
    }

    /// <summary>With explicit streams (tests); the console otherwise.</summary>
    public HashPasswordCommand(TextReader input, TextWriter output)
    {
        _input = input;
        _output = output;
    }

    public Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var reader = new ArgReader(args, ["--iterations"], []);
        if (reader.Positionals.Count > 0)
        {
            throw new UsageException("the password is read from standard input, not from the command line");
        }
        var iterations = PasswordHash.MinIterations;
        if (reader.Value("--iterations") is { } text &&
            (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out iterations) ||
             iterations < PasswordHash.MinIterations || iterations > PasswordHash.MaxIterations))
        {
            throw new UsageException($"--iterations must be an integer from {PasswordHash.MinIterations} to {PasswordHash.MaxIterations}");
        }
        var password = _input is not null ? _input.ReadLine() : ReadConsole();
        if (string.IsNullOrEmpty(password))
        {
            throw new CommandFailedException("no password on standard input");
        }
        (_output ?? Console.Out).WriteLine(PasswordHash.Hash(password, iterations));
        return Task.FromResult(Cli.Ok);
    }

    /// <summary>Piped input as it comes; typed input without echo.</summary>
    private static string? ReadConsole()
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine();
        }
        Console.Error.Write("Password: ");
        var sb = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }
            if (key.Key == ConsoleKey.Backspace)
            {
                if (sb.Length > 0)
                {
                    sb.Length--;
                }
                continue;
            }
            if (!char.IsControl(key.KeyChar))
            {
                sb.Append(key.KeyChar);
            }
        }
        Console.Error.WriteLine();
        return sb.ToString();
    }
}
