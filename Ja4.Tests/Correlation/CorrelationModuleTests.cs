using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Correlation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ja4.Tests.Correlation;

public sealed class CorrelationModuleTests
{
    private static IConfiguration Config(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => KeyValuePair.Create(p.Key, (string?)p.Value))).Build();

    private static ServiceProvider Build(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddJa4Pipeline(configuration);
        services.AddCorrelationModule(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Disabled_module_registers_nothing()
    {
        var services = new ServiceCollection();
        services.AddCorrelationModule(Config(("Modules:Correlation:Enabled", "false")));
        Assert.Empty(services);
        services.AddCorrelationModule(Config());
        Assert.Empty(services);
    }

    [Fact]
    public void Enabled_module_binds_its_keys_and_registers_the_worker_and_the_ip_filter()
    {
        using var sp = Build(Config(
            ("Modules:Capture:Enabled", "true"),
            ("Modules:HttpIngest:Enabled", "true"),
            ("Modules:Correlation:Enabled", "true"),
            ("Modules:Correlation:HandshakeWait", "00:00:05"),
            ("Modules:Correlation:IdleTimeout", "00:02:00"),
            ("Modules:Correlation:MaxConnections", "1000"),
            ("Modules:Correlation:ClockSkew", "00:00:00.250"),
            ("Modules:Correlation:Sinks:Stdout:Enabled", "true"),
            ("IpFilter:Deny:0", "10.0.0.0/8")));
        var o = sp.GetRequiredService<IOptions<CorrelationOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(5), o.HandshakeWait);
        Assert.Equal(TimeSpan.FromMinutes(2), o.IdleTimeout);
        Assert.Equal(1000, o.MaxConnections);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.ClockSkew);
        Assert.True(o.Sinks.Stdout.Enabled);
        Assert.False(o.Sinks.File.Enabled);
        Assert.IsType<CorrelationWorker>(Assert.Single(sp.GetServices<IHostedService>()));
        var filter = sp.GetRequiredService<IpFilter>();
        Assert.False(filter.Allows(System.Net.IPAddress.Parse("10.2.3.4")));
    }

    [Fact]
    public void Bad_options_fail_with_every_key_named()
    {
        using var sp = Build(Config(
            ("Modules:HttpIngest:Enabled", "true"),
            ("Modules:Correlation:Enabled", "true"),
            ("Modules:Correlation:HandshakeWait", "00:00:00"),
            ("Modules:Correlation:ClockSkew", "-00:00:01"),
            ("Modules:Correlation:MaxConnections", "0"),
            ("Modules:Correlation:Sinks:File:Enabled", "true"),
            ("Modules:Correlation:Sinks:File:Path", ""),
            ("Modules:Correlation:Sinks:File:Keep", "-1")));
        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<CorrelationOptions>>().Value);
        var all = string.Join("\n", e.Failures);
        Assert.Contains("Modules:Correlation:HandshakeWait must be positive", all);
        Assert.Contains("Modules:Correlation:ClockSkew must not be negative", all);
        Assert.Contains("MaxConnections", all);
        Assert.Contains("Modules:Correlation:Sinks:File:Path is required", all);
        Assert.Contains("Modules:Correlation:Sinks:File:Keep must be between 0 and 1000", all);
    }

    [Fact]
    public void Bad_ip_filter_entries_fail_naming_their_key()
    {
        using var sp = Build(Config(
            ("Modules:HttpIngest:Enabled", "true"),
            ("Modules:Correlation:Enabled", "true"),
            ("IpFilter:Allow:0", "10.0.0.0/8"),
            ("IpFilter:Allow:1", "10.0.0/8"),
            ("IpFilter:Deny:0", "2001:db8::/129")));
        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<IpFilterOptions>>().Value);
        Assert.Equal(2, e.Failures.Count());
        Assert.Contains(e.Failures, f => f.StartsWith("IpFilter:Allow:1 (\"10.0.0/8\")", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("IpFilter:Deny:0 (\"2001:db8::/129\")", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_daemon_starts_and_stops_with_correlation_and_the_shipped_appsettings()
    {
        var root = FindRepositoryRoot();
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(root, "appsettings.json"))
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Modules:Capture:Enabled"] = "false",
                ["Modules:Storage:Enabled"] = "false",
                ["Modules:Dashboard:Enabled"] = "false",
                ["Modules:Detection:Enabled"] = "false",
            }).Build();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJa4Pipeline(configuration).AddCorrelationModule(configuration);
        using var host = builder.Build();
        await host.StartAsync();
        var pipeline = host.Services.GetRequiredService<EventPipeline>();
        Assert.True(pipeline.IsActive(Edges.HttpRequests));
        Assert.True(host.Services.GetRequiredService<IpFilter>().IsEmpty);
        await host.StopAsync();
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ja4.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("ja4.sln not found above the test directory");
    }
}
