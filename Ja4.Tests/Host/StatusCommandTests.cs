using Ja4.Host;
using Ja4.Tests.EndToEnd;

namespace Ja4.Tests.Host;

[Collection(ConsoleCollection.Name)]
public sealed class StatusCommandTests
{
    [Fact]
    public async Task Status_reads_the_running_daemon_and_exits_zero_when_ready()
    {
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
        });
        var output = await ConsoleCapture.RunAsync(() => Cli.RunAsync(["status", "--url", daemon.BaseUrl]));
        Assert.Equal(0, output.Code);
        Assert.StartsWith($"daemon   {daemon.BaseUrl}  Healthy", output.Out);
    }

    [Fact]
    public async Task Status_of_a_stopped_daemon_fails_with_one_line()
    {
        var url = $"http://127.0.0.1:{DaemonInstance.FreePort()}";
        var output = await ConsoleCapture.RunAsync(() => Cli.RunAsync(["status", "--url", url]));
        Assert.Equal(1, output.Code);
        Assert.StartsWith($"ja4 status: the daemon is not reachable at {url}", output.Err);
        Assert.Single(output.Err.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Prometheus_lines_are_parsed_by_name_and_labels()
    {
        var m = Ja4.Host.Commands.StatusCommand.ParseMetrics("# HELP x y\nja4_a{channel=\"H\"} 12\nja4_b 1.5e3\n");
        Assert.Equal(12, m["ja4_a{channel=\"H\"}"]);
        Assert.Equal(1500, m["ja4_b"]);
    }
}
