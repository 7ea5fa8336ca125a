using Ja4.Modules.Core.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Core.Filtering;

public static class IpFilterRegistration
{
    /// <summary>
    /// Registers the shared <see cref="IpFilter"/> bound from the top-level <c>IpFilter</c> section
    /// (validated at start-up). Every module that filters clients calls this; the first call wins,
    /// later ones add nothing. Modules then take <c>IpFilter</c> and call <see cref="IpFilter.For"/>
    /// with their name.
    /// </summary>
    public static IServiceCollection AddJa4IpFilter(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(IpFilter)))
        {
            return services;
        }
        services.AddOptions<IpFilterOptions>().Bind(configuration.GetSection(IpFilterOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IpFilterOptions>, IpFilterOptionsValidator>());
        services.TryAddSingleton<Ja4Metrics>();
        services.AddSingleton(sp => IpFilter.FromOptions(sp.GetRequiredService<IOptions<IpFilterOptions>>().Value,
            sp.GetRequiredService<Ja4Metrics>()));
        return services;
    }
}
