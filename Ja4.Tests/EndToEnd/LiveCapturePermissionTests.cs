using static Ja4.Tests.EndToEnd.LiveCaptureProcesses;

namespace Ja4.Tests.EndToEnd;

/// <summary>The daemon as an unprivileged user (nobody, no CAP_NET_RAW) cannot capture: one clear line, exit 1.</summary>
[Trait("Category", "EndToEnd")]
public sealed class LiveCapturePermissionTests
{
    [Fact]
    public async Task Capture_without_cap_net_raw_fails_with_one_line_saying_how_to_fix()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "ja4.dll");
        var config = Path.Combine(Path.GetTempPath(), $"ja4-nopriv-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, """
            {
              "Modules": {
                "Capture": { "Enabled": true, "Interface": "lo", "Filter": "tcp port 443" },
                "Correlation": { "Enabled": true }
              },
              "Operations": { "Urls": "http://127.0.0.1:0" },
              "Logging": { "Console": { "Format": "none" } }
            }
            """);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        try
        {
            var (code, _, err) = await Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                    "dotnet", dll, "run", "--config", config],
                new Dictionary<string, string> { ["DOTNET_CLI_HOME"] = Path.GetTempPath(), ["HOME"] = Path.GetTempPath() });
            Assert.Equal(1, code);
            var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("ja4 run: Capture on 'lo' is not permitted", line);
            Assert.Contains("CAP_NET_RAW", line);
            Assert.Contains("setcap cap_net_raw+ep", line);
            Assert.Contains("AmbientCapabilities=CAP_NET_RAW", line);
        }
        finally
        {
            File.Delete(config);
        }
    }
}
