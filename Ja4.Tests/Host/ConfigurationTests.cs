using Ja4.Host;
using Ja4.Modules.Capture;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ja4.Tests.Host;

/// <summary>Start-up validation, environment overrides and module switching of the whole host.</summary>
public sealed class ConfigurationTests
{
    internal static string WriteConfig(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ja4-test-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Starts and stops the host; returns the start-up problems (empty when it started).</summary>
    internal static async Task<IReadOnlyList<string>> StartupProblems(IDictionary<string, string?> settings)
    {
        var path = WriteConfig("{}");
        try
        {
            var merged = new Dictionary<string, string?>(settings);
            merged.TryAdd("Logging:Console:Format", "none");
            merged.TryAdd("Operations:Urls", "http://127.0.0.1:0");
            merged.TryAdd("Modules:Dashboard:Urls", "http://127.0.0.1:0");
            var app = DaemonHost.Build(DaemonHost.LoadConfiguration(path, merged));
            try
            {
                await app.StartAsync();
                await app.StopAsync();
                return [];
            }
            catch (Exception e)
            {
                return DaemonHost.Explain(e);
            }
            finally
            {
                await app.DisposeAsync();
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Every_bad_key_is_reported_at_once_by_name()
    {
        var problems = await StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Capture:Enabled"] = "true",
            ["Modules:Capture:Interface"] = " ",
            ["Modules:Capture:SnapLength"] = "10",
            ["Modules:Capture:FlowIdleTimeout"] = "-00:00:01",
            ["Pipeline:Channels:Handshakes:Capacity"] = "1",
            ["Pipeline:Channels:NoSuchEdge:Capacity"] = "100",
        });
        Assert.Contains(problems, p => p.Contains("Modules:Capture:Interface"));
        Assert.Contains(problems, p => p.StartsWith("Modules:Capture:SnapLength: "));
        Assert.Contains(problems, p => p.Contains("Modules:Capture:FlowIdleTimeout"));
        Assert.Contains(problems, p => p.Contains("Pipeline:Channels:Handshakes:Capacity"));
        Assert.Contains(problems, p => p.Contains("Pipeline:Channels:NoSuchEdge is not a channel"));
    }

    [Fact]
    public async Task Consumer_without_any_producer_is_a_startup_error()
    {
        var problems = await StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Correlation:Enabled"] = "true",
        });
        Assert.Contains(problems, p => p.StartsWith("Modules:Correlation:Enabled is true but none of its producers is enabled"));
    }

    [Fact]
    public void Environment_variables_override_the_file()
    {
        var path = WriteConfig("""{ "Modules": { "Capture": { "Interface": "eth0" } } }""");
        try
        {
            Environment.SetEnvironmentVariable("JA4_Modules__Capture__Interface", "lo");
            var config = DaemonHost.LoadConfiguration(path);
            Assert.Equal("lo", config["Modules:Capture:Interface"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("JA4_Modules__Capture__Interface", null);
            File.Delete(path);
        }
    }

    [Fact]
    public void Disabled_module_registers_nothing()
    {
        var path = WriteConfig("""{ "Modules": { "Capture": { "Enabled": false, "SnapLength": 1 } } }""");
        try
        {
            var app = DaemonHost.Build(DaemonHost.LoadConfiguration(path));
            // A disabled module binds no options and starts no worker, so its bad values are ignored.
            Assert.Null(app.Services.GetService<IValidateOptions<CaptureOptions>>());
            Assert.DoesNotContain(app.Services.GetServices<IHostedService>(),
                s => s.GetType().Namespace?.StartsWith("Ja4.Modules.Capture", StringComparison.Ordinal) == true);
            Assert.Empty(app.Services.GetRequiredService<EventPipeline>().ActiveEdges);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Root_appsettings_is_valid_json_and_names_every_module()
    {
        var config = DaemonHost.LoadConfiguration(Path.Combine(TestSupport.Corpus.RepositoryRoot, "appsettings.json"));
        foreach (var module in ModuleNames.All)
        {
            Assert.NotNull(config[$"Modules:{module}:Enabled"]);
        }
    }
}
