using Ja4.Host;
using Ja4.Modules.Capture;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Configuration;
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
    internal static async Task<IReadOnlyList<string>> StartupProblems(IDictionary<string, string?> settings, string fileJson = "{}")
    {
        var path = WriteConfig(fileJson);
        try
        {
            var merged = new Dictionary<string, string?>(settings);
            merged.TryAdd("Logging:Console:Format", "none");
            merged.TryAdd("Operations:Urls", "http://127.0.0.1:0");
            merged.TryAdd("Modules:Dashboard:Urls", "http://127.0.0.1:0");
            var app = DaemonHost.Build(DaemonHost.LoadConfiguration(path, merged));
            try
            {
                DaemonHost.ValidateOptions(app.Services);
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
            ["Pipeline:Channels:HttpRequests:MaxMb"] = "0",
        });
        Assert.Contains(problems, p => p.Contains("Modules:Capture:Interface"));
        Assert.Contains(problems, p => p.StartsWith("Modules:Capture:SnapLength: "));
        Assert.Contains(problems, p => p.Contains("Modules:Capture:FlowIdleTimeout"));
        Assert.Contains(problems, p => p.Contains("Pipeline:Channels:Handshakes:Capacity"));
        Assert.Contains(problems, p => p.Contains("Pipeline:Channels:NoSuchEdge is not a channel"));
        Assert.Contains(problems, p => p.Contains("Pipeline:Channels:HttpRequests:MaxMb must be between 1 and 65536"));
    }

    [Theory]
    [InlineData("""{ "Modules": { "Capture": { "SnapLenght": 1500 } } }""",
        "Modules:Capture:SnapLenght: not a setting (did you mean Modules:Capture:SnapLength?)")]
    [InlineData("""{ "Modulse": { "Capture": { "Enabled": false, "Interface": "lo" } } }""",
        "Modulse: not a setting (did you mean Modules?)")]
    [InlineData("""{ "Modules": { "Storage": { "ClickHouse": { "ConectionString": "Host=db" } } } }""",
        "Modules:Storage:ClickHouse:ConectionString: not a setting (did you mean Modules:Storage:ClickHouse:ConnectionString?)")]
    [InlineData("""{ "IpFilter": { "Allow": { "office": "10.0.0.0/8" } } }""",
        "IpFilter:Allow:office: not a setting (IpFilter:Allow is a list: its entries are numbered from 0)")]
    [InlineData("""{ "Operations": { "Urls": { "Main": "http://127.0.0.1:0" } } }""",
        "Operations:Urls:Main: not a setting (Operations:Urls takes a single value)")]
    [InlineData("""{ "Logging": { "Consle": { "Format": "none" } } }""",
        "Logging:Consle: not a setting (did you mean Logging:Console?)")]
    [InlineData("""{ "Modules": { "Capture": { "Completely": "wrong" } } }""",
        "Modules:Capture:Completely: not a setting (known under Modules:Capture: Enabled, Interface, Filter, SnapLength, BufferSizeMb, Promiscuous, MaxFlows, MaxHelloBytes, FlowIdleTimeout, MaxTrackedConnections, ConnectionIdleTimeout, Quic, StatsInterval)")]
    public async Task Misspelt_key_in_the_file_stops_start_up_with_one_line(string fileJson, string expected)
    {
        // Each module is off (its options are not even bound), yet the key is reported: the binder alone would ignore it.
        var problems = await StartupProblems(new Dictionary<string, string?>(), fileJson);
        Assert.Equal([expected], problems);
    }

    [Fact]
    public void A_huge_key_is_reported_cut_short()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Modules:Capture:" + new string('x', 100_000)] = "1",
        }).Build();
        var line = Assert.Single(ConfigurationKeys.Unknown(config));
        Assert.Equal($"Modules:Capture:{new string('x', 64)}…: not a setting (known under Modules:Capture: ", line[..(16 + 64 + 1 + 46)]);
        Assert.True(line.Length < 400, $"{line.Length} characters");
    }

    [Fact]
    public async Task Bad_value_stops_start_up_with_one_line_naming_the_key()
    {
        var problems = await StartupProblems(new Dictionary<string, string?>(),
            """{ "Modules": { "Capture": { "Enabled": true, "Interface": "lo", "SnapLength": "large" } } }""");
        var line = Assert.Single(problems);
        Assert.Contains("'Modules:Capture:SnapLength'", line);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public async Task Bad_value_in_the_operations_section_stops_start_up_naming_the_key()
    {
        var problems = await StartupProblems(new Dictionary<string, string?> { ["Operations:TrimStartupCode"] = "sometimes" });
        var line = Assert.Single(problems);
        Assert.Contains("'Operations:TrimStartupCode'", line);
    }

    [Fact]
    public void Open_ended_sections_and_lists_take_their_own_keys()
    {
        var path = WriteConfig("""
            {
              "Pipeline": { "Channels": { "Handshakes": { "Capacity": 1024, "FullMode": "Drop" } } },
              "IpFilter": { "Allow": [ "10.0.0.0/8", "192.0.2.1" ], "Deny": [] },
              "Logging": { "Serilog": { "MinimumLevel": { "Override": { "Ja4.Modules.Capture": "Debug" } },
                                        "WriteTo": [ { "Name": "Console" } ] } },
              "Modules": {
                "Detection": { "RuleWeights": { "any_rule_name": 2.5 } },
                "Dashboard": { "Accounts": [ { "Name": "soc", "PasswordHash": "x" } ] }
              }
            }
            """);
        try
        {
            Assert.Empty(ConfigurationKeys.Unknown(DaemonHost.LoadConfiguration(path)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Environment_variables_are_checked_only_under_the_daemons_sections()
    {
        // A prefix of this test's own, so that no other test's host sees these variables.
        var prefix = $"JA4T{Guid.NewGuid():N}_";
        Environment.SetEnvironmentVariable(prefix + "Modules__Storage__BatchSzie", "1000");
        Environment.SetEnvironmentVariable(prefix + "CHDB_LIBRARY", "/opt/libchdb.so");
        try
        {
            var config = new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build();
            Assert.Equal(["Modules:Storage:BatchSzie: not a setting (did you mean Modules:Storage:BatchSize?)"],
                ConfigurationKeys.Unknown(config));
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "Modules__Storage__BatchSzie", null);
            Environment.SetEnvironmentVariable(prefix + "CHDB_LIBRARY", null);
        }
    }

    [Theory]
    [InlineData("appsettings.json")]
    [InlineData("packaging/etc/installed-overrides.json")]
    public void Shipped_configuration_names_only_real_settings(string file)
    {
        var config = new ConfigurationBuilder().AddJsonFile(Path.Combine(TestSupport.Corpus.RepositoryRoot, file)).Build();
        Assert.Empty(ConfigurationKeys.Unknown(config));
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
