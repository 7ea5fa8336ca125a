using Ja4.Modules.Core.Options;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Correlation;

/// <summary>Entry point of the Correlation module.</summary>
public static class CorrelationModule
{
    /// <summary>Registers the module when <c>Modules:Correlation:Enabled</c> is true; nothing otherwise.</summary>
    public static IServiceCollection AddCorrelationModule(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.TryAddModuleOptions<CorrelationOptions, CorrelationOptionsValidator>(configuration, ModuleNames.Correlation))
        {
            return services;
        }
        return services;
    }
}

/// <summary><c>Modules:Correlation</c>.</summary>
public sealed class CorrelationOptions
{
    /// <summary>Switches the module on. Default: false when absent.</summary>
    public bool Enabled { get; set; }
}

internal sealed class CorrelationOptionsValidator : IValidateOptions<CorrelationOptions>
{
    public ValidateOptionsResult Validate(string? name, CorrelationOptions options) => ValidateOptionsResult.Success;
}
