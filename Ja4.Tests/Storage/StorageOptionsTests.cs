using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ja4.Tests.Storage;

public sealed class StorageOptionsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void A_disabled_module_registers_nothing()
    {
        var services = new ServiceCollection();
        services.AddStorageModule(Config(("Modules:Storage:Enabled", "false")));
        Assert.Empty(services);
    }

    [Fact]
    public void Bad_options_fail_with_every_problem_naming_its_key()
    {
        var services = new ServiceCollection();
        services.AddStorageModule(Config(
            ("Modules:Storage:Enabled", "true"),
            ("Modules:Storage:Engine", "ClickHouse"),
            ("Modules:Storage:Database", "ja4; DROP"),
            ("Modules:Storage:ClickHouse:Cluster", "a b"),
            ("Modules:Storage:BatchAge", "00:00:00"),
            ("Modules:Storage:BatchSize", "0"),
            ("Modules:Storage:BatchMaxMb", "2048"),
            ("Modules:Storage:InsertConcurrency", "9"),
            ("Modules:Storage:Retention:HttpLogsDays", "0")));
        using var provider = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StorageOptions>>().Value);
        var all = string.Join("\n", e.Failures);
        Assert.Contains("Modules:Storage:Database must be", all);
        Assert.Contains("Modules:Storage:ClickHouse:ConnectionString is required when Engine=ClickHouse", all);
        Assert.Contains("Modules:Storage:ClickHouse:Cluster must be", all);
        Assert.Contains("Modules:Storage:BatchAge must be between", all);
        Assert.Contains("Modules:Storage:BatchSize must be between 1 and 10000000", all);
        Assert.Contains("Modules:Storage:BatchMaxMb must be between 1 and 1024", all);
        Assert.Contains("Modules:Storage:InsertConcurrency must be between 1 and 8", all);
        Assert.Contains("Modules:Storage:Retention:HttpLogsDays must be between 1 and 36500", all);
        Assert.DoesNotContain("DataAnnotation", all);
    }

    [Fact]
    public void Defaults_are_valid_and_name_the_embedded_engine()
    {
        var services = new ServiceCollection();
        services.AddStorageModule(Config(("Modules:Storage:Enabled", "true")));
        using var provider = services.BuildServiceProvider();
        var o = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
        Assert.Equal((StorageEngineKind.Chdb, "ja4", "./data", 50_000, TimeSpan.FromSeconds(1)), (o.Engine, o.Database, o.DataPath, o.BatchSize, o.BatchAge));
        Assert.Equal(ModuleNames.Storage, "Storage");
    }
}
