using Ja4.Tests.TestSupport;
using static Ja4.Tests.EndToEnd.LiveCaptureProcesses;

namespace Ja4.Tests.EndToEnd;

/// <summary>Capture without CAP_NET_RAW cannot start: one clear line saying how to fix it, exit code 1.</summary>
[Trait("Category", "EndToEnd")]
public sealed class LiveCapturePermissionTests
{
    private const string Config = """
        {
          "Modules": {
            "Capture": { "Enabled": true, "Interface": "lo", "Filter": "tcp port 443" },
            "Correlation": { "Enabled": true }
          },
          "Operations": { "Urls": "http://127.0.0.1:0" },
          "Logging": { "Console": { "Format": "none" } }
        }
        """;

    [Fact]
    public async Task Root_without_cap_net_raw_fails_with_one_line_saying_how_to_fix()
    {
        // Root with CAP_NET_RAW removed from the bounding set: the process never holds it.
        var dll = Path.Combine(AppContext.BaseDirectory, "ja4.dll");
        await AssertOneClearLine("setpriv", ["--bounding-set=-net_raw", "--inh-caps=-net_raw", "dotnet", dll]);
    }

    [Fact]
    public async Task Unprivileged_user_fails_with_one_line_saying_how_to_fix()
    {
        // nobody (65534) without any capability. The published executable is used: a build-output
        // copy refers to static assets under root's NuGet cache, which nobody cannot read.
        var ja4 = Path.Combine(Corpus.RepositoryRoot, "build", "ja4");
        if (!File.Exists(ja4))
        {
            var (code, output, err) = await Run("make", ["-C", Corpus.RepositoryRoot, "build"], timeout: TimeSpan.FromMinutes(10));
            Assert.True(code == 0, output + err);
        }
        await AssertOneClearLine("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", ja4]);
    }

    private static async Task AssertOneClearLine(string launcher, string[] prefix)
    {
        var config = Path.Combine(Path.GetTempPath(), $"ja4-nopriv-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, Config);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        try
        {
            var (code, _, err) = await Run(launcher, [.. prefix, "run", "--config", config],
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
