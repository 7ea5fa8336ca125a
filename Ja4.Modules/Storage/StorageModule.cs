using Ja4.Modules.Core.Options;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Storage;

/// <summary>Entry point of the Storage module.</summary>
public static class StorageModule
{
    /// <summary>Registers the module when <c>Modules:Storage:Enabled</c> is true; nothing otherwise.</summary>
    public static IServiceCollection AddStorageModule(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.TryAddModuleOptions<StorageOptions, StorageOptionsValidator>(configuration, ModuleNames.Storage))
        {
            return services;
        }
        return services;
    }
}

/// <summary><c>Modules:Storage</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>Switches the module on. Default: false when absent.</summary>
    public bool Enabled { get; set; }
}

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options) => ValidateOptionsResult.Success;
}
