using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Ja4.Tests.EndToEnd;

/// <summary>
/// Every combination of modules starts as its own process (or refuses with the one line that
/// explains why), serves /healthz, and stops cleanly on SIGTERM with exit code 0.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ModuleCombinationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-combo-").FullName;

    private static readonly string[] Switchable = ["Capture", "HttpIngest", "Correlation", "Dashboard"];

    public static TheoryData<string> Combinations()
    {
        var data = new TheoryData<string>();
        for (var mask = 0; mask < 1 << Switchable.Length; mask++)
        {
            data.Add(string.Join('+', Switchable.Where((_, i) => (mask & (1 << i)) != 0).DefaultIfEmpty("none")));
        }
        // The embedded store is heavy to load: a few representative sets with it.
        data.Add("Storage");
        data.Add("HttpIngest+Correlation+Storage");
        data.Add("Capture+HttpIngest+Correlation+Storage+Dashboard");
        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public async Task Combination_starts_and_stops_cleanly(string combination)
    {
        var modules = combination.Split('+').ToHashSet();
        var port = DaemonInstance.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var config = new JsonObject
        {
            ["Modules"] = new JsonObject
            {
                ["Capture"] = new JsonObject
                {
                    ["Enabled"] = modules.Contains("Capture"),
                    ["Interface"] = "lo",
                    ["Filter"] = $"tcp port {DaemonInstance.FreePort()}",
                },
                ["HttpIngest"] = new JsonObject
                {
                    ["Enabled"] = modules.Contains("HttpIngest"),
                    ["SocketPath"] = Path.Combine(_dir, "reqin.sock"),
                    ["SocketGroup"] = "",
                },
                ["Correlation"] = new JsonObject { ["Enabled"] = modules.Contains("Correlation") },
                ["Storage"] = new JsonObject
                {
                    ["Enabled"] = modules.Contains("Storage"),
                    ["DataPath"] = Path.Combine(_dir, "data"),
                    ["SpillPath"] = Path.Combine(_dir, "spill"),
                    ["AdminSocketPath"] = Path.Combine(_dir, "admin.sock"),
                    ["AdminSocketGroup"] = "",
                },
                ["Dashboard"] = new JsonObject { ["Enabled"] = modules.Contains("Dashboard"), ["Urls"] = url },
            },
            ["Operations"] = new JsonObject { ["Urls"] = url },
        };
        var path = Path.Combine(_dir, "config.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ja4.dll"));
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add("--config");
        psi.ArgumentList.Add(path);
        psi.Environment["JA4_Logging__Console__Format"] = "text";
        using var process = Process.Start(psi)!;
        try
        {
            await CheckAsync(process, modules, combination, url);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task CheckAsync(Process process, HashSet<string> modules, string combination, string url)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        var correlationWithoutProducer = modules.Contains("Correlation") && !modules.Contains("Capture") && !modules.Contains("HttpIngest");
        if (correlationWithoutProducer)
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(1, process.ExitCode);
            Assert.Contains("ja4 run: Modules:Correlation:Enabled is true but none of its producers is enabled", await stderr);
            return;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var healthy = false;
        for (var i = 0; i < 240 && !healthy && !process.HasExited; i++)
        {
            try
            {
                healthy = (await http.GetStringAsync(url + "/healthz")) == "ok\n";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(250);
            }
        }
        Assert.True(healthy, $"{combination} did not become healthy: {(process.HasExited ? await stderr : "still starting")}");

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{combination} exited {process.ExitCode}: {output}");
        Assert.DoesNotContain(" ERR ", output);
        Assert.DoesNotContain(" FTL ", output);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
