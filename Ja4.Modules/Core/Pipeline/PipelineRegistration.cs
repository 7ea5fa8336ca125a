using Ja4.Modules.Core.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Core.Pipeline;

public static class PipelineRegistration
{
    /// <summary>
    /// Registers the metric registry, the <see cref="TimeProvider"/>, the pipeline (its channels
    /// sized from <c>Pipeline:Channels</c>) and the start-up check of the module graph.
    /// </summary>
    /// <param name="services">The container.</param>
    /// <param name="configuration">The daemon's configuration.</param>
    /// <param name="replay">
    /// Replay of recorded files: the capture and HTTP ingest edges exist without their modules (the
    /// replay feeds them), and every edge applies back-pressure instead of dropping, since a file
    /// can wait and nothing read from it may be lost.
    /// </param>
    public static IServiceCollection AddJa4Pipeline(this IServiceCollection services, IConfiguration configuration,
        bool replay = false)
    {
        var enabled = ModuleNames.All.Where(m => ModuleNames.IsEnabled(configuration, m))
            .ToHashSet(StringComparer.Ordinal);
        if (replay)
        {
            enabled.Add(ModuleNames.Capture);
            enabled.Add(ModuleNames.HttpIngest);
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<Ja4Metrics>();
        services.AddOptions<PipelineOptions>().Bind(configuration.GetSection(PipelineOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PipelineOptions>>(new PipelineGraphValidator(enabled));
        services.AddSingleton(sp => new EventPipeline(enabled, sp.GetRequiredService<IOptions<PipelineOptions>>().Value,
            sp.GetRequiredService<Ja4Metrics>(), waitEverywhere: replay));
        return services;
    }
}

/// <summary>
/// Checks the graph of enabled modules and every channel's sizing, reporting all problems at once:
/// an enabled consumer whose producers are all disabled, an unknown channel name, a bad capacity.
/// </summary>
internal sealed class PipelineGraphValidator(IReadOnlySet<string> enabled) : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        var errors = new List<string>();
        foreach (var (edgeName, o) in options.Channels)
        {
            if (!Edges.All.Any(e => string.Equals(e.Name, edgeName, StringComparison.OrdinalIgnoreCase)))
            {
                errors.Add($"Pipeline:Channels:{edgeName} is not a channel (known: {string.Join(", ", Edges.All.Select(e => e.Name))})");
            }
            if (o.Capacity is < 16 or > 16_777_216)
            {
                errors.Add($"Pipeline:Channels:{edgeName}:Capacity must be between 16 and 16777216");
            }
            if (o.MaxMb is < 1 or > 65_536)
            {
                errors.Add($"Pipeline:Channels:{edgeName}:MaxMb must be between 1 and 65536");
            }
        }
        errors.AddRange(GraphErrors(enabled));
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Consumers that would wait forever because no producer of theirs is enabled.</summary>
    internal static IEnumerable<string> GraphErrors(IReadOnlySet<string> enabled)
    {
        // Modules whose only inputs are channels. Storage also serves detection and the dashboard
        // without any producer (an analysis node), so it is not checked here; nor are Detection
        // and Dashboard, which read the store.
        string[] channelOnlyConsumers = [ModuleNames.Correlation];
        foreach (var consumer in channelOnlyConsumers.Where(enabled.Contains))
        {
            var producers = Edges.All.Where(e => e.Consumer == consumer).Select(e => e.Producer).Distinct().ToArray();
            if (!producers.Any(enabled.Contains))
            {
                yield return $"Modules:{consumer}:Enabled is true but none of its producers is enabled " +
                             $"({string.Join(", ", producers.Select(p => $"Modules:{p}:Enabled"))})";
            }
        }
    }
}
