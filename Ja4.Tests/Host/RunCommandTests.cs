using Ja4.Host;

namespace Ja4.Tests.Host;

/// <summary>
/// <c>ja4 run</c> itself, the verb the unit starts, on a configuration that must not start: what the operator reads is
/// standard error, one line per problem, and the exit code.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class RunCommandTests
{
    [Theory]
    [InlineData("""
        "SnapLenght": 1500
        """, "", "ja4 run: Modules:Capture:SnapLenght: not a setting (did you mean Modules:Capture:SnapLength?)")]
    [InlineData("", """
        "TrimStartupCode": "sometimes"
        """, "'Operations:TrimStartupCode'")]
    public async Task A_bad_configuration_stops_ja4_run_with_one_line_on_standard_error(string capture, string operations, string expected)
    {
        var dir = Directory.CreateTempSubdirectory("ja4-run-").FullName;
        try
        {
            var config = Path.Combine(dir, "appsettings.json");
            // Capture and the dashboard off and the operations listener on a free port, so that nothing but the
            // configuration can stop the start.
            await File.WriteAllTextAsync(config, $$"""
                {
                  "Logging": { "Console": { "Format": "none" } },
                  "Operations": { "Urls": "http://127.0.0.1:0"{{Comma(operations)}} },
                  "DataProtection": { "KeysPath": "{{Path.Combine(dir, "keys")}}" },
                  "Modules": { "Capture": { "Enabled": false{{Comma(capture)}} }, "Dashboard": { "Enabled": false } }
                }
                """);
            // A configuration that wrongly starts would leave ja4 run waiting for a signal: bounded, so the test fails instead.
            var (code, stdout, stderr) = await ConsoleCapture.RunAsync(() => Cli.RunAsync(["run", "--config", config]))
                .WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(Cli.Failure, code);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.StartsWith("ja4 run: ", line);
            Assert.Contains(expected, line);
            Assert.Equal("", stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Comma(string members) => members.Length == 0 ? "" : ", " + members;
}
