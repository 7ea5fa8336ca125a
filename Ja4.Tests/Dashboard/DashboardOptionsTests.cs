using Ja4.Tests.Host;

namespace Ja4.Tests.Dashboard;

public sealed class DashboardOptionsTests
{
    [Theory]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://*:8080")]
    [InlineData("http://192.0.2.10:8080")]
    [InlineData("http://127.0.0.1:8080;http://[::]:8080")]
    public async Task Non_loopback_binding_without_authentication_refuses_to_start(string urls)
    {
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:Dashboard:Urls"] = urls,
        });
        Assert.Contains(problems, p => p.StartsWith("Modules:Dashboard:Urls: ") && p.Contains("reachable from other hosts"));
    }

    [Theory]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://localhost:{port}")]
    [InlineData("http://[::1]:0")]
    public async Task Loopback_binding_starts(string urls)
    {
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:Dashboard:Urls"] = urls.Replace("{port}", Ja4.Tests.EndToEnd.DaemonInstance.FreePort().ToString()),
        });
        Assert.Empty(problems);
    }
}
