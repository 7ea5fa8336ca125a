using Ja4.Host;
using Ja4.Modules.Capture;
using Ja4.Tests.Host;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ja4.Tests.Capture;

public sealed class CaptureModuleTests
{
    [Fact]
    public async Task Bad_filter_and_caps_are_startup_errors_naming_the_key()
    {
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Capture:Enabled"] = "true",
            ["Modules:Capture:Filter"] = "tcp port banana",
            ["Modules:Capture:MaxHelloBytes"] = "10",
            ["Modules:Capture:StatsInterval"] = "00:00:00.1",
        });
        Assert.Contains(problems, p => p.StartsWith("Modules:Capture:Filter \"tcp port banana\" is not a valid BPF filter", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Modules:Capture:MaxHelloBytes: ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Modules:Capture:StatsInterval", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_a_consumer_the_device_is_not_opened()
    {
        // Capture alone: no channel has a consumer, so the worker starts without opening the interface
        // (a name that does not exist would otherwise fail the start-up).
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Capture:Enabled"] = "true",
            ["Modules:Capture:Interface"] = "no-such-interface0",
        });
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Unknown_interface_is_one_clear_startup_error()
    {
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Capture:Enabled"] = "true",
            ["Modules:Correlation:Enabled"] = "true",
            ["Modules:Capture:Interface"] = "no-such-interface0",
        });
        var problem = Assert.Single(problems);
        Assert.StartsWith("Modules:Capture:Interface: no interface named 'no-such-interface0' (available: ", problem);
        Assert.Contains("lo", problem);
    }

    [Fact]
    public void Enabled_module_registers_its_worker()
    {
        var path = ConfigurationTests.WriteConfig("""{ "Modules": { "Capture": { "Enabled": true } } }""");
        try
        {
            var app = DaemonHost.Build(DaemonHost.LoadConfiguration(path));
            Assert.Contains(app.Services.GetServices<IHostedService>(), s => s is CaptureWorker);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
