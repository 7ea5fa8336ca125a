using Ja4.Modules.Core.Options;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.HttpIngest;

/// <summary>Entry point of the HttpIngest module.</summary>
public static class HttpIngestModule
{
    /// <summary>Registers the module when <c>Modules:HttpIngest:Enabled</c> is true; nothing otherwise.</summary>
    public static IServiceCollection AddHttpIngestModule(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.TryAddModuleOptions<HttpIngestOptions, HttpIngestOptionsValidator>(configuration, ModuleNames.HttpIngest))
        {
            return services;
        }
        return services;
    }
}

/// <summary><c>Modules:HttpIngest</c>.</summary>
public sealed class HttpIngestOptions
{
    /// <summary>Switches the module on. Default: false when absent.</summary>
    public bool Enabled { get; set; }
}

internal sealed class HttpIngestOptionsValidator : IValidateOptions<HttpIngestOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpIngestOptions options) => ValidateOptionsResult.Success;
}
