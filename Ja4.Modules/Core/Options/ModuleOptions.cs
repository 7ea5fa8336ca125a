using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Core.Options;

/// <summary>Helpers shared by every module's <c>AddXxxModule</c>.</summary>
public static class ModuleRegistration
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <c>Modules:&lt;module&gt;</c>, validates its
    /// DataAnnotations and the given cross-field validator at start-up. Returns false (and
    /// registers nothing) when the module is disabled.
    /// </summary>
    public static bool TryAddModuleOptions<TOptions, TValidator>(this IServiceCollection services,
        IConfiguration configuration, string module)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        if (!ModuleNames.IsEnabled(configuration, module))
        {
            return false;
        }
        services.AddOptions<TOptions>().Bind(configuration.GetSection(ModuleNames.Section(module)))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return true;
    }
}
